#!/usr/bin/env bash
# The whole system on the embedded broker, with demo traffic and live progress.
# Installs what is missing first. Options go to `pronto demo`, e.g.:
#   scripts/demo.sh --duration 60 --rate 20
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
printf '\n==> pronto demo %s\n' "$*"
exec .venv/bin/pronto demo "$@"
