# What each alarm means and what to do: docs/deploy.md, "Alarms: what they mean and what to do" (the
# same alarms as template.yaml's; a test compares them). Each description says what broke, the first
# command to run (the queues' URLs in AWS's form, https://sqs.<region>.<suffix>/<account>/<name>)
# and the runbook: the section of docs/deploy.md with the alarm's name, under var.runbook_url.

locals {
  service_dimensions = { service = local.service_name }

  queue_url = { for queue, suffix in {
    retry                 = "retry"
    dead_letter           = "dead-letter"
    changes               = "changes"
    changes_dead_letter   = "changes-dead-letter"
    reconcile             = "reconcile"
    reconcile_dead_letter = "reconcile-dead-letter"
  } : queue => "https://sqs.${local.region}.${data.aws_partition.current.dns_suffix}/${local.account_id}/${var.name_prefix}-${suffix}" }

  # `status` with the queues an alarm is about (it takes the region from their URLs), and the
  # functions' service dimension, for how many messages are being retried and since when. The
  # reconcile alarms show the changes queue too: a run's repairs are written from it.
  status_command = {
    sign_ups  = "npx cognito-user-sync status --service ${local.service_name} --retry-queue-url ${local.queue_url.retry} --dead-letter-queue-url ${local.queue_url.dead_letter}"
    changes   = "npx cognito-user-sync status --service ${local.service_name} --changes-queue-url ${local.queue_url.changes} --changes-dead-letter-queue-url ${local.queue_url.changes_dead_letter}"
    reconcile = "npx cognito-user-sync status --service ${local.service_name} --reconcile-queue-url ${local.queue_url.reconcile} --reconcile-dead-letter-queue-url ${local.queue_url.reconcile_dead_letter} --changes-queue-url ${local.queue_url.changes}"
  }

  runbook = "${var.runbook_url}#alarm-"
}

# A User Service outage, whatever its shape, as the trigger's own outcomes show it: the share of
# sign-ups queued rather than synced in each 5-minute period, counted from 2 queued users on. A
# period without sign-ups has no data: no news is no outage.
resource "aws_cloudwatch_metric_alarm" "sign_ups_not_synced" {
  alarm_name          = "${var.name_prefix}-sign-ups-not-synced"
  alarm_description   = "Sign-ups are not reaching the User Service: more than half of them were queued in 2 of the last 3 five-minute periods (5xx, 401/403 after the key refetch, 429, timeouts or refused connections). Nothing is lost: the retry worker syncs them once the service answers. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}sign-ups-not-synced"
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 50
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "queued"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserSyncQueued"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "synced"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserSynced"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "exists"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserAlreadyExists"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "failing"
    label       = "% of sign-ups queued (0 below 2 queued)"
    expression  = "IF(FILL(queued, 0) >= 2, 100 * FILL(queued, 0) / (FILL(queued, 0) + FILL(synced, 0) + FILL(exists, 0)), 0)"
    return_data = true
  }

  tags = var.tags
}

# The same outage seen by the retry worker, which retries each queued user after 30 s, then 1, 2
# and 5 min: one user failing for 10 minutes is enough at a quiet hour, while a single failed
# retry (one period) is not. SQS's age metric cannot see this: a message received three times
# or more drops out of ApproximateAgeOfOldestMessage.
resource "aws_cloudwatch_metric_alarm" "retries_failing" {
  alarm_name          = "${var.name_prefix}-retries-failing"
  alarm_description   = "Queued users keep failing on retry: more than half of the retry worker's attempts were deferred in 2 of the last 3 five-minute periods (the User Service answers 5xx, 401/403, 429, times out or refuses connections, or Cognito throttles). They wait on the retry queue, and reach the dead-letter queue after about 37 hours. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}retries-failing"
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 50
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "deferred"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "RetryDeferred"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "succeeded"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "RetrySucceeded"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "failing"
    label       = "% of retries deferred"
    expression  = "IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(succeeded, 0)), 0)"
    return_data = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "user_sync_dropped" {
  alarm_name          = "${var.name_prefix}-user-sync-dropped"
  alarm_description   = "A confirmed user was neither synced nor queued (UserSyncDropped): nothing will retry them. The ERROR log names the userPoolId and cognitoSub: backfill that pool. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}user-sync-dropped"
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

# SQS publishes a queue's metrics only while it is active: a dead-letter queue left alone stops
# reporting with its messages still in it. Missing data keeps the alarm as it was (ignore).
resource "aws_cloudwatch_metric_alarm" "dead_letter_queue_not_empty" {
  alarm_name          = "${var.name_prefix}-dead-letter-queue-not-empty"
  alarm_description   = "Users wait on the dead-letter queue: the User Service refused them, or their retries ran out. Each expires 14 days after it was first queued, not after it arrived here. Fix the cause, then `cognito-user-sync replay`. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}dead-letter-queue-not-empty"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "retry_queue_oldest_message" {
  alarm_name          = "${var.name_prefix}-retry-queue-oldest-message"
  alarm_description   = "A user has waited on the retry queue for more than an hour without being received three times: the retry worker is not consuming (event source disabled, throttled, or failing before it reports). Users being retried drop out of this metric: retries-failing watches them. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}retry-queue-oldest-message"
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
  alarm_description   = "The post-confirmation function failed (crash or timeout) although it is fail-open: Cognito reported an error to the user, and the user may not be queued. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}post-confirmation-errors"
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
  alarm_description   = "Lambda throttled the post-confirmation function: those users were confirmed but never reached the function, nor the queue. Backfill them and raise the concurrency. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}post-confirmation-throttles"
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
  alarm_description   = "The retry worker failed a whole batch (crash, timeout or missing permission): its messages come back and count receives towards the dead-letter queue. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}retry-worker-errors"
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
  alarm_description   = "The post-confirmation p99 duration is above 90 % of SYNC_DEADLINE_MS in 2 of the last 3 five-minute periods: the User Service is slow, and users are being queued instead of synced. First run: ${local.status_command.sign_ups} Runbook: ${local.runbook}post-confirmation-duration-near-deadline"
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

resource "aws_cloudwatch_metric_alarm" "user_changes_failing" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-user-changes-failing"
  alarm_description   = "User changes keep failing: more than half of the user-changes function's writes were deferred in 2 of the last 3 five-minute periods (the User Service fails or refuses the key, or Cognito throttles AdminGetUser and ListUsers). Changes wait on the changes queue, then its dead-letter queue. First run: ${local.status_command.changes} Runbook: ${local.runbook}user-changes-failing"
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = 50
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "deferred"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserChangeDeferred"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "created"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserChangeCreated"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "updated"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserChangeUpdated"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "deleted"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserChangeDeleted"
      dimensions  = local.service_dimensions
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "failing"
    label       = "% of user changes deferred"
    expression  = "IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(created, 0) + FILL(updated, 0) + FILL(deleted, 0)), 0)"
    return_data = true
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "changes_dead_letter_queue_not_empty" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-changes-dead-letter-queue-not-empty"
  alarm_description   = "User changes wait on the changes dead-letter queue: the User Service refused them, the message was not a change, or retries ran out. Each expires 14 days after it was first queued. Fix the cause, then `cognito-user-sync replay --queue changes`. First run: ${local.status_command.changes} Runbook: ${local.runbook}changes-dead-letter-queue-not-empty"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.changes_dead_letter[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "changes_queue_oldest_message" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-changes-queue-oldest-message"
  alarm_description   = "A user change has waited on the changes queue for more than an hour without being received three times: the user-changes function is not consuming (event source disabled, throttled), or a burst is larger than it drains in an hour. First run: ${local.status_command.changes} Runbook: ${local.runbook}changes-queue-oldest-message"
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
  alarm_description   = "The user-changes function failed a whole batch (crash, timeout or missing permission): its messages come back and count receives towards the changes dead-letter queue. First run: ${local.status_command.changes} Runbook: ${local.runbook}user-changes-errors"
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

resource "aws_cloudwatch_metric_alarm" "user_changes_throttles" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-user-changes-throttles"
  alarm_description   = "Lambda throttled the user-changes function: its reserved concurrency (or the account's) is below what its event source runs. Throttled batches come back and count receives towards the changes dead-letter queue. First run: ${local.status_command.changes} Runbook: ${local.runbook}user-changes-throttles"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
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

# EventBridge publishes FailedInvocations only when it is not zero: missing data is no failure.
resource "aws_cloudwatch_metric_alarm" "user_changes_rule_failed_invocations" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-user-changes-rule-failed-invocations"
  alarm_description   = "EventBridge could not deliver Cognito's events to the changes queue, for good (a KMS key policy without events.amazonaws.com, the queue's policy, a deleted queue): those user changes are lost until reconcile finds the drift. First run: ${local.status_command.changes} Runbook: ${local.runbook}user-changes-rule-failed-invocations"
  namespace           = "AWS/Events"
  metric_name         = "FailedInvocations"
  dimensions          = { RuleName = aws_cloudwatch_event_rule.user_changes[0].name }
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

# Sign-ups (SignUp, ConfirmSignUp) are not events the rule takes, so a pool with sign-ups but no
# change at all in a day is possible: 20 sign-ups without one change event is not. A day without
# sign-ups sums to 0.
resource "aws_cloudwatch_metric_alarm" "cognito_events_missing" {
  count = local.user_changes ? 1 : 0

  alarm_name          = "${var.name_prefix}-cognito-events-missing"
  alarm_description   = "At least 20 sign-ups reached the trigger in a day (UTC) while not one message reached the changes queue: the CloudTrail trail stopped logging, or the rule was disabled or deleted. Disabled, deleted and updated users are not being followed. First run: ${local.status_command.changes} Runbook: ${local.runbook}cognito-events-missing"
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  threshold           = 20
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "sent"
    return_data = false

    metric {
      namespace   = "AWS/SQS"
      metric_name = "NumberOfMessagesSent"
      dimensions  = { QueueName = aws_sqs_queue.changes[0].name }
      period      = 86400
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "synced"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserSynced"
      dimensions  = local.service_dimensions
      period      = 86400
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "exists"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserAlreadyExists"
      dimensions  = local.service_dimensions
      period      = 86400
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "queued"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "UserSyncQueued"
      dimensions  = local.service_dimensions
      period      = 86400
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "signUps"
    label       = "sign-ups in a day without a change event"
    expression  = "IF(FILL(sent, 0) == 0, FILL(synced, 0) + FILL(exists, 0) + FILL(queued, 0), 0)"
    return_data = true
  }

  tags = var.tags
}

# Any drift in an hour: users missing from the User Service, different there, there but gone from
# the pool, or there with a Cognito status the user policy leaves out. A series with no data point
# counts as 0.
resource "aws_cloudwatch_metric_alarm" "reconcile_drift" {
  count = local.reconcile ? 1 : 0

  alarm_name          = "${var.name_prefix}-reconcile-drift-found"
  alarm_description   = "Reconcile found users missing from the User Service, different there, there but gone from the pool, or there with a Cognito status the user policy leaves out, and queued their repairs: events were lost or the User Service changed on its own. First run: ${local.status_command.reconcile} Runbook: ${local.runbook}reconcile-drift-found"
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
  alarm_description   = "The reconcile function failed (crash, 15-minute timeout or missing permission): its run step comes back after 90 minutes, and after 3 receives the run stops on the reconcile dead-letter queue. First run: ${local.status_command.reconcile} Runbook: ${local.runbook}reconcile-errors"
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

resource "aws_cloudwatch_metric_alarm" "reconcile_dead_letter_queue_not_empty" {
  count = local.reconcile ? 1 : 0

  alarm_name          = "${var.name_prefix}-reconcile-dead-letter-queue-not-empty"
  alarm_description   = "A reconcile run stopped on the reconcile dead-letter queue: one of its steps failed three times. The next scheduled run takes over; until one completes, lost events are not repaired. First run: ${local.status_command.reconcile} Runbook: ${local.runbook}reconcile-dead-letter-queue-not-empty"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.reconcile_dead_letter[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "ignore"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# The heartbeat: each completed run emits ReconcileRunCompleted once. A day without one is a day
# of 0 (FILL), and missing data counts as breaching too: silence is what this alarm is for.
resource "aws_cloudwatch_metric_alarm" "reconcile_runs_not_completing" {
  count = local.reconcile ? 1 : 0

  alarm_name          = "${var.name_prefix}-reconcile-runs-not-completing"
  alarm_description   = "No reconcile run completed in the last ${var.reconcile_overdue_days} days (UTC): the schedule is disabled, every run fails, or the pool outgrew the pace (a run longer than the schedule allows). Lost events are not being repaired. First run: ${local.status_command.reconcile} Runbook: ${local.runbook}reconcile-runs-not-completing"
  evaluation_periods  = var.reconcile_overdue_days
  datapoints_to_alarm = var.reconcile_overdue_days
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "completed"
    return_data = false

    metric {
      namespace   = local.metrics_namespace
      metric_name = "ReconcileRunCompleted"
      dimensions  = local.service_dimensions
      period      = 86400
      stat        = "Sum"
    }
  }

  metric_query {
    id          = "runs"
    label       = "reconcile runs completed in the day"
    expression  = "FILL(completed, 0)"
    return_data = true
  }

  tags = var.tags
}

locals {
  # Every alarm, in the dashboard's order (the same as template.yaml's).
  alarms = concat(
    [
      aws_cloudwatch_metric_alarm.sign_ups_not_synced,
      aws_cloudwatch_metric_alarm.retries_failing,
      aws_cloudwatch_metric_alarm.user_sync_dropped,
      aws_cloudwatch_metric_alarm.dead_letter_queue_not_empty,
      aws_cloudwatch_metric_alarm.retry_queue_oldest_message,
      aws_cloudwatch_metric_alarm.post_confirmation_errors,
      aws_cloudwatch_metric_alarm.post_confirmation_throttles,
      aws_cloudwatch_metric_alarm.retry_worker_errors,
      aws_cloudwatch_metric_alarm.post_confirmation_duration,
    ],
    aws_cloudwatch_metric_alarm.user_changes_failing,
    aws_cloudwatch_metric_alarm.changes_dead_letter_queue_not_empty,
    aws_cloudwatch_metric_alarm.changes_queue_oldest_message,
    aws_cloudwatch_metric_alarm.user_changes_errors,
    aws_cloudwatch_metric_alarm.user_changes_throttles,
    aws_cloudwatch_metric_alarm.user_changes_rule_failed_invocations,
    aws_cloudwatch_metric_alarm.cognito_events_missing,
    aws_cloudwatch_metric_alarm.reconcile_drift,
    aws_cloudwatch_metric_alarm.reconcile_errors,
    aws_cloudwatch_metric_alarm.reconcile_dead_letter_queue_not_empty,
    aws_cloudwatch_metric_alarm.reconcile_runs_not_completing,
  )
}
