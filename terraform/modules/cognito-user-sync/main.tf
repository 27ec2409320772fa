# cognito-user-sync: the Cognito post-confirmation trigger, the retry worker behind its retry queue,
# the user-changes function fed by Cognito's CloudTrail events, a daily reconcile (on by default),
# the queues, a dashboard, alarms that say what to do, and saved Logs Insights queries; the same
# deployment as template.yaml (SAM).

# Cross-variable checks ride on a data source (Terraform before 1.9 cannot compare variables in a
# validation block).
data "aws_caller_identity" "current" {
  lifecycle {
    precondition {
      condition     = var.reconcile_schedule == null || var.enable_user_changes
      error_message = "reconcile_schedule needs enable_user_changes: a scheduled reconcile hands its repairs to the user-changes function. Set reconcile_schedule = null too (reconcile is on by default)."
    }
    precondition {
      condition     = length(var.subnet_ids) == 0 || length(var.security_group_ids) > 0
      error_message = "subnet_ids needs security_group_ids for the functions' network interfaces."
    }
    # A consumer's reserved concurrency below its event source's maximum concurrency throttles the
    # invocations the event source starts, and each throttled batch goes back to its queue as a
    # failed receive ("Configuring scaling behavior for SQS event source mappings").
    precondition {
      condition     = var.retry_worker_reserved_concurrency == null || coalesce(var.retry_worker_reserved_concurrency, 0) >= var.retry_worker_maximum_concurrency
      error_message = "retry_worker_reserved_concurrency must be at least retry_worker_maximum_concurrency (${var.retry_worker_maximum_concurrency}), or null: below it, Lambda throttles what the retry queue's event source starts."
    }
    precondition {
      condition     = !var.enable_user_changes || var.user_changes_reserved_concurrency == null || coalesce(var.user_changes_reserved_concurrency, 0) >= var.user_changes_maximum_concurrency
      error_message = "user_changes_reserved_concurrency must be at least user_changes_maximum_concurrency (${var.user_changes_maximum_concurrency}), or null: below it, Lambda throttles what the changes queue's event source starts."
    }
    precondition {
      condition     = var.reconcile_reserved_concurrency == null || coalesce(var.reconcile_reserved_concurrency, 0) >= 2
      error_message = "reconcile_reserved_concurrency must be at least 2 (the reconcile queue's maximum concurrency), or null."
    }
  }
}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # The code emits its metrics here (Powertools, from the functions' environment); the dashboard
  # and alarms read them back, so both come from these two values.
  metrics_namespace = "CognitoUserSync"
  service_name      = var.name_prefix # the metrics' `service` dimension: one per deployment

  post_confirmation_name = "${var.name_prefix}-post-confirmation"
  retry_worker_name      = "${var.name_prefix}-retry-worker"
  user_changes_name      = "${var.name_prefix}-user-changes"
  reconcile_name         = "${var.name_prefix}-reconcile"

  # The optional parts, both on by default: user changes, and the scheduled reconcile, which hands
  # its repairs to the user-changes function and so needs it.
  user_changes = var.enable_user_changes
  reconcile    = var.enable_user_changes && var.reconcile_schedule != null

  create_user_pool = var.user_pool_id == null
  user_pool_id     = local.create_user_pool ? aws_cognito_user_pool.this[0].id : var.user_pool_id
  user_pool_arn = (
    local.create_user_pool
    ? aws_cognito_user_pool.this[0].arn
    : "arn:${local.partition}:cognito-idp:${local.region}:${local.account_id}:userpool/${var.user_pool_id}"
  )

  # A queue's ARN from its name, where a reference would make two queues depend on each other.
  queue_arn_prefix = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:"

  secret_arns = compact([
    var.api_key_secret_arn == null ? "" : var.api_key_secret_arn,
    var.signing_secret_arn == null ? "" : var.signing_secret_arn,
  ])

  code_from_s3 = var.s3_bucket != null
  in_vpc       = length(var.subnet_ids) > 0

  # Every function reads the User Service's configuration and the defaults of a created user; an
  # empty variable counts as unset.
  common_environment = {
    USER_SERVICE_URL               = var.user_service_url
    USER_SERVICE_API_KEY_SECRET_ID = var.api_key_secret_arn == null ? "" : var.api_key_secret_arn
    USER_SERVICE_SIGNING_SECRET_ID = var.signing_secret_arn == null ? "" : var.signing_secret_arn
    USER_SERVICE_TIMEOUT_MS        = var.user_service_timeout_ms == null ? "" : tostring(var.user_service_timeout_ms)
    DEFAULT_USER_STATUS            = var.default_user_status
    DEFAULT_USER_ROLE              = var.default_user_role
    POWERTOOLS_SERVICE_NAME        = local.service_name
    POWERTOOLS_METRICS_NAMESPACE   = local.metrics_namespace
    POWERTOOLS_LOG_LEVEL           = var.log_level
    # No NODE_OPTIONS=--enable-source-maps: it costs every cold start ~6 MiB and several ms; a
    # logged error's frames are mapped from index.mjs.map when it is logged.
  }

  # The rest of the user policy, for the functions that decide which users belong in the service:
  # the trigger, user changes and reconcile (not the retry worker, which retries what the trigger
  # decided to create).
  user_policy_environment = {
    SYNC_USER_STATUSES   = join(",", var.sync_user_statuses)
    DISABLED_USER_STATUS = var.disabled_user_status
  }

  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}
