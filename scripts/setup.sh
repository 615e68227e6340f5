#!/usr/bin/env bash
# Installs everything Pronto needs on a fresh Debian machine; safe to run again.
#   .venv/          Python 3.11+ virtualenv with Pronto and its dev tools (pinned in pyproject.toml)
#   kcat            Debian package, a plain Kafka client to inspect records (see scripts/kcat)
#   prometheus      Debian package, for promtool (checks and unit-tests deploy/prometheus rules) and
#                   the Prometheus server the dashboard tests query
#   prometheus-alertmanager, docker-compose, kubectl (kubernetes-client when none is installed):
#                   Debian packages, to check the deployment files (deploy/, docker-compose.yml)
#   chromium, chromium-driver: Debian packages, the headless browser of the console's tests (selenium)
#   tools/buf/      buf from npm, to lint the contracts and check them for breaking changes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Pronto needs Python 3.11 or newer; $python is $("$python" --version 2>&1)" >&2; exit 1; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $("$python" --version)"
  # Debian's python3 needs python3-venv for this; a pyenv or upstream build has it built in.
  "$python" -m venv .venv 2>/dev/null || { rm -rf .venv; apt_install python3-venv; "$python" -m venv .venv; }
fi
step "installing Pronto and its pinned dependencies into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

# kcat: a plain Kafka client (scripts/kcat); prometheus: promtool, which tests the SLA alerting rules,
# and the server the dashboard tests query; prometheus-alertmanager: amtool; docker-compose: lints
# docker-compose.yml (no engine needed).
apt_install kcat prometheus prometheus-alertmanager docker-compose
# The web console's browser tests drive Debian's Chromium through its chromedriver (selenium).
apt_install chromium chromium-driver
# kubectl renders the Kubernetes overlays (kubectl kustomize): Debian's when none is installed.
command -v kubectl >/dev/null || apt_install kubernetes-client

if [ ! -x tools/buf/node_modules/.bin/buf ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  step "installing buf from npm (tools/buf)"
  # No lock file: npm 11 writes one without the other platforms' optional packages, which
  # "npm ci" then rejects. The version is pinned exactly in package.json.
  (cd tools/buf && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error)
fi
