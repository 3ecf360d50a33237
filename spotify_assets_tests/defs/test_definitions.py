import os
import subprocess
import sys
from pathlib import Path

from spotify_assets.definitions import defs
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.reports import REPORTS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_assets_checks_and_resources():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"catalog_tracks", "track_analyses"} <= keys
    assert {c.name for c in graph.asset_check_keys} >= {
        "no_duplicate_track_ids",
        "quarantine_ratio_below_threshold",
        "every_track_described",
    }
    assert isinstance(definitions.resources["database"], DatabaseResource)
    upstream = graph.get(
        next(k for k in graph.get_all_asset_keys() if k.path == ["track_analyses"])
    )
    # described from the catalog and from what enrichment filled in
    assert sorted(p.to_user_string() for p in upstream.parent_keys) == [
        "catalog_tracks", "track_enrichment",
    ]  # fmt: skip


def test_every_report_the_cli_reads_names_an_asset_of_the_definitions():
    """lib/reports.py keys its reports by asset name: a renamed asset must rename its entry."""
    keys = {k.to_user_string() for k in defs().resolve_asset_graph().get_all_asset_keys()}
    assert sorted(set(REPORTS) - keys) == []


def test_dagster_cli_validates_the_workspace(dagster_pg_url):
    # run from the repository, the dagster CLI reads its dagster.yaml: instance on Postgres
    env = {**os.environ, "DAGSTER_PG_URL": dagster_pg_url}
    env.pop("DAGSTER_HOME", None)
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_the_cli_builds_the_code_location_s_own_resources():
    """cli/runtime.resources builds them from their modules without loading the code
    location: the same keys, of the same classes, as the definitions give every run."""
    from spotify_assets.defs.artifacts import artifact_run_resources
    from spotify_assets.defs.resources import run_resources

    alone = {**run_resources(), **artifact_run_resources()}
    assert {k: type(v) for k, v in alone.items()} == {
        k: type(v) for k, v in defs().resources.items()
    }
