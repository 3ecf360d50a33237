#!/usr/bin/env bash
# The demo command: set up .venv if needed, then run the pipeline on the generated sample
# with the embedded Postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DAGSTER_DISABLE_TELEMETRY=1
exec .venv/bin/spotify-assets demo "$@"
