terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # logging_config on aws_lambda_function arrived in 5.26.
      version = ">= 5.26.0, < 7.0.0"
    }
  }
}
