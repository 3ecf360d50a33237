"""A cold `spotify-assets search` stays fast: it imports neither Dagster nor torch /
sentence-transformers when the numpy query encoder applies (the default model)."""

import json
import os
import subprocess
import sys

HEAVY = ("dagster", "torch", "sentence_transformers", "transformers")
SCRIPT = f"""
import json, sys
from spotify_assets.cli import main
code = main(["search", "calm acoustic piano", "--limit", "3"])
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def test_search_imports_neither_dagster_nor_torch(database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "HF_HUB_OFFLINE": "1",
           "SPOTIFY_ASSETS_HOME": str(tmp_path / "home")}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in run.stderr, run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    # an empty catalog: the query was embedded and searched, and nothing was found
    assert outcome["code"] == 1 and "no results" in run.stderr, run.stderr
    assert outcome["heavy"] == [], outcome
