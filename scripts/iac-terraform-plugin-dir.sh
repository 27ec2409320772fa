#!/usr/bin/env bash
# Prints the local Terraform plugin directory that holds the hashicorp/aws provider, for
# `terraform init -plugin-dir=…` where the registry cannot be reached.
#
# TF_PLUGIN_DIR wins when set. Otherwise the usual places for a filesystem mirror are searched
# (Terraform's own implied directories first), and the first directory with
# registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/ for this machine is printed.
# Exits 1, saying where it looked, when there is none.
set -euo pipefail

provider=registry.terraform.io/hashicorp/aws

platform() {
  local os arch
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  printf '%s_%s\n' "$os" "$arch"
}

has_provider() {
  compgen -G "$1/$provider/*/$(platform)/terraform-provider-aws*" >/dev/null
}

if [[ -n ${TF_PLUGIN_DIR:-} ]]; then
  if has_provider "$TF_PLUGIN_DIR"; then
    printf '%s\n' "$TF_PLUGIN_DIR"
    exit 0
  fi
  echo "TF_PLUGIN_DIR=$TF_PLUGIN_DIR holds no $provider for $(platform)" >&2
  exit 1
fi

candidates=(
  "$HOME/.terraform.d/plugins"
  "${XDG_DATA_HOME:-$HOME/.local/share}/terraform/plugins"
  /usr/local/share/terraform/plugins
  /usr/share/terraform/plugins
  /usr/local/share
  /usr/share
  /opt
)

for dir in "${candidates[@]}"; do
  [[ -d $dir ]] || continue
  if has_provider "$dir"; then
    printf '%s\n' "$dir"
    exit 0
  fi
  # A mirror one or two levels down, such as /opt/<name>/registry.terraform.io/…
  while IFS= read -r found; do
    root=${found%/"$provider"}
    if has_provider "$root"; then
      printf '%s\n' "$root"
      exit 0
    fi
  done < <(find "$dir" -mindepth 3 -maxdepth 5 -type d -path "*/$provider" 2>/dev/null | sort)
done

echo "No local plugin directory with $provider for $(platform) found; looked in: ${candidates[*]}." >&2
echo "Set TF_PLUGIN_DIR to a directory laid out as <dir>/$provider/<version>/$(platform)/." >&2
exit 1
