# The retry queue and its dead-letter queue. Both hold users' PII, hence encryption (SQS-managed,
# or the given KMS key). The worker defers a message by changing its visibility (up to 12 h); the
# queue's own timeout only covers one processing attempt and must be at least six times the
# worker's timeout, as AWS advises for event sources.

resource "aws_sqs_queue" "retry" {
  name                       = "${var.name_prefix}-retry"
  sqs_managed_sse_enabled    = var.kms_key_arn == null ? true : null
  kms_master_key_id          = var.kms_key_arn
  message_retention_seconds  = 1209600
  visibility_timeout_seconds = 180
  delay_seconds              = 30

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

# Only the retry queue may use it as its dead-letter queue (its ARN spelled out: a reference would
# make the two queues depend on each other).
resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name_prefix}-dead-letter"
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = ["${local.queue_arn_prefix}${var.name_prefix}-retry"]
  })

  tags = var.tags
}

# Who may put users on the queues. An explicit Deny in a queue policy wins over any Allow in an
# identity policy, so only the listed roles can send, whatever else the account grants. It does not
# get in the way of SQS itself: the redrive after maxReceiveCount is SQS moving the message, not a
# SendMessage call; a message move task (`cognito-user-sync replay`) sends with the permissions of
# the principal that started it, an operator listed in operator_role_arns. aws:PrincipalArn of an
# assumed role is the role's ARN, not the session's.
data "aws_iam_policy_document" "retry_queue" {
  statement {
    sid       = "OnlyOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.retry.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = concat([aws_iam_role.post_confirmation.arn], var.operator_role_arns)
    }
  }
}

resource "aws_sqs_queue_policy" "retry" {
  queue_url = aws_sqs_queue.retry.id
  policy    = data.aws_iam_policy_document.retry_queue.json
}

# Only the functions dead-letter, each with its own role. No command sends to a dead-letter queue
# (replay sends to the retry or changes queue; status receives), so no operator either: a move task
# out of a dead-letter queue needs only its destination's SendMessage (SQS Developer Guide,
# "Configure queue permissions for dead-letter queue redrive").
data "aws_iam_policy_document" "dead_letter_queue" {
  statement {
    sid       = "OnlyOwnRolesSend"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotLike"
      variable = "aws:PrincipalArn"
      values   = [aws_iam_role.post_confirmation.arn, aws_iam_role.retry_worker.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter_queue.json
}
