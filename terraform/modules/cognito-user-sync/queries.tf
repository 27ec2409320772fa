# The Logs Insights queries of docs/deploy.md, saved (CloudWatch console: Logs Insights, Queries, in
# the folder named after name_prefix), each scoped to the log groups of the functions it reads; the
# same queries as template.yaml's.

locals {
  deployed = {
    post_confirmation = true
    retry_worker      = true
    user_changes      = local.user_changes
    reconcile         = local.reconcile
  }

  log_group = {
    post_confirmation = aws_cloudwatch_log_group.post_confirmation.name
    retry_worker      = aws_cloudwatch_log_group.retry_worker.name
    user_changes      = one(aws_cloudwatch_log_group.user_changes[*].name)
    reconcile         = one(aws_cloudwatch_log_group.reconcile[*].name)
  }

  queries = {
    dropped-users = {
      query      = "fields @timestamp, userPoolId, cognitoSub, reason, queueFailure | filter outcome = \"dropped\" | sort @timestamp desc"
      log_groups = ["post_confirmation"]
    }
    user-service-failures = {
      query      = "filter outcome in [\"queued\", \"deferred\", \"dead-lettered\"] | stats count(*) as failures by bin(5m), @log, outcome, reason, httpStatus"
      log_groups = ["post_confirmation", "retry_worker", "user_changes"]
    }
    dead-letters = {
      query      = "fields @timestamp, @log, cognitoSub, reason, detail, httpStatus | filter outcome = \"dead-lettered\" | sort @timestamp desc"
      log_groups = ["retry_worker", "user_changes"]
    }
    function-errors = {
      query      = "fields @timestamp, @log, @message | filter level = \"ERROR\" or @message like /Task timed out/ or @message like /Runtime\\./ | sort @timestamp desc | limit 200"
      log_groups = ["post_confirmation", "retry_worker", "user_changes", "reconcile"]
    }
    reconcile-runs = {
      query      = "fields @timestamp, runId, message | filter message like /Reconcile run completed|Reconcile handed on|DescribeUserPool failed/ | sort @timestamp desc"
      log_groups = ["reconcile"]
    }
  }
}

resource "aws_cloudwatch_query_definition" "this" {
  # A query on the log groups of the deployed functions only; none when none of them is deployed.
  for_each = { for name, query in local.queries : name => {
    query      = query.query
    log_groups = [for function in query.log_groups : function if local.deployed[function]]
  } if anytrue([for function in query.log_groups : local.deployed[function]]) }

  name            = "${var.name_prefix}/${each.key}"
  query_string    = each.value.query
  log_group_names = [for function in each.value.log_groups : local.log_group[function]]
}
