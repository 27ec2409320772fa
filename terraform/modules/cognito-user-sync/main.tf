# cognito-user-sync: the Cognito post-confirmation trigger, the retry worker behind its retry queue,
# the dead-letter queue, a dashboard and alarms; the same deployment as template.yaml (SAM).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # The code emits its metrics here (Powertools, from the functions' environment); the dashboard
  # and alarms read them back, so both come from these two values.
  metrics_namespace = "CognitoUserSync"
  service_name      = var.name_prefix # the metrics' `service` dimension: one per deployment

  post_confirmation_name = "${var.name_prefix}-post-confirmation"
  retry_worker_name      = "${var.name_prefix}-retry-worker"

  create_user_pool = var.user_pool_id == null
  user_pool_arn = (
    local.create_user_pool
    ? aws_cognito_user_pool.this[0].arn
    : "arn:${data.aws_partition.current.partition}:cognito-idp:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:userpool/${var.user_pool_id}"
  )

  secret_arns = compact([
    var.api_key_secret_arn == null ? "" : var.api_key_secret_arn,
    var.signing_secret_arn == null ? "" : var.signing_secret_arn,
  ])

  # Both functions read the same configuration; an empty variable counts as unset.
  common_environment = {
    USER_SERVICE_URL               = var.user_service_url
    USER_SERVICE_API_KEY_SECRET_ID = var.api_key_secret_arn == null ? "" : var.api_key_secret_arn
    USER_SERVICE_SIGNING_SECRET_ID = var.signing_secret_arn == null ? "" : var.signing_secret_arn
    RETRY_QUEUE_URL                = aws_sqs_queue.retry.url
    DEAD_LETTER_QUEUE_URL          = aws_sqs_queue.dead_letter.url
    POWERTOOLS_SERVICE_NAME        = local.service_name
    POWERTOOLS_METRICS_NAMESPACE   = local.metrics_namespace
    POWERTOOLS_LOG_LEVEL           = "INFO"
    NODE_OPTIONS                   = "--enable-source-maps"
  }

  alarm_actions = var.alarm_sns_topic_arn == null ? [] : [var.alarm_sns_topic_arn]
}
