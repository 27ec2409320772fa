variable "region" {
  description = "AWS region of the user pool."
  type        = string
  default     = "eu-west-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "cognito-user-sync"
}

variable "user_pool_id" {
  description = "Id of the existing user pool to serve, e.g. eu-west-1_Qx7Lm2Rt9."
  type        = string
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

variable "alarm_sns_topic_arn" {
  description = "SNS topic for the alarms; null for none."
  type        = string
  default     = null
}

variable "operator_role_arns" {
  description = "Roles of the operators who run the command line (replay needs to be listed)."
  type        = list(string)
  default     = []
}

variable "reconcile_schedule" {
  description = "When the reconcile runs (an EventBridge schedule expression)."
  type        = string
  default     = "rate(1 day)"
}

variable "reconcile_max_rps" {
  description = "Cognito ListUsers calls a second the reconcile makes at most."
  type        = number
  default     = 5
}

variable "reconcile_max_deletes" {
  description = "Users a reconcile run deletes from the User Service at most."
  type        = number
  default     = 10
}
