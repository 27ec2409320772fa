# Both queues hold users' PII, hence encryption. The worker defers a message by changing its
# visibility (up to 12 h); the queue's own timeout only covers one processing attempt and must
# exceed six times the worker's timeout, as AWS advises for event sources.

resource "aws_sqs_queue" "retry" {
  name                       = "${var.name_prefix}-retry"
  sqs_managed_sse_enabled    = true
  message_retention_seconds  = 1209600
  visibility_timeout_seconds = 180
  delay_seconds              = 30

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
  })

  tags = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "${var.name_prefix}-dead-letter"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600

  tags = var.tags
}
