output "post_confirmation_function_arn" {
  description = "The post-confirmation trigger; with an existing pool, set it as the pool's PostConfirmation trigger."
  value       = aws_lambda_function.post_confirmation.arn
}

output "post_confirmation_function_name" {
  description = "Name of the post-confirmation function."
  value       = aws_lambda_function.post_confirmation.function_name
}

output "retry_worker_function_arn" {
  description = "The retry worker, consuming the retry queue."
  value       = aws_lambda_function.retry_worker.arn
}

output "retry_worker_function_name" {
  description = "Name of the retry worker function."
  value       = aws_lambda_function.retry_worker.function_name
}

output "retry_queue_url" {
  description = "Users not synced at sign-up wait here for the retry worker."
  value       = aws_sqs_queue.retry.url
}

output "dead_letter_queue_url" {
  description = "Users the User Service rejected or retries gave up on; replay them with `cognito-user-sync replay`."
  value       = aws_sqs_queue.dead_letter.url
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "user_pool_id" {
  description = "The user pool whose trigger this is (the given one, or the one created)."
  value       = local.create_user_pool ? aws_cognito_user_pool.this[0].id : var.user_pool_id
}

output "alarm_names" {
  description = "Names of the alarms, for alarm-status widgets or composite alarms of your own."
  value = [
    aws_cloudwatch_metric_alarm.user_sync_dropped.alarm_name,
    aws_cloudwatch_metric_alarm.dead_letter_queue_not_empty.alarm_name,
    aws_cloudwatch_metric_alarm.retry_queue_oldest_message.alarm_name,
    aws_cloudwatch_metric_alarm.post_confirmation_errors.alarm_name,
    aws_cloudwatch_metric_alarm.post_confirmation_throttles.alarm_name,
    aws_cloudwatch_metric_alarm.retry_worker_errors.alarm_name,
    aws_cloudwatch_metric_alarm.post_confirmation_duration.alarm_name,
  ]
}
