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

variable "subnet_ids" {
  description = "Private subnets for the functions (two or more, in different availability zones)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the functions' network interfaces: outbound HTTPS to the User Service and the VPC endpoints."
  type        = list(string)
}

variable "user_pool_id" {
  description = "Id of an existing user pool to serve; null to create one."
  type        = string
  default     = null
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
