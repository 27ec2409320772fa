# The functions inside your VPC (to reach a User Service that is only reachable there), and a
# customer-managed KMS key for the queues, the log groups and reconcile's run ledger, with the key
# policy that CloudWatch Logs and EventBridge need. The subnets need a route to SQS, Secrets Manager and Cognito (VPC
# endpoints or a NAT): see docs/deploy.md.

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

data "aws_iam_policy_document" "key" {
  # The account administers the key with IAM policies, as with a key made in the console.
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts the functions' log groups with it, only theirs.
  statement {
    sid       = "LogsEncryptTheFunctionsLogGroups"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${var.name_prefix}-*"]
    }
  }

  # EventBridge sends Cognito's events to the encrypted changes queue: only for this rule.
  statement {
    sid       = "EventBridgeSendsToTheChangesQueue"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:events:${var.region}:${local.account_id}:rule/${var.name_prefix}-user-changes"]
    }
  }
}

resource "aws_kms_key" "this" {
  description         = "cognito-user-sync (${var.name_prefix}): queues and log groups"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}

module "cognito_user_sync" {
  source = "../../modules/cognito-user-sync"

  name_prefix         = var.name_prefix
  user_service_url    = var.user_service_url
  api_key_secret_arn  = var.api_key_secret_arn
  signing_secret_arn  = var.signing_secret_arn
  user_pool_id        = var.user_pool_id
  alarm_sns_topic_arn = var.alarm_sns_topic_arn
  operator_role_arns  = var.operator_role_arns

  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  kms_key_arn        = aws_kms_key.this.arn

  post_confirmation_zip = "${path.module}/../../../dist/post-confirmation.zip"
  retry_worker_zip      = "${path.module}/../../../dist/retry-worker.zip"
  user_changes_zip      = "${path.module}/../../../dist/user-changes.zip"
  reconcile_zip         = "${path.module}/../../../dist/reconcile.zip"

  tags = { Project = "cognito-user-sync" }
}
