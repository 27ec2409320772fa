output "post_confirmation_function_arn" {
  description = "Set this as the pool's PostConfirmation trigger (docs/deploy.md)."
  value       = module.cognito_user_sync.post_confirmation_function_arn
}

output "retry_queue_url" {
  description = "The retry queue (RETRY_QUEUE_URL of `cognito-user-sync replay`)."
  value       = module.cognito_user_sync.retry_queue_url
}

output "dead_letter_queue_url" {
  description = "The dead-letter queue (DEAD_LETTER_QUEUE_URL of `cognito-user-sync replay`)."
  value       = module.cognito_user_sync.dead_letter_queue_url
}

output "changes_queue_url" {
  description = "The changes queue."
  value       = module.cognito_user_sync.changes_queue_url
}

output "changes_dead_letter_queue_url" {
  description = "The changes dead-letter queue."
  value       = module.cognito_user_sync.changes_dead_letter_queue_url
}

output "reconcile_function_arn" {
  description = "The scheduled reconcile."
  value       = module.cognito_user_sync.reconcile_function_arn
}

output "reconcile_queue_url" {
  description = "The reconcile queue."
  value       = module.cognito_user_sync.reconcile_queue_url
}

output "reconcile_table_name" {
  description = "The DynamoDB table of reconcile's run ledger."
  value       = module.cognito_user_sync.reconcile_table_name
}

output "operator_policy_json" {
  description = "The operators' IAM policy."
  value       = module.cognito_user_sync.operator_policy_json
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.cognito_user_sync.dashboard_name
}

output "alarm_names" {
  description = "The alarms."
  value       = module.cognito_user_sync.alarm_names
}
