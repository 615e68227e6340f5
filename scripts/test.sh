#!/usr/bin/env bash
# The test command: installs what is missing, then lints, type-checks, checks
# the contracts, and runs every test (unit, integration with the real broker).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/unit -x
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

step() { printf '\n==> %s\n' "$*"; }
step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "mypy"
.venv/bin/mypy
step "buf lint"
tools/buf/node_modules/.bin/buf lint proto
bash scripts/buf-breaking.sh
step "pytest"
.venv/bin/python -m pytest "$@"
