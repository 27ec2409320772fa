output "post_confirmation_function_arn" {
  description = "The post-confirmation trigger."
  value       = module.cognito_user_sync.post_confirmation_function_arn
}

output "retry_worker_function_arn" {
  description = "The retry worker."
  value       = module.cognito_user_sync.retry_worker_function_arn
}

output "retry_queue_url" {
  description = "The retry queue."
  value       = module.cognito_user_sync.retry_queue_url
}

output "dead_letter_queue_url" {
  description = "The dead-letter queue."
  value       = module.cognito_user_sync.dead_letter_queue_url
}

output "user_changes_function_arn" {
  description = "The user-changes function."
  value       = module.cognito_user_sync.user_changes_function_arn
}

output "changes_queue_url" {
  description = "The changes queue."
  value       = module.cognito_user_sync.changes_queue_url
}

output "changes_dead_letter_queue_url" {
  description = "The changes dead-letter queue."
  value       = module.cognito_user_sync.changes_dead_letter_queue_url
}

output "trail_arn" {
  description = "The trail, with create_trail."
  value       = module.cognito_user_sync.trail_arn
}

output "operator_policy_json" {
  description = "The operators' IAM policy."
  value       = module.cognito_user_sync.operator_policy_json
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.cognito_user_sync.dashboard_name
}

output "user_pool_id" {
  description = "The user pool whose trigger this is."
  value       = module.cognito_user_sync.user_pool_id
}

output "alarm_names" {
  description = "The alarms."
  value       = module.cognito_user_sync.alarm_names
}
