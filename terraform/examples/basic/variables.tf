variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "cognito-user-sync"
}

variable "user_service_url" {
  description = "Full collection URL of the User Service, e.g. https://users.internal.example.com/api/v1/users."
  type        = string
}

variable "api_key_secret_arn" {
  description = "Full ARN of the secret holding the User Service API key; null for none."
  type        = string
  default     = null
}

variable "signing_secret_arn" {
  description = "Full ARN of the secret holding the Standard-Webhooks signing secret; null for none."
  type        = string
  default     = null
}

variable "user_pool_id" {
  description = "Id of an existing user pool to serve; null to create one."
  type        = string
  default     = null
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic for the alarms; null for none."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the log groups keep their logs."
  type        = number
  default     = 30
}

variable "sync_deadline_ms" {
  description = "Time by which the post-confirmation function answers Cognito."
  type        = number
  default     = 3500
}

variable "retry_worker_maximum_concurrency" {
  description = "Most retry-worker instances at once (at least 2)."
  type        = number
  default     = 2
}

variable "max_receive_count" {
  description = "Receives of a message before it is dead-lettered."
  type        = number
  default     = 12
}

variable "enable_user_changes" {
  description = "Deploy the user-changes function and its EventBridge rule."
  type        = bool
  default     = true
}

variable "reconcile_schedule" {
  description = "When the reconcile runs (an EventBridge schedule expression); null for no reconcile (also needed with enable_user_changes = false)."
  type        = string
  default     = "rate(1 day)"
}

variable "runbook_url" {
  description = "Where on-call reads docs/deploy.md; the alarms link to its sections."
  type        = string
  default     = "node_modules/cognito-user-sync/docs/deploy.md"
}

variable "create_trail" {
  description = "Create the CloudTrail trail the rule needs (leave false when the account has one)."
  type        = bool
  default     = false
}

variable "operator_role_arns" {
  description = "Roles of the operators who run the command line (replay needs to be listed)."
  type        = list(string)
  default     = []
}
