"""A run the CLI makes is the UI's run too: listed under its job (Overview timeline, the job's
runs, re-execution), which the UI does only for runs carrying their code location's origin."""

from pathlib import Path

import yaml

from spotify_assets.cli.runtime import CODE_LOCATION, REPO_ROOT, launch
from spotify_assets.defs import run_config
from spotify_assets.lib.reports import CatalogReport
from spotify_assets.lib.sample import generate_tracks


def test_a_cli_run_carries_the_code_location_the_ui_lists_it_under(
    pg_instance, database_url, monkeypatch, tmp_path: Path
):
    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME

    monkeypatch.setenv("DATABASE_URL", database_url)
    path = tmp_path / "tracks.csv"
    generate_tracks(40).to_csv(path, index=False)
    run = launch("load_catalog", pg_instance, run_config=run_config.catalog(str(path)))
    assert run.success
    assert run.report("catalog_tracks", CatalogReport).loaded == 40  # steps report as before

    origin = pg_instance.get_run_by_id(run.result.run_id).remote_job_origin
    assert origin is not None  # before: none, and the Overview timeline said "No runs"
    workspace = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    assert origin.location_name == location["python_module"]["location_name"] == CODE_LOCATION
    assert origin.repository_origin.repository_name == SINGLETON_REPOSITORY_NAME
    assert origin.job_name == "load_catalog"
