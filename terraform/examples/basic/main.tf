# A complete deployment from the zips that `npm run package` leaves in dist/: the post-confirmation
# trigger, the retry worker, the user-changes function with its EventBridge rule (and, with
# create_trail, the CloudTrail trail it needs), the daily reconcile, the queues, the dashboard, the
# alarms and saved queries, and a new user pool with the trigger set, unless an existing pool's id
# is given.

provider "aws" {
  region = var.region
}

module "cognito_user_sync" {
  source = "../../modules/cognito-user-sync"

  name_prefix        = var.name_prefix
  user_service_url   = var.user_service_url
  api_key_secret_arn = var.api_key_secret_arn
  signing_secret_arn = var.signing_secret_arn
  user_pool_id       = var.user_pool_id
  # An example is made to be torn down; keep the module's default (true) for a pool with real users.
  user_pool_deletion_protection    = false
  alarm_sns_topic_arn              = var.alarm_sns_topic_arn
  log_retention_days               = var.log_retention_days
  sync_deadline_ms                 = var.sync_deadline_ms
  retry_worker_maximum_concurrency = var.retry_worker_maximum_concurrency
  max_receive_count                = var.max_receive_count
  enable_user_changes              = var.enable_user_changes
  create_trail                     = var.create_trail
  operator_role_arns               = var.operator_role_arns
  reconcile_schedule               = var.reconcile_schedule
  runbook_url                      = var.runbook_url

  post_confirmation_zip = "${path.module}/../../../dist/post-confirmation.zip"
  retry_worker_zip      = "${path.module}/../../../dist/retry-worker.zip"
  user_changes_zip      = "${path.module}/../../../dist/user-changes.zip"
  reconcile_zip         = "${path.module}/../../../dist/reconcile.zip"

  tags = { Project = "cognito-user-sync" }
}
