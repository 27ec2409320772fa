# Serving a user pool that exists already (created elsewhere, with its users): the trigger's Lambda
# permission, the user-changes function and its rule, and a daily reconcile that finds and repairs
# what the events missed. The pool itself is not managed here: wire its PostConfirmation trigger as
# docs/deploy.md says, then backfill it once.

provider "aws" {
  region = var.region
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

  reconcile_schedule    = var.reconcile_schedule
  reconcile_max_rps     = var.reconcile_max_rps
  reconcile_max_deletes = var.reconcile_max_deletes

  post_confirmation_zip = "${path.module}/../../../dist/post-confirmation.zip"
  retry_worker_zip      = "${path.module}/../../../dist/retry-worker.zip"
  user_changes_zip      = "${path.module}/../../../dist/user-changes.zip"
  reconcile_zip         = "${path.module}/../../../dist/reconcile.zip"

  tags = { Project = "cognito-user-sync" }
}
