data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The User Service's secrets and the KMS key, each only when given: every role's, and the
# operators' (operator.tf).
data "aws_iam_policy_document" "secrets_and_key" {
  dynamic "statement" {
    for_each = length(local.secret_arns) > 0 ? [1] : []

    content {
      sid       = "ReadUserServiceSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secret_arns
    }
  }

  # A customer-managed key: the queues (send: GenerateDataKey and Decrypt; receive: Decrypt) and
  # the secrets when they use it, and only through those services.
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [1]

    content {
      sid       = "UseKmsKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
      }
    }
  }
}

# What every role gets besides its own statements: the secrets and the key as above, and the VPC
# when given.
data "aws_iam_policy_document" "shared" {
  source_policy_documents = [data.aws_iam_policy_document.secrets_and_key.json]

  # In a VPC, Lambda creates the function's network interfaces with its role. These are the EC2
  # actions of the AWS-managed AWSLambdaVPCAccessExecutionRole, without its logs permissions on every
  # log group; Describe* takes no resource but "*", and Lambda picks the interfaces it creates and
  # deletes.
  dynamic "statement" {
    for_each = local.in_vpc ? [1] : []

    content {
      sid = "ManageNetworkInterfaces"
      actions = [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role" "post_confirmation" {
  name                 = local.post_confirmation_name
  description          = "Runs the cognito-user-sync post-confirmation function."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "post_confirmation" {
  source_policy_documents = [data.aws_iam_policy_document.shared.json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.post_confirmation.arn}:*"]
  }

  # X-Ray has no resource-level permissions: "*" is the only resource it accepts.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "QueueUnsyncedUsers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.retry.arn, aws_sqs_queue.dead_letter.arn]
  }
}

resource "aws_iam_role_policy" "post_confirmation" {
  name   = "post-confirmation"
  role   = aws_iam_role.post_confirmation.id
  policy = data.aws_iam_policy_document.post_confirmation.json
}

resource "aws_iam_role" "retry_worker" {
  name                 = local.retry_worker_name
  description          = "Runs the cognito-user-sync retry worker."
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume_role.json
  permissions_boundary = var.permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "retry_worker" {
  source_policy_documents = [data.aws_iam_policy_document.shared.json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.retry_worker.arn}:*"]
  }

  # X-Ray has no resource-level permissions: "*" is the only resource it accepts.
  statement {
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  # The event source polls with the function's role; the worker itself defers and deletes messages.
  statement {
    sid = "ConsumeRetryQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.retry.arn]
  }

  statement {
    sid       = "DeadLetterRejectedUsers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }

  # Before it creates a queued user, the worker asks whether the pool still has them (AdminGetUser
  # by sub, ListUsers with a sub filter for a federated user), so a user deleted while queued is not
  # brought back. Both actions take the userpool resource (Service Authorization Reference,
  # "Actions, resources, and condition keys for Amazon Cognito User Pools").
  statement {
    sid       = "ReadPool"
    actions   = ["cognito-idp:AdminGetUser", "cognito-idp:ListUsers"]
    resources = [local.user_pool_arn]
  }
}

resource "aws_iam_role_policy" "retry_worker" {
  name   = "retry-worker"
  role   = aws_iam_role.retry_worker.id
  policy = data.aws_iam_policy_document.retry_worker.json
}
