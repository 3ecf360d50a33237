"""A run that fails deterministically runs once: dagster.yaml retries only runs whose worker
died (retry_on_asset_or_op_failure: false), so a missing model does not fail three times."""

import time

import dagster as dg
import pytest
import yaml

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.sample import generate_tracks
from spotify_assets_tests.ops.services import DagsterServices
from spotify_assets_tests.ops.test_ui_and_backfill import LAUNCH, STATUS

DONE = ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED")


@pytest.mark.slow
def test_a_failing_run_is_not_retried(
    database_url, dagster_pg_url, pg_instance, tmp_path, monkeypatch
):
    bundles_file = tmp_path / "bundles.yaml"
    bundles_file.write_text(
        yaml.safe_dump(
            {"bundles": {"missing-model": {
                "embedding": {"model": "test/not-here", "source": str(tmp_path / "no-model"),
                              "dims": 32},
                "emotion": {"backend": "none"},
            }}}
        )
    )  # fmt: skip
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles_file))
    bundle = load_bundles().by_name("missing-model").hash
    catalog = tmp_path / "tracks.csv"
    generate_tracks(n_tracks=20, seed=3).to_csv(catalog, index=False)
    assert dg.materialize(
        [catalog_tracks, track_analyses], resources={"database": DatabaseResource(url=database_url)},
        instance=pg_instance, run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}},
    ).success  # fmt: skip
    pg_instance.add_dynamic_partitions("model_bundle", [bundle])

    services = DagsterServices(
        tmp_path / "dagster_home", dagster_pg_url, database_url,
        env={"SPOTIFY_ASSETS_BUNDLES": str(bundles_file)},
    )  # fmt: skip
    with services:
        services.start_webserver()
        services.start_daemon()
        launched = services.graphql(
            LAUNCH,
            {"params": {"partitionNames": [bundle],
                        "assetSelection": [{"path": ["track_embeddings"]}]}},
        )["launchPartitionBackfill"]  # fmt: skip
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        deadline, status = time.monotonic() + 300, None
        while time.monotonic() < deadline and status not in DONE:
            status = services.graphql(STATUS, {"id": launched["backfillId"]})[
                "partitionBackfillOrError"
            ]["status"]
            time.sleep(2)
        assert status in ("FAILED", "COMPLETED_FAILED"), f"{status}\n{services.tail()}"

        def runs():
            return pg_instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": bundle}))

        # the retry daemon acts within seconds of a failure; give it more than enough time
        settle = time.monotonic() + 40
        while time.monotonic() < settle and len(runs()) == 1:
            time.sleep(2)
        [run] = runs()
        assert run.status == dg.DagsterRunStatus.FAILURE
        failure = next(
            e for e in pg_instance.all_logs(run.run_id) if e.dagster_event_type
            == dg.DagsterEventType.STEP_FAILURE
        )  # fmt: skip
        assert "test/not-here" in failure.dagster_event.event_specific_data.error.message
