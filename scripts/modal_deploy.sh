#!/usr/bin/env bash
# Deploy the Modal app behind the `modal` compute backend (spotify_assets/modal_app.py).
# Needs MODAL_TOKEN_ID / MODAL_TOKEN_SECRET; extra arguments go to `modal deploy`
# (e.g. --env staging).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -n "${MODAL_TOKEN_ID:-}" ] || missing+=(MODAL_TOKEN_ID)
[ -n "${MODAL_TOKEN_SECRET:-}" ] || missing+=(MODAL_TOKEN_SECRET)
if [ ${#missing[@]} -gt 0 ]; then
  echo "error: not set: ${missing[*]}" >&2
  echo "  Create a token at https://modal.com/settings/tokens, then" >&2
  echo "  export MODAL_TOKEN_ID=ak-... MODAL_TOKEN_SECRET=as-... and rerun $0" >&2
  echo "  (or keep them in docker/.env and run: set -a; . docker/.env; set +a)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  ./scripts/setup.sh
fi
if ! .venv/bin/python -c 'import modal' >/dev/null 2>&1; then
  echo "modal_deploy: installing the modal extra"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[modal]"
fi

echo "modal_deploy: deploying spotify_assets/modal_app.py"
.venv/bin/modal deploy spotify_assets/modal_app.py "$@"

cat <<'DONE'

modal_deploy: deployed the `spotify-assets` app (embed_batch, classify_emotions, rerank_pairs).
To embed on Modal, switch the compute backend:
  SPOTIFY_ASSETS_COMPUTE_BACKEND=modal    (in docker/.env, or export it for the CLI)
and give the processes that launch runs the same MODAL_TOKEN_ID / MODAL_TOKEN_SECRET.
Check with: spotify-assets doctor
DONE
