"""The Dagster UI as users meet it: a real dagster-webserver (and daemon) on 127.0.0.1, a
backfill launched through GraphQL as the UI launches it, and the asset graph in headless
Chromium."""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import yaml

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.sample import generate_tracks
from spotify_assets_tests.ops.services import DagsterServices

PIPELINE_ASSETS = {
    "catalog_tracks", "track_analyses", "track_embeddings", "search_index", "search_evaluation",
    "track_emotions", "playlists", "candidates", "playlist_profiles", "match_results",
    "match_evaluation",
}  # fmt: skip
SCREENSHOTS = Path(
    os.environ.get("SPOTIFY_ASSETS_SCREENSHOTS", Path(tempfile.gettempdir()) / "spotify_assets_ui")
)
LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status numPartitions }
    ... on PythonError { message }
  }
}"""


def two_tiny_bundles(path: Path, model_dir: Path) -> Path:
    bundles = {
        f"tiny-{i}": {
            "embedding": {
                "model": f"test/tiny-{i}",
                "source": str(model_dir),
                "dims": 32,
                # a different document format: a different bundle (and vectors) per i
                "document_format": f"{{text}} ({i})",
            },
            "emotion": {"backend": "none"},
        }
        for i in (1, 2)
    }
    path.write_text(yaml.safe_dump({"bundles": bundles}))
    return path


@pytest.mark.slow
def test_backfill_over_two_bundles_through_graphql_and_the_asset_graph_in_chromium(
    database_url, dagster_pg_url, pg_instance, tmp_path, tiny_model_dir, monkeypatch
):
    bundles_file = two_tiny_bundles(tmp_path / "bundles.yaml", tiny_model_dir)
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles_file))
    hashes = [load_bundles().by_name(f"tiny-{i}").hash for i in (1, 2)]
    catalog = tmp_path / "tracks.csv"
    tracks = generate_tracks(n_tracks=40, seed=12)
    tracks.to_csv(catalog, index=False)
    loaded = dg.materialize(
        [catalog_tracks, track_analyses],
        resources={"database": DatabaseResource(url=database_url)},
        instance=pg_instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}},
    )
    assert loaded.success
    pg_instance.add_dynamic_partitions("model_bundle", hashes)

    services = DagsterServices(
        tmp_path / "dagster_home", dagster_pg_url, database_url,
        env={"SPOTIFY_ASSETS_BUNDLES": str(bundles_file)},
    )  # fmt: skip
    with services:
        started = time.monotonic()
        services.start_webserver()
        services.start_daemon()
        up = time.monotonic() - started

        # the UI's view of the code location: every pipeline asset, bundles as partitions
        query = (
            "{ assetNodes { assetKey { path } isPartitioned groupName "
            "repository { name location { name } } } }"
        )
        nodes = services.graphql(query)["assetNodes"]
        keys = {n["assetKey"]["path"][-1] for n in nodes}
        assert keys >= PIPELINE_ASSETS
        partitioned = {n["assetKey"]["path"][-1] for n in nodes if n["isPartitioned"]}
        assert {"track_embeddings", "match_results", "playlist_profiles"} <= partitioned

        # launch the backfill as the UI's "Materialize selected (2 partitions)" does
        launched = services.graphql(
            LAUNCH,
            {"params": {"partitionNames": hashes,
                        "assetSelection": [{"path": ["track_embeddings"]}]}},
        )["launchPartitionBackfill"]  # fmt: skip
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_started = time.monotonic()
        status = None
        while time.monotonic() - backfill_started < 420:
            result = services.graphql(STATUS, {"id": launched["backfillId"]})
            status = result["partitionBackfillOrError"]["status"]
            if status in (
                "COMPLETED",
                "COMPLETED_SUCCESS",
                "FAILED",
                "COMPLETED_FAILED",
                "CANCELED",
            ):
                break
            time.sleep(2)
        backfill_seconds = time.monotonic() - backfill_started
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), f"{status}\n{services.tail()}"

        with psycopg.connect(database_url) as conn:
            counts = dict(
                conn.execute(
                    "SELECT bundle_hash, count(*) FROM track_embeddings GROUP BY 1"
                ).fetchall()
            )
        assert counts == {h: len(tracks) for h in hashes}
        materialized = pg_instance.get_materialized_partitions(dg.AssetKey("track_embeddings"))
        assert set(hashes) <= set(materialized)
        print(
            f"\nbackfill: services up in {up:.1f}s, 2 bundle partitions materialized "
            f"{backfill_seconds:.1f}s after launch"
        )

        repo = nodes[0]["repository"]
        screenshot_asset_graph(services, f"{repo['name']}@{repo['location']['name']}")


def screenshot_asset_graph(services: DagsterServices, location: str) -> None:
    """Headless Chromium opens the asset graph; the screenshot is kept for people to look at
    and the rendered DOM must name the pipeline's assets."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip(
            "Debian chromium is not installed (scripts/test.sh installs it when run as root "
            "with apt-get); the GraphQL checks above ran"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots = {
        SCREENSHOTS / "asset_graph.png": f"{services.url}/asset-groups",
        SCREENSHOTS / "asset_graph_matching.png": (
            f"{services.url}/locations/{location}/asset-groups/matching/lineage"
        ),
    }
    for shot in shots:
        shot.unlink(missing_ok=True)
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1600,1000",
        "--virtual-time-budget=25000",
    ]  # fmt: skip
    for shot, page in shots.items():
        subprocess.run(
            [chromium, *flags, f"--screenshot={shot}", page], capture_output=True, timeout=180
        )
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {page}"
    # the assets list renders only the rows in view: a window tall enough for every asset
    tall = [f for f in flags if not f.startswith("--window-size")] + ["--window-size=1600,4000"]
    dom = subprocess.run(
        [chromium, *tall, "--dump-dom", f"{services.url}/assets"],
        capture_output=True, text=True, timeout=180,
    ).stdout  # fmt: skip
    shown = {name for name in PIPELINE_ASSETS if name in dom}
    assert shown == PIPELINE_ASSETS, f"the assets page shows only {sorted(shown)}"
    print(f"screenshots: {', '.join(map(str, shots))}")
