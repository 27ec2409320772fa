# What `cognito-user-sync backfill`, `replay`, `reconcile` and `status` need against this
# deployment, as a policy document for the operators' roles (output operator_policy_json; list the
# roles in operator_role_arns too). `status` reads every queue's attributes (and from CloudWatch the
# age of the oldest message and the workers' deferrals) but receives from the dead-letter queues
# only, so it never bumps the receive count of a message still being retried.

locals {
  operator_queues = concat(
    [aws_sqs_queue.retry.arn, aws_sqs_queue.dead_letter.arn],
    aws_sqs_queue.changes[*].arn,
    aws_sqs_queue.changes_dead_letter[*].arn,
    aws_sqs_queue.reconcile[*].arn,
    aws_sqs_queue.reconcile_dead_letter[*].arn,
  )
}

data "aws_iam_policy_document" "operator" {
  # backfill and reconcile call the User Service: its secrets, and the key when given.
  source_policy_documents = [data.aws_iam_policy_document.secrets_and_key.json]

  # backfill and reconcile list the pool and read users; reconcile reads the pool's settings.
  statement {
    sid       = "ReadUserPool"
    actions   = ["cognito-idp:AdminGetUser", "cognito-idp:DescribeUserPool", "cognito-idp:ListUsers"]
    resources = [local.user_pool_arn]
  }

  # status: depths and ages of every queue; replay: the queues' ARNs.
  statement {
    sid       = "ReadQueueAttributes"
    actions   = ["sqs:GetQueueAttributes"]
    resources = local.operator_queues
  }

  # replay moves dead letters with a message move task (or, with --max, receives and deletes them
  # one by one); status peeks at dead letters, the reconcile ones too, and makes them visible again
  # at once; a stopped reconcile run's position is deleted by hand once its cause is fixed.
  statement {
    sid = "ReadAndMoveDeadLetters"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:ListMessageMoveTasks",
      "sqs:ReceiveMessage",
      "sqs:StartMessageMoveTask",
    ]
    resources = concat(
      [aws_sqs_queue.dead_letter.arn],
      aws_sqs_queue.changes_dead_letter[*].arn,
      aws_sqs_queue.reconcile_dead_letter[*].arn,
    )
  }

  # Where replayed messages go back to (a move task sends with its starter's permissions).
  statement {
    sid       = "ReplayDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = concat([aws_sqs_queue.retry.arn], aws_sqs_queue.changes[*].arn)
  }

  # status: the age of a redriving queue's oldest message, and the workers' deferrals (namespace
  # CognitoUserSync), from CloudWatch (which has no resource-level permissions for reading metrics).
  statement {
    sid       = "ReadQueueAges"
    actions   = ["cloudwatch:GetMetricStatistics"]
    resources = ["*"]
  }
}
