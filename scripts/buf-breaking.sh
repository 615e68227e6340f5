#!/usr/bin/env bash
# Checks the contracts in proto/ for breaking changes against a git base:
# PRONTO_BUF_AGAINST if set, else origin/main when this branch differs from it,
# else the previous commit. Wire compatibility is what matters (buf's FILE rules).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
base="${PRONTO_BUF_AGAINST:-}"
if [ -z "$base" ]; then
  if git rev-parse -q --verify origin/main >/dev/null && [ "$(git rev-parse origin/main)" != "$(git rev-parse HEAD)" ]; then
    base=origin/main
  elif git rev-parse -q --verify HEAD~1 >/dev/null; then
    base=HEAD~1
  fi
fi
if [ -z "$base" ] || ! git cat-file -e "$base:proto/buf.yaml" 2>/dev/null; then
  echo "buf breaking: no earlier contract to compare with (base: ${base:-none}); nothing to check"
  exit 0
fi
echo "buf breaking against $base ($(git rev-parse --short "$base"))"
tools/buf/node_modules/.bin/buf breaking proto --against ".git#ref=$(git rev-parse "$base"),subdir=proto"
