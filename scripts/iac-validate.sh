#!/usr/bin/env bash
# Static checks of both IaC flavours, offline:
#   - cfn-lint template.yaml (it applies the SAM transform with aws-sam-translator): no error, no warning;
#   - terraform fmt -check -recursive terraform/ (and the tests' own root module, tests/iac/fixtures);
#   - terraform init (from the local provider directory, no registry) and validate, on the module
#     and on the three examples, in a scratch copy so no .terraform or lock file lands in the work
#     tree.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf -- '--- %s\n' "$*"; }

step "cfn-lint template.yaml"
cfn-lint template.yaml
echo "no errors, no warnings"

# A CLI configuration file that is named but absent only earns a warning on every command.
if [[ -n ${TF_CLI_CONFIG_FILE:-} && ! -e $TF_CLI_CONFIG_FILE ]]; then unset TF_CLI_CONFIG_FILE; fi

step "terraform fmt -check -recursive terraform tests/iac/fixtures"
terraform fmt -check -recursive -diff terraform tests/iac/fixtures
echo "formatted"

plugin_dir=$(bash scripts/iac-terraform-plugin-dir.sh)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -R terraform "$scratch/terraform"
find "$scratch/terraform" \( -name .terraform -o -name '.terraform.lock.hcl' -o -name '*.tfstate*' \) -prune -exec rm -rf {} +

export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
for dir in modules/cognito-user-sync examples/basic examples/existing-pool examples/vpc; do
  step "terraform validate terraform/$dir"
  terraform -chdir="$scratch/terraform/$dir" init -backend=false -input=false -no-color \
    -plugin-dir="$plugin_dir" >"$scratch/init.log" 2>&1 || {
    cat "$scratch/init.log"
    exit 1
  }
  terraform -chdir="$scratch/terraform/$dir" validate -no-color
  terraform -chdir="$scratch/terraform/$dir" providers -no-color
done
