# The same dashboard as template.yaml's; a test renders both and compares them.

locals {
  # ["CognitoUserSync", name, "service", "cognito-user-sync", options]: the project's own metrics.
  own_metric = { for name in [
    "UserSynced", "UserAlreadyExists", "UserSyncSkipped", "UserSyncQueued", "UserSyncDropped",
    "RetrySucceeded", "RetryDeferred", "RetryUserGone", "RetryDeadLettered",
    "UserChangeCreated", "UserChangeUpdated", "UserChangeDeleted", "UserChangeSkipped",
    "UserChangeDeferred", "UserChangeDeadLettered",
    "ReconcileUsersChecked", "ReconcileMissing", "ReconcileDifferent", "ReconcileOrphaned",
    "ReconcileExcluded", "ReconcileDeletesCapped", "ReconcileRunCompleted",
  ] : name => [local.metrics_namespace, name, "service", local.service_name] }

  # The functions that call the User Service publish its latency and attempts per function too
  # (dimensions service + function): their `function` value and label.
  calling_functions = concat(
    [
      { function = "post-confirmation", label = "post-confirmation" },
      { function = "retry-worker", label = "retry worker" },
    ],
    local.user_changes ? [{ function = "user-changes", label = "user changes" }] : [],
  )
  per_function = { for name in ["UserServiceLatency", "UserServiceAttempts"] : name => {
    for f in local.calling_functions : f.function => [local.metrics_namespace, name, "service", local.service_name, "function", f.function]
  } }

  # Lambda's metrics of each deployed function: name and label.
  lambda_functions = concat(
    [
      { name = aws_lambda_function.post_confirmation.function_name, label = "post-confirmation" },
      { name = aws_lambda_function.retry_worker.function_name, label = "retry worker" },
    ],
    [for f in aws_lambda_function.user_changes : { name = f.function_name, label = "user changes" }],
    [for f in aws_lambda_function.reconcile : { name = f.function_name, label = "reconcile" }],
  )

  dead_letter_queues = concat(
    [{ name = aws_sqs_queue.dead_letter.name, label = "dead-lettered users", color = "#d62728" }],
    [for q in aws_sqs_queue.changes_dead_letter : { name = q.name, label = "dead-lettered changes", color = "#ff7f0e" }],
    [for q in aws_sqs_queue.reconcile_dead_letter : { name = q.name, label = "stopped reconcile runs", color = "#9467bd" }],
  )

  base_widgets = [
    {
      type = "text", x = 0, y = 0, width = 24, height = 2
      properties = {
        markdown = "## cognito-user-sync (${var.name_prefix})\nSign-ups, the User Service per function, the queues, user changes and reconcile. What each alarm means and what to do: docs/deploy.md."
      }
    },
    {
      type = "alarm", x = 0, y = 2, width = 24, height = 4
      properties = {
        title  = "Alarms"
        alarms = [for alarm in local.alarms : alarm.arn]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "Post-confirmation outcomes", view = "timeSeries", stacked = true
        region = local.region, period = 300, stat = "Sum"
        metrics = [
          concat(local.own_metric.UserSynced, [{ label = "synced" }]),
          concat(local.own_metric.UserAlreadyExists, [{ label = "already existed" }]),
          concat(local.own_metric.UserSyncSkipped, [{ label = "skipped" }]),
          concat(local.own_metric.UserSyncQueued, [{ label = "queued" }]),
          concat(local.own_metric.UserSyncDropped, [{ label = "dropped", color = "#d62728" }]),
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "Retry worker outcomes", view = "timeSeries", stacked = true
        region = local.region, period = 300, stat = "Sum"
        metrics = [
          concat(local.own_metric.RetrySucceeded, [{ label = "succeeded" }]),
          concat(local.own_metric.RetryDeferred, [{ label = "deferred" }]),
          concat(local.own_metric.RetryUserGone, [{ label = "gone from the pool, not created" }]),
          concat(local.own_metric.RetryDeadLettered, [{ label = "dead-lettered", color = "#d62728" }]),
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title  = "User Service latency by function (ms)", view = "timeSeries"
        region = local.region, period = 300
        # (flatten only the pairs, not the rows: a row is a list too)
        metrics = [for line in flatten([for f in local.calling_functions : [
          { function = f.function, stat = "p50", label = "${f.label} p50" },
          { function = f.function, stat = "p99", label = "${f.label} p99" },
          ]]) :
          concat(local.per_function.UserServiceLatency[line.function], [{ stat = line.stat, label = line.label }])
        ]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "User Service attempts by function (average)", view = "timeSeries"
        region = local.region, period = 300, stat = "Average"
        metrics = [for f in local.calling_functions :
          concat(local.per_function.UserServiceAttempts[f.function], [{ label = f.label }])
        ]
      }
    },
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title  = "Retry queue: depth and oldest message (s)", view = "timeSeries"
        region = local.region, period = 300, stat = "Maximum"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.retry.name, { label = "waiting" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", aws_sqs_queue.retry.name, { label = "deferred or in flight" }],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.retry.name, { label = "oldest message age", yAxis = "right" }],
        ]
        annotations = { horizontal = [{ label = "alarm: 1 h", value = 3600, yAxis = "right" }] }
      }
    },
    {
      type = "metric", x = 12, y = 18, width = 12, height = 6
      properties = {
        title  = "Dead-letter queues: depth", view = "timeSeries"
        region = local.region, period = 300, stat = "Maximum"
        metrics = [for q in local.dead_letter_queues :
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q.name, { label = q.label, color = q.color }]
        ]
      }
    },
    {
      type = "metric", x = 0, y = 24, width = 12, height = 6
      properties = {
        title  = "Function errors and throttles", view = "timeSeries"
        region = local.region, period = 60, stat = "Sum"
        metrics = [for line in flatten([for f in local.lambda_functions : [
          { name = f.name, metric = "Errors", label = "${f.label} errors" },
          { name = f.name, metric = "Throttles", label = "${f.label} throttles" },
          ]]) :
          ["AWS/Lambda", line.metric, "FunctionName", line.name, { label = line.label }]
        ]
      }
    },
    {
      type = "metric", x = 12, y = 24, width = 12, height = 6
      properties = {
        title  = "Function duration p99 (ms)", view = "timeSeries"
        region = local.region, period = 300, stat = "p99"
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.post_confirmation.function_name, { label = "post-confirmation" }],
          ["AWS/Lambda", "Duration", "FunctionName", aws_lambda_function.retry_worker.function_name, { label = "retry worker" }],
        ]
        annotations = { horizontal = [{ label = "SYNC_DEADLINE_MS", value = var.sync_deadline_ms }] }
      }
    },
  ]

  user_changes_widgets = [for f in aws_lambda_function.user_changes : [
    {
      type = "metric", x = 0, y = 30, width = 8, height = 6
      properties = {
        title  = "User changes outcomes", view = "timeSeries", stacked = true
        region = local.region, period = 300, stat = "Sum"
        metrics = [
          concat(local.own_metric.UserChangeCreated, [{ label = "created" }]),
          concat(local.own_metric.UserChangeUpdated, [{ label = "updated" }]),
          concat(local.own_metric.UserChangeDeleted, [{ label = "deleted" }]),
          concat(local.own_metric.UserChangeSkipped, [{ label = "skipped" }]),
          concat(local.own_metric.UserChangeDeferred, [{ label = "deferred" }]),
          concat(local.own_metric.UserChangeDeadLettered, [{ label = "dead-lettered", color = "#d62728" }]),
        ]
      }
    },
    {
      type = "metric", x = 8, y = 30, width = 8, height = 6
      properties = {
        title  = "Changes queue: depth and oldest message (s)", view = "timeSeries"
        region = local.region, period = 300, stat = "Maximum"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.changes[0].name, { label = "waiting" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", aws_sqs_queue.changes[0].name, { label = "deferred or in flight" }],
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.changes[0].name, { label = "oldest message age", yAxis = "right" }],
        ]
        annotations = { horizontal = [{ label = "alarm: 1 h", value = 3600, yAxis = "right" }] }
      }
    },
    {
      type = "metric", x = 16, y = 30, width = 8, height = 6
      properties = {
        title  = "User changes duration p99 (ms)", view = "timeSeries"
        region = local.region, period = 300, stat = "p99"
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", f.function_name, { label = "user changes" }],
        ]
      }
    },
  ]]

  reconcile_widgets = [for f in aws_lambda_function.reconcile : [
    {
      type = "metric", x = 0, y = 36, width = 8, height = 6
      properties = {
        title  = "Reconcile: users checked, runs completed, deletions left over the cap", view = "timeSeries"
        region = local.region, period = 3600, stat = "Sum"
        metrics = [
          concat(local.own_metric.ReconcileUsersChecked, [{ label = "users checked" }]),
          concat(local.own_metric.ReconcileRunCompleted, [{ label = "runs completed", yAxis = "right" }]),
          concat(local.own_metric.ReconcileDeletesCapped, [{ label = "deletions left for the next run", yAxis = "right" }]),
        ]
      }
    },
    {
      type = "metric", x = 8, y = 36, width = 8, height = 6
      properties = {
        title  = "Reconcile: drift found", view = "timeSeries", stacked = true
        region = local.region, period = 3600, stat = "Sum"
        metrics = [
          concat(local.own_metric.ReconcileMissing, [{ label = "missing" }]),
          concat(local.own_metric.ReconcileDifferent, [{ label = "different" }]),
          concat(local.own_metric.ReconcileOrphaned, [{ label = "orphaned", color = "#d62728" }]),
          concat(local.own_metric.ReconcileExcluded, [{ label = "excluded by the user policy", color = "#ff7f0e" }]),
        ]
      }
    },
    {
      type = "metric", x = 16, y = 36, width = 8, height = 6
      properties = {
        title  = "Reconcile duration p99 (ms)", view = "timeSeries"
        region = local.region, period = 300, stat = "p99"
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", f.function_name, { label = "reconcile" }],
        ]
      }
    },
  ]]

  # The failure ratio of each function, as its alarm computes it (alarms.tf), over hidden inputs.
  failure_ratios = concat(
    [
      {
        x          = 0, title = "Post-confirmation: sign-ups not synced (%)", label = "% of sign-ups queued"
        inputs     = [["queued", "UserSyncQueued"], ["synced", "UserSynced"], ["exists", "UserAlreadyExists"]]
        expression = "IF(FILL(queued, 0) >= 2, 100 * FILL(queued, 0) / (FILL(queued, 0) + FILL(synced, 0) + FILL(exists, 0)), 0)"
      },
      {
        x          = 8, title = "Retry worker: retries failing (%)", label = "% of retries deferred"
        inputs     = [["deferred", "RetryDeferred"], ["succeeded", "RetrySucceeded"]]
        expression = "IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(succeeded, 0)), 0)"
      },
    ],
    local.user_changes ? [
      {
        x          = 16, title = "User changes: writes failing (%)", label = "% of user changes deferred"
        inputs     = [["deferred", "UserChangeDeferred"], ["created", "UserChangeCreated"], ["updated", "UserChangeUpdated"], ["deleted", "UserChangeDeleted"]]
        expression = "IF(FILL(deferred, 0) >= 1, 100 * FILL(deferred, 0) / (FILL(deferred, 0) + FILL(created, 0) + FILL(updated, 0) + FILL(deleted, 0)), 0)"
      },
    ] : [],
  )

  failure_ratio_widgets = [for ratio in local.failure_ratios : {
    type = "metric", x = ratio.x, y = 42, width = 8, height = 6
    properties = {
      title  = ratio.title, view = "timeSeries"
      region = local.region, period = 300, stat = "Sum"
      metrics = concat(
        [for input in ratio.inputs : concat(local.own_metric[input[1]], [{ id = input[0], visible = false }])],
        [[{ expression = ratio.expression, label = ratio.label, id = "failing" }]],
      )
      yAxis       = { left = { min = 0, max = 100 } }
      annotations = { horizontal = [{ label = "alarm: more than 50 % in 2 of 3 periods", value = 50 }] }
    }
  }]

  # Silent loss: Cognito's events reaching the changes queue, and the rule's failed deliveries.
  cognito_events_widgets = [for rule in aws_cloudwatch_event_rule.user_changes : {
    type = "metric", x = 0, y = 48, width = 12, height = 6
    properties = {
      title  = "Cognito's events: into the changes queue, and failed deliveries of the rule", view = "timeSeries"
      region = local.region, period = 3600, stat = "Sum"
      metrics = [
        ["AWS/SQS", "NumberOfMessagesSent", "QueueName", aws_sqs_queue.changes[0].name, { label = "messages into the changes queue" }],
        ["AWS/Events", "FailedInvocations", "RuleName", rule.name, { label = "failed deliveries", color = "#d62728" }],
      ]
    }
  }]

  dashboard_widgets = concat(
    local.base_widgets,
    flatten(local.user_changes_widgets),
    flatten(local.reconcile_widgets),
    local.failure_ratio_widgets,
    local.cognito_events_widgets,
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
