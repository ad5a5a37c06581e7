#!/usr/bin/env bash
# Sets everything up, then runs the main job on the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/fcdemo "$@"
