resource "aws_cloudwatch_log_group" "post_confirmation" {
  name              = "/aws/lambda/${local.post_confirmation_name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "post_confirmation" {
  function_name    = local.post_confirmation_name
  description      = "Creates each confirmed Cognito user in the User Service; never blocks sign-up."
  filename         = var.post_confirmation_zip
  source_code_hash = filebase64sha256(var.post_confirmation_zip)
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = 256
  timeout          = 5
  role             = aws_iam_role.post_confirmation.arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.post_confirmation.name
  }

  environment {
    variables = merge(local.common_environment, {
      SYNC_DEADLINE_MS = tostring(var.sync_deadline_ms)
    })
  }

  tags = var.tags

  # The function must not run before it may write its logs and traces.
  depends_on = [aws_iam_role_policy.post_confirmation]
}

# Cognito may invoke the function only for this account's pool.
resource "aws_lambda_permission" "cognito" {
  statement_id   = "AllowCognitoPostConfirmation"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.post_confirmation.function_name
  principal      = "cognito-idp.amazonaws.com"
  source_account = data.aws_caller_identity.current.account_id
  source_arn     = local.user_pool_arn
}

resource "aws_cloudwatch_log_group" "retry_worker" {
  name              = "/aws/lambda/${local.retry_worker_name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_lambda_function" "retry_worker" {
  function_name    = local.retry_worker_name
  description      = "Retries the users queued by the post-confirmation function, with backoff; dead-letters the rest."
  filename         = var.retry_worker_zip
  source_code_hash = filebase64sha256(var.retry_worker_zip)
  handler          = "index.handler"
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  memory_size      = 256
  timeout          = 30
  role             = aws_iam_role.retry_worker.arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.retry_worker.name
  }

  environment {
    variables = local.common_environment
  }

  tags = var.tags

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
