# Only when no pool is given; an existing pool is wired as docs/deploy.md says, not here, because
# managing it would make Terraform the owner of all its settings.
resource "aws_cognito_user_pool" "this" {
  count = local.create_user_pool ? 1 : 0

  name                     = var.name_prefix
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.user_pool_deletion_protection ? "ACTIVE" : "INACTIVE"

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  lambda_config {
    post_confirmation = aws_lambda_function.post_confirmation.arn
  }

  tags = var.tags
}
