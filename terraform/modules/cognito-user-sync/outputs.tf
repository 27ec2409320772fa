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

output "user_changes_function_arn" {
  description = "The user-changes function, consuming the changes queue; null without enable_user_changes."
  value       = one(aws_lambda_function.user_changes[*].arn)
}

output "user_changes_function_name" {
  description = "Name of the user-changes function; null without enable_user_changes."
  value       = one(aws_lambda_function.user_changes[*].function_name)
}

output "changes_queue_url" {
  description = "Cognito user changes (from the EventBridge rule and reconcile) wait here for the user-changes function; null without enable_user_changes."
  value       = one(aws_sqs_queue.changes[*].url)
}

output "changes_dead_letter_queue_url" {
  description = "User changes the User Service refused or retries gave up on; replay them to the changes queue. Null without enable_user_changes."
  value       = one(aws_sqs_queue.changes_dead_letter[*].url)
}

output "user_changes_rule_arn" {
  description = "The EventBridge rule that routes Cognito's CloudTrail events to the changes queue; null without enable_user_changes."
  value       = one(aws_cloudwatch_event_rule.user_changes[*].arn)
}

output "reconcile_function_arn" {
  description = "The scheduled reconcile; null without reconcile_schedule."
  value       = one(aws_lambda_function.reconcile[*].arn)
}

output "reconcile_function_name" {
  description = "Name of the reconcile function; null without reconcile_schedule."
  value       = one(aws_lambda_function.reconcile[*].function_name)
}

output "reconcile_queue_url" {
  description = "Each reconcile run's next step waits here; null without reconcile_schedule."
  value       = one(aws_sqs_queue.reconcile[*].url)
}

output "reconcile_dead_letter_queue_url" {
  description = "Reconcile runs that failed three times stop here; null without reconcile_schedule."
  value       = one(aws_sqs_queue.reconcile_dead_letter[*].url)
}

output "reconcile_table_name" {
  description = "The DynamoDB table of reconcile's run ledger, holding the run in hand for the pool; null without reconcile_schedule."
  value       = one(aws_dynamodb_table.reconcile[*].name)
}

output "trail_arn" {
  description = "The CloudTrail trail of write management events the rule needs; null without create_trail."
  value       = one(aws_cloudtrail.this[*].arn)
}

output "trail_bucket_name" {
  description = "The trail's S3 bucket; null without create_trail."
  value       = one(aws_s3_bucket.trail[*].id)
}

output "operator_policy_json" {
  description = "IAM policy (JSON) for the operators who run `cognito-user-sync backfill`, `replay`, `reconcile` and `status` against this deployment."
  value       = data.aws_iam_policy_document.operator.json
}

output "alarm_names" {
  description = "Names of the alarms, for alarm-status widgets or composite alarms of your own."
  value       = [for alarm in local.alarms : alarm.alarm_name]
}
