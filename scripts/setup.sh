#!/usr/bin/env bash
# Creates .venv (if needed) and installs FaceCodec with its test tools and the CPU renderer
# (torch pinned to the local CPU wheel, gsplat, PyAV). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.facecodec-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  # The renderer (SPEC 13): torch 2.13.0 (the CPU wheel when no CUDA one is configured) and
  # gsplat 1.5.3, whose pure-torch helpers the CPU reference uses. FC_SKIP_RENDER=1 skips it.
  if [ "${FC_SKIP_RENDER:-0}" != "1" ]; then
    .venv/bin/python -m pip install -q -e '.[test,render]'
  fi
  touch "$stamp"
fi
