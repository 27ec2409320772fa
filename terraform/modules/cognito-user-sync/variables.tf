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

variable "runbook_url" {
  description = "Where on-call reads docs/deploy.md: each alarm's description ends with this, followed by #alarm-<name>, the anchor of that alarm's section. The default is the installed package's copy; give your own copy's URL (a wiki, a repository browser) instead."
  type        = string
  default     = "node_modules/cognito-user-sync/docs/deploy.md"
  nullable    = false

  # An alarm's description holds at most 1024 characters (CloudWatch API reference, PutMetricAlarm,
  # AlarmDescription); the longest of ours takes about 825 with the default.
  validation {
    condition     = can(regex("^[^\\s#]+$", var.runbook_url)) && length(var.runbook_url) <= 200
    error_message = "runbook_url must be a URL or path of at most 200 characters, without spaces or a fragment (the alarms add one)."
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

variable "user_service_timeout_ms" {
  description = "Upper bound of one User Service attempt, in milliseconds (USER_SERVICE_TIMEOUT_MS of every function); null for none: an attempt may then use all that is left of its function's deadline, so a slow but healthy service is synced at the first attempt rather than cut short and retried. A timed-out attempt counts as a failure (retry budget, circuit breaker)."
  type        = number
  default     = null

  validation {
    condition     = var.user_service_timeout_ms == null || try(var.user_service_timeout_ms == floor(var.user_service_timeout_ms) && var.user_service_timeout_ms >= 50 && var.user_service_timeout_ms <= 30000, false)
    error_message = "user_service_timeout_ms must be null or a whole number from 50 to 30000."
  }
}

# Powertools reads POWERTOOLS_LOG_LEVEL (Powertools for AWS Lambda (TypeScript), Logger, "Log
# levels"). Lambda's own application log level would filter their output too, but only in the JSON
# log format (Lambda Developer Guide, "Log-level filtering"); these functions log in Text.
variable "log_level" {
  description = "Log level of every function (POWERTOOLS_LOG_LEVEL): DEBUG, INFO, WARN or ERROR. INFO logs one outcome line an invocation; DEBUG adds each event and response, with everything but the routing fields masked."
  type        = string
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARN or ERROR."
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
  description = "Receives of a message before SQS moves it to its dead-letter queue (the retry queue's and the changes queue's); the backoff over 12 receives spans more than 24 hours."
  type        = number
  default     = 12
  nullable    = false

  validation {
    condition     = var.max_receive_count == floor(var.max_receive_count) && var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "sync_user_statuses" {
  description = "Cognito user statuses whose users belong in the User Service (SYNC_USER_STATUSES of the post-confirmation, user-changes and reconcile functions)."
  type        = list(string)
  default     = ["CONFIRMED", "EXTERNAL_PROVIDER", "FORCE_CHANGE_PASSWORD", "RESET_REQUIRED"]
  nullable    = false

  validation {
    condition = length(var.sync_user_statuses) > 0 && alltrue([
      for status in var.sync_user_statuses : contains(["UNCONFIRMED", "CONFIRMED", "ARCHIVED", "COMPROMISED", "UNKNOWN", "RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", "EXTERNAL_PROVIDER"], status)
    ])
    error_message = "sync_user_statuses must list Cognito user statuses: UNCONFIRMED, CONFIRMED, ARCHIVED, COMPROMISED, UNKNOWN, RESET_REQUIRED, FORCE_CHANGE_PASSWORD, EXTERNAL_PROVIDER."
  }
}

variable "default_user_status" {
  description = "`status` of an enabled user in the User Service (DEFAULT_USER_STATUS)."
  type        = string
  default     = "ACTIVE"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{1,64}$", var.default_user_status))
    error_message = "default_user_status must be 1 to 64 letters, digits or _ . : -"
  }
}

variable "default_user_role" {
  description = "`role` of a created user (DEFAULT_USER_ROLE)."
  type        = string
  default     = "USER"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{1,64}$", var.default_user_role))
    error_message = "default_user_role must be 1 to 64 letters, digits or _ . : -"
  }
}

variable "disabled_user_status" {
  description = "`status` of a user disabled in Cognito (DISABLED_USER_STATUS)."
  type        = string
  default     = "DISABLED"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_.:-]{1,64}$", var.disabled_user_status))
    error_message = "disabled_user_status must be 1 to 64 letters, digits or _ . : -"
  }
}

variable "operator_role_arns" {
  description = "IAM role ARNs (with their path; wildcards allowed, as in ArnLike) of the operators who run `cognito-user-sync replay`, `backfill`, `reconcile` or `status`. The queue policies deny sqs:SendMessage to every other principal but the module's own roles, so an operator who is not listed cannot replay dead letters."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.operator_role_arns : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/.+$", arn))])
    error_message = "operator_role_arns must hold IAM role ARNs."
  }
}

variable "enable_user_changes" {
  description = "Deploy the user-changes function, its queues and the EventBridge rule on Cognito's CloudTrail events (invited, updated, disabled, enabled, deleted users)."
  type        = bool
  default     = true
  nullable    = false
}

variable "user_changes_maximum_concurrency" {
  description = "Most user-changes instances the changes queue's event source runs at once (AWS requires at least 2)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.user_changes_maximum_concurrency == floor(var.user_changes_maximum_concurrency) && var.user_changes_maximum_concurrency >= 2 && var.user_changes_maximum_concurrency <= 1000
    error_message = "user_changes_maximum_concurrency must be a whole number from 2 to 1000."
  }
}

variable "create_trail" {
  description = "Create a single-region CloudTrail trail of write management events (and its S3 bucket), which the EventBridge rule needs; leave false when the account already has one (docs/deploy.md says how to check)."
  type        = bool
  default     = false
  nullable    = false
}

variable "reconcile_schedule" {
  description = "Schedule of the reconcile run, the backstop for lost events: daily by default (a cron such as cron(0 3 * * ? *) picks your quiet hour); null to opt out, and then no reconcile resource at all. Needs enable_user_changes: set it to null too when you turn user changes off."
  type        = string
  default     = "rate(1 day)"

  validation {
    condition     = var.reconcile_schedule == null || can(regex("^(rate|cron)\\(.+\\)$", var.reconcile_schedule))
    error_message = "reconcile_schedule must be null or an EventBridge schedule expression such as rate(1 day)."
  }
}

variable "reconcile_max_rps" {
  description = "Cognito ListUsers calls a second the reconcile run makes at most (RECONCILE_MAX_RPS); the account's 30 RPS are shared with everything else."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.reconcile_max_rps >= 0.2 && var.reconcile_max_rps <= 25
    error_message = "reconcile_max_rps must be from 0.2 to 25."
  }
}

variable "reconcile_max_deletes" {
  description = "Users a reconcile run deletes from the User Service at most (RECONCILE_MAX_DELETES)."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.reconcile_max_deletes == floor(var.reconcile_max_deletes) && var.reconcile_max_deletes >= 0 && var.reconcile_max_deletes <= 1000
    error_message = "reconcile_max_deletes must be a whole number from 0 to 1000."
  }
}

variable "reconcile_overdue_days" {
  description = "Days without a completed reconcile run after which the reconcile-runs-not-completing alarm fires: the schedule's interval in days plus one (2 for a daily schedule; 7 at most, the longest a CloudWatch alarm evaluates)."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.reconcile_overdue_days == floor(var.reconcile_overdue_days) && var.reconcile_overdue_days >= 1 && var.reconcile_overdue_days <= 7
    error_message = "reconcile_overdue_days must be a whole number from 1 to 7."
  }
}

variable "subnet_ids" {
  description = "Subnets for every function (VPC access); empty for none. Then the functions need VPC endpoints or a NAT to reach SQS, Secrets Manager, Cognito and the User Service (docs/deploy.md). Requires security_group_ids."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "security_group_ids" {
  description = "Security groups of the functions' network interfaces, with subnet_ids."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the queues, the log groups and reconcile's run ledger; null for SQS-managed encryption, CloudWatch Logs' own and DynamoDB's default. Its key policy must let CloudWatch Logs (and EventBridge, for the changes queue) use it: see docs/deploy.md."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or the ARN of a KMS key (not an alias)."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for every role the module creates; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::(\\d{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be null or the ARN of an IAM managed policy."
  }
}

variable "post_confirmation_memory_size" {
  description = "Memory (MB) of the post-confirmation function."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.post_confirmation_memory_size == floor(var.post_confirmation_memory_size) && var.post_confirmation_memory_size >= 128 && var.post_confirmation_memory_size <= 10240
    error_message = "post_confirmation_memory_size must be a whole number from 128 to 10240."
  }
}

variable "retry_worker_memory_size" {
  description = "Memory (MB) of the retry worker."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.retry_worker_memory_size == floor(var.retry_worker_memory_size) && var.retry_worker_memory_size >= 128 && var.retry_worker_memory_size <= 10240
    error_message = "retry_worker_memory_size must be a whole number from 128 to 10240."
  }
}

variable "user_changes_memory_size" {
  description = "Memory (MB) of the user-changes function."
  type        = number
  default     = 256
  nullable    = false

  validation {
    condition     = var.user_changes_memory_size == floor(var.user_changes_memory_size) && var.user_changes_memory_size >= 128 && var.user_changes_memory_size <= 10240
    error_message = "user_changes_memory_size must be a whole number from 128 to 10240."
  }
}

variable "reconcile_memory_size" {
  description = "Memory (MB) of the reconcile function."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.reconcile_memory_size == floor(var.reconcile_memory_size) && var.reconcile_memory_size >= 128 && var.reconcile_memory_size <= 10240
    error_message = "reconcile_memory_size must be a whole number from 128 to 10240."
  }
}

variable "post_confirmation_reserved_concurrency" {
  description = "Reserved concurrency of the post-confirmation function; null for none. Too low a value throttles sign-ups' triggers (those users are confirmed but not synced): see docs/deploy.md."
  type        = number
  default     = null

  validation {
    condition     = var.post_confirmation_reserved_concurrency == null || try(var.post_confirmation_reserved_concurrency == floor(var.post_confirmation_reserved_concurrency) && var.post_confirmation_reserved_concurrency >= 0, false)
    error_message = "post_confirmation_reserved_concurrency must be null or a whole number."
  }
}

variable "retry_worker_reserved_concurrency" {
  description = "Reserved concurrency of the retry worker, at least retry_worker_maximum_concurrency (a lower value is refused at plan time); null for none."
  type        = number
  default     = null

  validation {
    condition     = var.retry_worker_reserved_concurrency == null || try(var.retry_worker_reserved_concurrency == floor(var.retry_worker_reserved_concurrency) && var.retry_worker_reserved_concurrency >= 0, false)
    error_message = "retry_worker_reserved_concurrency must be null or a whole number."
  }
}

variable "user_changes_reserved_concurrency" {
  description = "Reserved concurrency of the user-changes function, at least user_changes_maximum_concurrency (a lower value is refused at plan time); null for none."
  type        = number
  default     = null

  validation {
    condition     = var.user_changes_reserved_concurrency == null || try(var.user_changes_reserved_concurrency == floor(var.user_changes_reserved_concurrency) && var.user_changes_reserved_concurrency >= 0, false)
    error_message = "user_changes_reserved_concurrency must be null or a whole number."
  }
}

variable "reconcile_reserved_concurrency" {
  description = "Reserved concurrency of the reconcile function, at least 2, the reconcile queue's maximum concurrency (a lower value is refused at plan time); null for none."
  type        = number
  default     = null

  validation {
    condition     = var.reconcile_reserved_concurrency == null || try(var.reconcile_reserved_concurrency == floor(var.reconcile_reserved_concurrency) && var.reconcile_reserved_concurrency >= 0, false)
    error_message = "reconcile_reserved_concurrency must be null or a whole number."
  }
}

variable "post_confirmation_zip" {
  description = "Path of dist/post-confirmation.zip, built by `npm run package`; or null with s3_bucket and post_confirmation_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.post_confirmation_zip == null || endswith(coalesce(var.post_confirmation_zip, "-"), ".zip")
    error_message = "post_confirmation_zip must be the path of a .zip file."
  }
}

variable "retry_worker_zip" {
  description = "Path of dist/retry-worker.zip; or null with s3_bucket and retry_worker_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.retry_worker_zip == null || endswith(coalesce(var.retry_worker_zip, "-"), ".zip")
    error_message = "retry_worker_zip must be the path of a .zip file."
  }
}

variable "user_changes_zip" {
  description = "Path of dist/user-changes.zip (needed with enable_user_changes); or null with s3_bucket and user_changes_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.user_changes_zip == null || endswith(coalesce(var.user_changes_zip, "-"), ".zip")
    error_message = "user_changes_zip must be the path of a .zip file."
  }
}

variable "reconcile_zip" {
  description = "Path of dist/reconcile.zip (needed with reconcile_schedule); or null with s3_bucket and reconcile_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.reconcile_zip == null || endswith(coalesce(var.reconcile_zip, "-"), ".zip")
    error_message = "reconcile_zip must be the path of a .zip file."
  }
}

variable "s3_bucket" {
  description = "S3 bucket holding the zips (in the deployment's region); when set, every function's code comes from it (the *_s3_key variables) and the *_zip paths are ignored."
  type        = string
  default     = null
}

variable "post_confirmation_s3_key" {
  description = "Key of post-confirmation.zip in s3_bucket. Use a new key for each build (a version or hash in it): the function is updated when the key changes."
  type        = string
  default     = null
}

variable "retry_worker_s3_key" {
  description = "Key of retry-worker.zip in s3_bucket."
  type        = string
  default     = null
}

variable "user_changes_s3_key" {
  description = "Key of user-changes.zip in s3_bucket (needed with enable_user_changes)."
  type        = string
  default     = null
}

variable "reconcile_s3_key" {
  description = "Key of reconcile.zip in s3_bucket (needed with reconcile_schedule)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
  nullable    = false
}
