# Where each function's code comes from: a local zip (its hash decides whether the function is
# updated), or an object in s3_bucket (updated when its key changes).
locals {
  code = {
    post_confirmation = { zip = var.post_confirmation_zip, s3_key = var.post_confirmation_s3_key }
    retry_worker      = { zip = var.retry_worker_zip, s3_key = var.retry_worker_s3_key }
    user_changes      = { zip = var.user_changes_zip, s3_key = var.user_changes_s3_key }
    reconcile         = { zip = var.reconcile_zip, s3_key = var.reconcile_s3_key }
  }
  code_given = { for name, code in local.code : name => local.code_from_s3 ? code.s3_key != null : code.zip != null }
  code_hash = {
    for name, code in local.code : name => (
      local.code_from_s3 || code.zip == null ? null : filebase64sha256(coalesce(code.zip, "-"))
    )
  }
}

resource "aws_cloudwatch_log_group" "post_confirmation" {
  name              = "/aws/lambda/${local.post_confirmation_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "post_confirmation" {
  function_name                  = local.post_confirmation_name
  description                    = "Creates each confirmed Cognito user in the User Service; never blocks sign-up."
  filename                       = local.code_from_s3 ? null : var.post_confirmation_zip
  s3_bucket                      = var.s3_bucket
  s3_key                         = local.code_from_s3 ? var.post_confirmation_s3_key : null
  source_code_hash               = local.code_hash.post_confirmation
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = ["arm64"]
  memory_size                    = var.post_confirmation_memory_size
  timeout                        = 5
  reserved_concurrent_executions = var.post_confirmation_reserved_concurrency
  role                           = aws_iam_role.post_confirmation.arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.post_confirmation.name
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  # The one user policy, applied at sign-up too: a status left out (EXTERNAL_PROVIDER, to keep
  # federated users out) is not created by the trigger, only to be deleted by reconcile.
  environment {
    variables = merge(local.common_environment, local.user_policy_environment, {
      RETRY_QUEUE_URL       = aws_sqs_queue.retry.url
      DEAD_LETTER_QUEUE_URL = aws_sqs_queue.dead_letter.url
      SYNC_DEADLINE_MS      = tostring(var.sync_deadline_ms)
    })
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.code_given.post_confirmation
      error_message = "Give post_confirmation_zip, or s3_bucket and post_confirmation_s3_key."
    }
  }

  # The function must not run before it may write its logs and traces.
  depends_on = [aws_iam_role_policy.post_confirmation]
}

# Cognito may invoke the function only for this account's pool.
resource "aws_lambda_permission" "cognito" {
  statement_id   = "AllowCognitoPostConfirmation"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.post_confirmation.function_name
  principal      = "cognito-idp.amazonaws.com"
  source_account = local.account_id
  source_arn     = local.user_pool_arn
}

resource "aws_cloudwatch_log_group" "retry_worker" {
  name              = "/aws/lambda/${local.retry_worker_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "retry_worker" {
  function_name                  = local.retry_worker_name
  description                    = "Retries the users queued by the post-confirmation function, with backoff; dead-letters the rest."
  filename                       = local.code_from_s3 ? null : var.retry_worker_zip
  s3_bucket                      = var.s3_bucket
  s3_key                         = local.code_from_s3 ? var.retry_worker_s3_key : null
  source_code_hash               = local.code_hash.retry_worker
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = ["arm64"]
  memory_size                    = var.retry_worker_memory_size
  timeout                        = 30
  reserved_concurrent_executions = var.retry_worker_reserved_concurrency
  role                           = aws_iam_role.retry_worker.arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.retry_worker.name
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  environment {
    variables = merge(local.common_environment, {
      RETRY_QUEUE_URL       = aws_sqs_queue.retry.url
      DEAD_LETTER_QUEUE_URL = aws_sqs_queue.dead_letter.url
    })
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.code_given.retry_worker
      error_message = "Give retry_worker_zip, or s3_bucket and retry_worker_s3_key."
    }
  }

  depends_on = [aws_iam_role_policy.retry_worker]
}

resource "aws_lambda_event_source_mapping" "retry_queue" {
  event_source_arn        = aws_sqs_queue.retry.arn
  function_name           = aws_lambda_function.retry_worker.arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.retry_worker_maximum_concurrency
  }
}
