variable "name_prefix" {
  description = "Prefix of every resource name (functions, queues, roles, log groups, alarms, dashboard, a created user pool), so two deployments can live in one account and region."
  type        = string
  default     = "cognito-user-sync"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 40 letters, digits, - or _, starting with a letter or digit."
  }
}

variable "user_service_url" {
  description = "Full collection URL of the User Service, e.g. https://users.internal.example.com/api/v1/users."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^https://[^\\s?#]+$", var.user_service_url))
    error_message = "user_service_url must be an https:// URL without query string or fragment."
  }
}

variable "api_key_secret_arn" {
  description = "Full ARN of the Secrets Manager secret holding the User Service API key (a plain string or JSON {\"apiKey\": \"…\"}), sent as x-api-key; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+$", var.api_key_secret_arn))
    error_message = "api_key_secret_arn must be null or the full ARN of a Secrets Manager secret."
  }
}

variable "signing_secret_arn" {
  description = "Full ARN of the Secrets Manager secret holding the Standard-Webhooks signing secret (whsec_…); null to send unsigned requests."
  type        = string
  default     = null

  validation {
    condition     = var.signing_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:.+$", var.signing_secret_arn))
    error_message = "signing_secret_arn must be null or the full ARN of a Secrets Manager secret."
  }
}

variable "user_pool_id" {
  description = "Id of an existing Cognito user pool whose post-confirmation trigger this becomes (then wire it as docs/deploy.md says); null to create a new pool with the trigger set."
  type        = string
  default     = null

  validation {
    condition     = var.user_pool_id == null || can(regex("^[\\w-]+_[0-9a-zA-Z]+$", var.user_pool_id))
    error_message = "user_pool_id must be null or a user pool id such as eu-west-1_Qx7Lm2Rt9."
  }
}

variable "user_pool_deletion_protection" {
  description = "Whether a pool created by this module (user_pool_id = null) refuses deletion, as it holds the users. Turn it off only for throw-away pools."
  type        = bool
  default     = true
  nullable    = false
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic that the alarms notify (in alarm and back to OK); null for no notification."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[\\w-]+$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be null or the ARN of an SNS topic."
  }
}

variable "log_retention_days" {
  description = "Days the functions' log groups keep their logs."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "sync_deadline_ms" {
  description = "Time from the start of an invocation by which the post-confirmation function returns the event to Cognito (Cognito waits 5 s, cold start included)."
  type        = number
  default     = 3500
  nullable    = false

  validation {
    condition     = var.sync_deadline_ms == floor(var.sync_deadline_ms) && var.sync_deadline_ms >= 200 && var.sync_deadline_ms <= 3800
    error_message = "sync_deadline_ms must be a whole number from 200 to 3800."
  }
}

variable "retry_worker_maximum_concurrency" {
  description = "Most retry-worker instances the queue's event source runs at once, to spare the User Service (AWS requires at least 2)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.retry_worker_maximum_concurrency == floor(var.retry_worker_maximum_concurrency) && var.retry_worker_maximum_concurrency >= 2 && var.retry_worker_maximum_concurrency <= 1000
    error_message = "retry_worker_maximum_concurrency must be a whole number from 2 to 1000."
  }
}

variable "max_receive_count" {
  description = "Receives of a message before SQS moves it to the dead-letter queue; the worker's backoff over 12 receives spans more than 24 hours."
  type        = number
  default     = 12
  nullable    = false

  validation {
    condition     = var.max_receive_count == floor(var.max_receive_count) && var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "post_confirmation_zip" {
  description = "Path of dist/post-confirmation.zip, built by `npm run package`."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.post_confirmation_zip, ".zip")
    error_message = "post_confirmation_zip must be the path of a .zip file."
  }
}

variable "retry_worker_zip" {
  description = "Path of dist/retry-worker.zip, built by `npm run package`."
  type        = string
  nullable    = false

  validation {
    condition     = endswith(var.retry_worker_zip, ".zip")
    error_message = "retry_worker_zip must be the path of a .zip file."
  }
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
  nullable    = false
}
