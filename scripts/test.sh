#!/usr/bin/env bash
# Sets everything up, then runs the whole test suite (lint included).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 "$@"
