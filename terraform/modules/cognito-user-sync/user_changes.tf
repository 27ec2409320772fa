# After sign-up: CloudTrail's Cognito management events, routed by an EventBridge rule to the
# changes queue, consumed by the user-changes function. Only with
# enable_user_changes.

resource "aws_sqs_queue" "changes" {
  count = local.user_changes ? 1 : 0

  name                       = "${var.name_prefix}-changes"
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  kms_master_key_id          = var.kms_key_arn
  message_retention_seconds  = 1209600
  visibility_timeout_seconds = 360 # six times the function's 60 s

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.changes_dead_letter[0].arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

resource "aws_sqs_queue" "changes_dead_letter" {
  count = local.user_changes ? 1 : 0

  name                      = "${var.name_prefix}-changes-dead-letter"
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["${local.queue_arn_prefix}${var.name_prefix}-changes"]
  })

  tags = var.tags
}

locals {
  # Roles that may send to the changes queue besides EventBridge: reconcile's and the operators'.
  changes_sender_roles = concat(aws_iam_role.reconcile[*].arn, var.operator_role_arns)
}

# Senders of changes: EventBridge (for this rule only), the reconcile role and the operators. One
# Deny statement with two negated conditions, ANDed: per the IAM docs, a negated operator whose key
# is absent from the request evaluates to true. EventBridge calls as the service principal
# events.amazonaws.com: aws:PrincipalServiceName is set (StringNotEquals is false, so the Deny does
# not apply) and aws:PrincipalArn is absent. A role has no aws:PrincipalServiceName (StringNotEquals
# is true), so only ArnNotLike decides: a listed role passes, any other is denied. The user-changes
# role is not a sender.
data "aws_iam_policy_document" "changes_queue" {
  count = local.user_changes ? 1 : 0

  statement {
    sid       = "CognitoEventsFromTheRule"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.changes[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.user_changes[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.reconcile ? [1] : []

    content {
      sid       = "RepairsFromReconcile"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.changes[0].arn]

      principals {
        type        = "AWS"
        identifiers = [aws_iam_role.reconcile[0].arn]
      }
    }
  }

  statement {
    sid       = "OnlyTheRuleAndOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.changes[0].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "aws:PrincipalServiceName"
      values   = ["events.amazonaws.com"]
    }

    dynamic "condition" {
      for_each = length(local.changes_sender_roles) > 0 ? [1] : []

      content {
        test     = "ArnNotLike"
        variable = "aws:PrincipalArn"
        values   = local.changes_sender_roles
      }
    }
  }
}

resource "aws_sqs_queue_policy" "changes" {
  count = local.user_changes ? 1 : 0

  queue_url = aws_sqs_queue.changes[0].id
  policy    = data.aws_iam_policy_document.changes_queue[0].json
}

# Only the user-changes function dead-letters a change, with its own role; no command sends here
# (queues.tf, the dead-letter queue's policy).
data "aws_iam_policy_document" "changes_dead_letter_queue" {
  count = local.user_changes ? 1 : 0

  statement {
    sid       = "OnlyOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.changes_dead_letter[0].arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.user_changes[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "changes_dead_letter" {
  count = local.user_changes ? 1 : 0

  queue_url = aws_sqs_queue.changes_dead_letter[0].id
  policy    = data.aws_iam_policy_document.changes_dead_letter_queue[0].json
}

# The pattern and the research behind it: events/README.md. Admin* calls name the pool in
# requestParameters.userPoolId; the four calls made with a user's access token carry no pool id
# anywhere in CloudTrail, so they match by name alone and the function checks the user against its
# own pool (AdminGetUser by sub). Failed calls (errorCode present) change nothing.
resource "aws_cloudwatch_event_rule" "user_changes" {
  count = local.user_changes ? 1 : 0

  name        = local.user_changes_name
  description = "Cognito user changes (CloudTrail management events) to the user-changes queue."
  state       = "ENABLED"

  event_pattern = jsonencode({
    source        = ["aws.cognito-idp"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["cognito-idp.amazonaws.com"]
      errorCode   = [{ exists = false }]
      "$or" = [
        {
          eventName = [
            "AdminCreateUser",
            "AdminUpdateUserAttributes",
            "AdminDeleteUserAttributes",
            "AdminDisableUser",
            "AdminEnableUser",
            "AdminDeleteUser",
          ]
          requestParameters = { userPoolId = [local.user_pool_id] }
        },
        { eventName = ["UpdateUserAttributes", "VerifyUserAttribute", "DeleteUserAttributes", "DeleteUser"] },
      ]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "changes_queue" {
  count = local.user_changes ? 1 : 0

  rule      = aws_cloudwatch_event_rule.user_changes[0].name
  target_id = "changes-queue"
  arn       = aws_sqs_queue.changes[0].arn
}

resource "aws_cloudwatch_log_group" "user_changes" {
  count = local.user_changes ? 1 : 0

  name              = "/aws/lambda/${local.user_changes_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "user_changes" {
  count = local.user_changes ? 1 : 0

  function_name                  = local.user_changes_name
  description                    = "Writes each changed Cognito user's current state to the User Service."
  filename                       = local.code_from_s3 ? null : var.user_changes_zip
  s3_bucket                      = var.s3_bucket
  s3_key                         = local.code_from_s3 ? var.user_changes_s3_key : null
  source_code_hash               = local.code_hash.user_changes
  handler                        = "index.handler"
  runtime                        = "nodejs22.x"
  architectures                  = ["arm64"]
  memory_size                    = var.user_changes_memory_size
  timeout                        = 60
  reserved_concurrent_executions = var.user_changes_reserved_concurrency
  role                           = aws_iam_role.user_changes[0].arn

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.user_changes[0].name
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
      USER_POOL_ID                  = local.user_pool_id
      CHANGES_QUEUE_URL             = aws_sqs_queue.changes[0].url
      CHANGES_DEAD_LETTER_QUEUE_URL = aws_sqs_queue.changes_dead_letter[0].url
    })
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.code_given.user_changes
      error_message = "enable_user_changes needs user_changes_zip, or s3_bucket and user_changes_s3_key."
    }
  }

  depends_on = [aws_iam_role_policy.user_changes]
}

resource "aws_lambda_event_source_mapping" "changes_queue" {
  count = local.user_changes ? 1 : 0

  event_source_arn        = aws_sqs_queue.changes[0].arn
  function_name           = aws_lambda_function.user_changes[0].arn
  batch_size              = 10
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.user_changes_maximum_concurrency
  }
}

resource "aws_iam_role" "user_changes" {
  count = local.user_changes ? 1 : 0

  name                 = local.user_changes_name
  description          = "Runs the cognito-user-sync user-changes function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "user_changes" {
  count = local.user_changes ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.shared.json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.user_changes[0].arn}:*"]
  }

  # X-Ray has no resource-level permissions: "*" is the only resource it accepts.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid = "ConsumeChangesQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.changes[0].arn]
  }

  statement {
    sid       = "DeadLetterChanges"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.changes_dead_letter[0].arn]
  }

  # The user's current state: AdminGetUser by sub (local users), ListUsers with a sub filter
  # (federated users), in this pool only.
  statement {
    sid       = "ReadPoolUsers"
    actions   = ["cognito-idp:AdminGetUser", "cognito-idp:ListUsers"]
    resources = [local.user_pool_arn]
  }
}

resource "aws_iam_role_policy" "user_changes" {
  count = local.user_changes ? 1 : 0

  name   = "user-changes"
  role   = aws_iam_role.user_changes[0].id
  policy = data.aws_iam_policy_document.user_changes[0].json
}
