# The same dashboard as template.yaml's; a test renders both and compares them.

locals {
  region = data.aws_region.current.name

  # ["CognitoUserSync", name, "service", "cognito-user-sync", options]: the project's own metrics.
  own_metric = { for name in [
    "UserSynced", "UserAlreadyExists", "UserSyncSkipped", "UserSyncQueued", "UserSyncDropped",
    "UserServiceLatency", "UserServiceAttempts",
    "RetrySucceeded", "RetryDeferred", "RetryDeadLettered",
  ] : name => [local.metrics_namespace, name, "service", local.service_name] }

  dashboard_widgets = [
    {
      type = "text", x = 0, y = 0, width = 24, height = 2
      properties = {
        markdown = "## cognito-user-sync (${var.name_prefix})\nPost-confirmation outcomes, the User Service, the retry queue and the functions. What each alarm means and what to do: docs/deploy.md."
      }
    },
    {
      type = "metric", x = 0, y = 2, width = 12, height = 6
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
      type = "metric", x = 12, y = 2, width = 12, height = 6
      properties = {
        title  = "Retry worker outcomes", view = "timeSeries", stacked = true
        region = local.region, period = 300, stat = "Sum"
        metrics = [
          concat(local.own_metric.RetrySucceeded, [{ label = "succeeded" }]),
          concat(local.own_metric.RetryDeferred, [{ label = "deferred" }]),
          concat(local.own_metric.RetryDeadLettered, [{ label = "dead-lettered", color = "#d62728" }]),
        ]
      }
    },
    {
      type = "metric", x = 0, y = 8, width = 12, height = 6
      properties = {
        title  = "User Service latency (ms) and attempts", view = "timeSeries"
        region = local.region, period = 300
        metrics = [
          concat(local.own_metric.UserServiceLatency, [{ stat = "p50", label = "latency p50" }]),
          concat(local.own_metric.UserServiceLatency, [{ stat = "p99", label = "latency p99" }]),
          concat(local.own_metric.UserServiceAttempts, [{ stat = "Average", label = "attempts per invocation (avg)", yAxis = "right" }]),
        ]
      }
    },
    {
      type = "metric", x = 12, y = 8, width = 12, height = 6
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
      type = "metric", x = 0, y = 14, width = 8, height = 6
      properties = {
        title  = "Dead-letter queue depth", view = "timeSeries"
        region = local.region, period = 300, stat = "Maximum"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.dead_letter.name, { label = "dead-lettered users", color = "#d62728" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 14, width = 8, height = 6
      properties = {
        title  = "Function errors and throttles", view = "timeSeries"
        region = local.region, period = 60, stat = "Sum"
        metrics = [
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.post_confirmation.function_name, { label = "post-confirmation errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.post_confirmation.function_name, { label = "post-confirmation throttles" }],
          ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.retry_worker.function_name, { label = "retry worker errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", aws_lambda_function.retry_worker.function_name, { label = "retry worker throttles" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 14, width = 8, height = 6
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
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
