"""A run the CLI makes is the UI's run too: listed under its job (Overview timeline, the job's
runs, re-execution), which the UI does only for runs carrying their code location's origin."""

from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_an_interrupted_cli_step_stops_instead_of_starting_again(
    pg_instance, database_url, monkeypatch, tmp_path: Path
):
    """Dagster retries a step with a RetryPolicy when it is interrupted too (a preempted pod);
    at a terminal Ctrl-C restarted the embedding it stopped. A CLI run stops, and says so."""
    import os
    import signal

    from spotify_assets.cli.runtime import root_cause
    from spotify_assets.defs.partitions import ensure_bundle_partition
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.models.embedder import SentenceEmbedder

    monkeypatch.setenv("DATABASE_URL", database_url)
    path = tmp_path / "tracks.csv"
    generate_tracks(40).to_csv(path, index=False)
    assert launch("load_catalog", pg_instance, run_config=run_config.catalog(str(path))).success
    calls = []

    def interrupted(self, texts, kind="document"):
        calls.append(len(texts))
        os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does, inside the step
        raise AssertionError("the interrupt was not raised here")

    monkeypatch.setattr(SentenceEmbedder, "embed", interrupted)
    bundle = load_bundles().default_bundle
    ensure_bundle_partition(pg_instance, bundle.hash)
    run = launch("embed_library", pg_instance, partition_key=bundle.hash)
    assert not run.success and len(calls) == 1  # before: up for retry, embedded again
    events = [e.event_type_value for e in run.result.all_events]
    assert "STEP_UP_FOR_RETRY" not in events
    [failure] = [e for e in run.result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "track_embeddings"
    assert root_cause(failure.event_specific_data.error).startswith("interrupted; what was")
