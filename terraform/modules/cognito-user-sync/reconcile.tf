# The scheduled reconcile, only with reconcile_schedule: the schedule starts a run;
# each invocation pages on and hands its position to the next through the reconcile queue; the
# repairs go to the changes queue, for the user-changes function.

resource "aws_sqs_queue" "reconcile" {
  count = local.reconcile ? 1 : 0

  name                       = "${var.name_prefix}-reconcile"
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  kms_master_key_id          = var.kms_key_arn
  message_retention_seconds  = 1209600
  visibility_timeout_seconds = 5400 # six times the function's 900 s

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.reconcile_dead_letter[0].arn
    maxReceiveCount     = 3
  })

  tags = var.tags
}

resource "aws_sqs_queue" "reconcile_dead_letter" {
  count = local.reconcile ? 1 : 0

  name                      = "${var.name_prefix}-reconcile-dead-letter"
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["${local.queue_arn_prefix}${var.name_prefix}-reconcile"]
  })

  tags = var.tags
}

# A position names a run and a slice, and the run ledger decides what it may do; still, only the
# reconcile role hands a run on: the same explicit Deny as on the other queues (queues.tf), with
# no operator, as no command sends to this queue.
data "aws_iam_policy_document" "reconcile_queue" {
  count = local.reconcile ? 1 : 0

  statement {
    sid       = "OnlyOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.reconcile[0].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.reconcile[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "reconcile" {
  count = local.reconcile ? 1 : 0

  queue_url = aws_sqs_queue.reconcile[0].id
  policy    = data.aws_iam_policy_document.reconcile_queue[0].json
}

data "aws_iam_policy_document" "reconcile_dead_letter_queue" {
  count = local.reconcile ? 1 : 0

  statement {
    sid       = "OnlyOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.reconcile_dead_letter[0].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.reconcile[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "reconcile_dead_letter" {
  count = local.reconcile ? 1 : 0

  queue_url = aws_sqs_queue.reconcile_dead_letter[0].id
  policy    = data.aws_iam_policy_document.reconcile_dead_letter_queue[0].json
}

# The run ledger (src/clients/run-ledger.ts): one item per pool holding the run in hand, its
# deletion budget and the lease of the one invocation working on it, every write conditional. A
# few writes an invocation: on demand (BillingMode PAY_PER_REQUEST, DynamoDB API Reference,
# "CreateTable"). Items expire 30 days after their last write through the TTL attribute expiresAt,
# epoch seconds (DynamoDB Developer Guide, "Time to Live (TTL)"). With kms_key_arn, encrypted with
# that key (SSESpecification Enabled, KMSMasterKeyId: DynamoDB API Reference, "SSESpecification");
# without, DynamoDB encrypts with an AWS owned key, its default. It holds run state, not users:
# destroyed with the module, as the queues are.
resource "aws_dynamodb_table" "reconcile" {
  count = local.reconcile ? 1 : 0

  name         = "${var.name_prefix}-reconcile-runs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "userPoolId"

  attribute {
    name = "userPoolId"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  dynamic "server_side_encryption" {
    for_each = var.kms_key_arn == null ? [] : [1]

    content {
      enabled     = true
      kms_key_arn = var.kms_key_arn
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "reconcile" {
  count = local.reconcile ? 1 : 0

  name              = "/aws/lambda/${local.reconcile_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "reconcile" {
  count = local.reconcile ? 1 : 0

  function_name                  = local.reconcile_name
  description                    = "Compares the user pool with the User Service, a page at a time, and queues the repairs."
  filename                       = local.code_from_s3 ? null : var.reconcile_zip
  s3_bucket                      = var.s3_bucket
  s3_key                         = local.code_from_s3 ? var.reconcile_s3_key : null
  source_code_hash               = local.code_hash.reconcile
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = ["arm64"]
  memory_size                    = var.reconcile_memory_size
  timeout                        = 900
  reserved_concurrent_executions = var.reconcile_reserved_concurrency
  role                           = aws_iam_role.reconcile[0].arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.reconcile[0].name
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [1] : []

    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }

  environment {
    variables = merge(local.common_environment, local.user_policy_environment, {
      USER_POOL_ID          = local.user_pool_id
      RECONCILE_QUEUE_URL   = aws_sqs_queue.reconcile[0].url
      RECONCILE_TABLE_NAME  = aws_dynamodb_table.reconcile[0].name
      CHANGES_QUEUE_URL     = aws_sqs_queue.changes[0].url
      RECONCILE_MAX_RPS     = tostring(var.reconcile_max_rps)
      RECONCILE_MAX_DELETES = tostring(var.reconcile_max_deletes)
    })
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.code_given.reconcile
      error_message = "reconcile_schedule needs reconcile_zip, or s3_bucket and reconcile_s3_key."
    }
  }

  depends_on = [aws_iam_role_policy.reconcile]
}

# A run hands its position from one invocation to the next through this queue, one message at a
# time.
resource "aws_lambda_event_source_mapping" "reconcile_queue" {
  count = local.reconcile ? 1 : 0

  event_source_arn = aws_sqs_queue.reconcile[0].arn
  function_name    = aws_lambda_function.reconcile[0].arn
  batch_size       = 1

  scaling_config {
    maximum_concurrency = 2
  }
}

# The schedule invokes reconcile asynchronously. Left alone, Lambda retries a failed start twice and
# keeps an event (a throttled one too) up to six hours (Lambda Developer Guide, "How Lambda handles
# errors and retries with asynchronous invocation"; "Configuring error handling settings for Lambda
# asynchronous invocations"). Said here on purpose: two retries (a start older than the run in hand
# is ignored, so a retry is harmless), and a start not begun within the hour dropped, as the next
# scheduled one starts afresh.
resource "aws_lambda_function_event_invoke_config" "reconcile" {
  count = local.reconcile ? 1 : 0

  function_name                = aws_lambda_function.reconcile[0].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}

resource "aws_cloudwatch_event_rule" "reconcile" {
  count = local.reconcile ? 1 : 0

  name                = local.reconcile_name
  description         = "Starts a cognito-user-sync reconcile run."
  schedule_expression = var.reconcile_schedule

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "reconcile" {
  count = local.reconcile ? 1 : 0

  rule      = aws_cloudwatch_event_rule.reconcile[0].name
  target_id = "reconcile-function"
  arn       = aws_lambda_function.reconcile[0].arn
}

# EventBridge may invoke the function only for this schedule.
resource "aws_lambda_permission" "reconcile_schedule" {
  count = local.reconcile ? 1 : 0

  statement_id  = "AllowReconcileSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.reconcile[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconcile[0].arn
}

resource "aws_iam_role" "reconcile" {
  count = local.reconcile ? 1 : 0

  name                 = local.reconcile_name
  description          = "Runs the cognito-user-sync scheduled reconcile."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

# The key through DynamoDB too: the run ledger is encrypted with it, and DynamoDB uses it on the
# caller's behalf, by way of dynamodb.<region>.amazonaws.com (AWS KMS Developer Guide, "How Amazon
# DynamoDB uses AWS KMS"; "kms:ViaService"). It takes the place of the shared UseKmsKey statement.
data "aws_iam_policy_document" "reconcile_key" {
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]

    content {
      sid       = "UseKmsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values = [
          "sqs.${local.region}.amazonaws.com",
          "secretsmanager.${local.region}.amazonaws.com",
          "dynamodb.${local.region}.amazonaws.com",
        ]
      }
    }
  }
}

data "aws_iam_policy_document" "reconcile" {
  count = local.reconcile ? 1 : 0

  source_policy_documents   = [data.aws_iam_policy_document.shared.json]
  override_policy_documents = [data.aws_iam_policy_document.reconcile_key.json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.reconcile[0].arn}:*"]
  }

  # X-Ray has no resource-level permissions: "*" is the only resource it accepts.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadPool"
    actions   = ["cognito-idp:ListUsers", "cognito-idp:AdminGetUser", "cognito-idp:DescribeUserPool"]
    resources = [local.user_pool_arn]
  }

  statement {
    sid = "ConsumeReconcileQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.reconcile[0].arn]
  }

  # The run's next position to its own queue; the repairs to the user-changes function.
  statement {
    sid       = "SendRunStepsAndRepairs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.reconcile[0].arn, aws_sqs_queue.changes[0].arn]
  }

  # The run ledger: the three calls src/clients/run-ledger.ts makes, on its table only (each takes
  # the table resource: Service Authorization Reference, "Actions, resources, and condition keys
  # for Amazon DynamoDB").
  statement {
    sid       = "KeepRunLedger"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.reconcile[0].arn]
  }
}

resource "aws_iam_role_policy" "reconcile" {
  count = local.reconcile ? 1 : 0

  name   = "reconcile"
  role   = aws_iam_role.reconcile[0].id
  policy = data.aws_iam_policy_document.reconcile[0].json
}
