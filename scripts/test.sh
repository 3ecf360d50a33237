#!/usr/bin/env bash
# The test command: set up .venv if needed, then run the whole suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DAGSTER_DISABLE_TELEMETRY=1
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
