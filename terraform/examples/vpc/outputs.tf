output "post_confirmation_function_arn" {
  description = "The post-confirmation trigger."
  value       = module.cognito_user_sync.post_confirmation_function_arn
}

output "kms_key_arn" {
  description = "The key of the queues and log groups."
  value       = aws_kms_key.this.arn
}

output "operator_policy_json" {
  description = "The operators' IAM policy."
  value       = module.cognito_user_sync.operator_policy_json
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = module.cognito_user_sync.dashboard_name
}
