#!/usr/bin/env bash
# The test command: set up .venv if needed, then run the whole suite offline.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The UI browser test uses Debian's Chromium: install it when we can (root + apt-get); when it
# cannot be installed that test skips with the reason and its GraphQL checks still run.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "test: installing chromium (Debian) for the UI browser test"
  { apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; } \
    || echo "test: chromium could not be installed; the browser test will skip"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DAGSTER_DISABLE_TELEMETRY=1
.venv/bin/ruff check .
# two workers (pytest-xdist), each with its own embedded Postgres: the suite waits on
# subprocesses, servers and the browser as much as on the CPU, so two fit a 2-core machine
# (TEST_WORKERS=0 runs in this process, e.g. for a debugger)
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
