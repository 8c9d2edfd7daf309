#!/usr/bin/env bash
# Sets everything up (tools/setup_env.sh) and runs the test suite.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
bash tools/setup_env.sh
VENV="${VENV:-$REPO/.venv}"
exec "$VENV/bin/python" -m pytest tests -q -n "${PYTEST_WORKERS:-2}" "$@"
