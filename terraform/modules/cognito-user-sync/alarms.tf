# What each alarm means and what to do: docs/deploy.md.

locals {
  service_dimensions = { service = local.service_name }
}

resource "aws_cloudwatch_metric_alarm" "user_sync_dropped" {
  alarm_name          = "${var.name_prefix}-user-sync-dropped"
  alarm_description   = "A confirmed user was neither synced nor queued (UserSyncDropped). The ERROR log names the userPoolId and cognitoSub: backfill that user. See docs/deploy.md."
  namespace           = local.metrics_namespace
  metric_name         = "UserSyncDropped"
  dimensions          = local.service_dimensions
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_queue_not_empty" {
  alarm_name          = "${var.name_prefix}-dead-letter-queue-not-empty"
  alarm_description   = "Users are waiting on the dead-letter queue: the User Service rejected them or retries ran out. Fix the cause, then `cognito-user-sync replay`. See docs/deploy.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "retry_queue_oldest_message" {
  alarm_name          = "${var.name_prefix}-retry-queue-oldest-message"
  alarm_description   = "A user has waited on the retry queue for more than an hour: the User Service has been failing or refusing the key for that long. See docs/deploy.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.retry.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 3600
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "post_confirmation_errors" {
  alarm_name          = "${var.name_prefix}-post-confirmation-errors"
  alarm_description   = "The post-confirmation function failed (crash or timeout) although it is fail-open: Cognito reported an error to the user and the user may not be queued. See docs/deploy.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.post_confirmation.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "post_confirmation_throttles" {
  alarm_name          = "${var.name_prefix}-post-confirmation-throttles"
  alarm_description   = "Lambda throttled the post-confirmation function: those users were confirmed but never reached the function, nor the queue. Backfill them and raise the concurrency. See docs/deploy.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.post_confirmation.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "retry_worker_errors" {
  alarm_name          = "${var.name_prefix}-retry-worker-errors"
  alarm_description   = "The retry worker failed a whole batch (crash, timeout or missing permission): its messages come back and eventually dead-letter. See docs/deploy.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.retry_worker.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# The same alarm as template.yaml's: p99 as a share of the deadline, above 90 %. CloudFormation
# cannot compute 90 % of a parameter, hence metric math in both.
resource "aws_cloudwatch_metric_alarm" "post_confirmation_duration" {
  alarm_name          = "${var.name_prefix}-post-confirmation-duration-near-deadline"
  alarm_description   = "The post-confirmation p99 duration is above 90 % of SYNC_DEADLINE_MS for 10 of the last 15 minutes: the User Service is slow and users are being queued instead of synced. See docs/deploy.md."
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 90
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "duration"
    return_data = false

    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Duration"
      dimensions  = { FunctionName = aws_lambda_function.post_confirmation.function_name }
      period      = 300
      stat        = "p99"
    }
  }

  metric_query {
    id          = "shareOfDeadline"
    label       = "p99 duration, % of SYNC_DEADLINE_MS"
    expression  = "100 * duration / ${var.sync_deadline_ms}"
    return_data = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "changes_dead_letter_queue_not_empty" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-changes-dead-letter-queue-not-empty"
  alarm_description   = "User changes are waiting on the changes dead-letter queue: the User Service refused them, the message was not a change, or retries ran out. Fix the cause, then replay them to the changes queue. See docs/deploy.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.changes_dead_letter[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "changes_queue_oldest_message" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-changes-queue-oldest-message"
  alarm_description   = "A user change has waited on the changes queue for more than an hour: the User Service or Cognito has been failing (or throttling) for that long, or the function is not consuming. See docs/deploy.md."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.changes[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 3600
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "user_changes_errors" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-user-changes-errors"
  alarm_description   = "The user-changes function failed a whole batch (crash, timeout or missing permission): its messages come back and eventually dead-letter. See docs/deploy.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.user_changes[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Any drift in an hour: users missing from the User Service, different there, there but gone from
# the pool, or there with a Cognito status the user policy leaves out. A series with no data point
# counts as 0.
resource "aws_cloudwatch_metric_alarm" "reconcile_drift" {
  count = local.reconcile ? 1 : 0

  alarm_name          = "${var.name_prefix}-reconcile-drift-found"
  alarm_description   = "Reconcile found users missing from the User Service, different there, there but gone from the pool, or there with a Cognito status the user policy leaves out, and queued their repairs: events were lost or the User Service changed on its own. See docs/deploy.md."
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  dynamic "metric_query" {
    for_each = [
      { id = "missing", metric = "ReconcileMissing" },
      { id = "different", metric = "ReconcileDifferent" },
      { id = "orphaned", metric = "ReconcileOrphaned" },
      { id = "excluded", metric = "ReconcileExcluded" },
    ]

    content {
      id          = metric_query.value.id
      return_data = false

      metric {
        namespace   = local.metrics_namespace
        metric_name = metric_query.value.metric
        dimensions  = local.service_dimensions
        period      = 3600
        stat        = "Sum"
      }
    }
  }

  metric_query {
    id          = "drift"
    label       = "users drifted (missing + different + orphaned + excluded)"
    expression  = "FILL(missing, 0) + FILL(different, 0) + FILL(orphaned, 0) + FILL(excluded, 0)"
    return_data = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "reconcile_errors" {
  count = local.reconcile ? 1 : 0

  alarm_name          = "${var.name_prefix}-reconcile-errors"
  alarm_description   = "The reconcile function failed (crash, 15-minute timeout or missing permission): its run step comes back after 90 minutes, and after 3 receives the run stops on the reconcile dead-letter queue. See docs/deploy.md."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.reconcile[0].function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

locals {
  # Every alarm, in the dashboard's order (the same as template.yaml's).
  alarms = concat(
    [
      aws_cloudwatch_metric_alarm.user_sync_dropped,
      aws_cloudwatch_metric_alarm.dead_letter_queue_not_empty,
      aws_cloudwatch_metric_alarm.retry_queue_oldest_message,
      aws_cloudwatch_metric_alarm.post_confirmation_errors,
      aws_cloudwatch_metric_alarm.post_confirmation_throttles,
      aws_cloudwatch_metric_alarm.retry_worker_errors,
      aws_cloudwatch_metric_alarm.post_confirmation_duration,
    ],
    aws_cloudwatch_metric_alarm.changes_dead_letter_queue_not_empty,
    aws_cloudwatch_metric_alarm.changes_queue_oldest_message,
    aws_cloudwatch_metric_alarm.user_changes_errors,
    aws_cloudwatch_metric_alarm.reconcile_drift,
    aws_cloudwatch_metric_alarm.reconcile_errors,
  )
}
