"""catalog_tracks → track_analyses as real Dagster materializations on a real Postgres."""

import dagster as dg
import pytest

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.analyses.checks import every_track_described
from spotify_assets.defs.catalog.assets import QUARANTINE_CHECK, catalog_tracks
from spotify_assets.defs.catalog.checks import no_duplicate_track_ids
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.reports import CatalogReport, read_report
from spotify_assets_tests.dagster_helpers import check_outcomes, write_catalog
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta

ASSETS = [catalog_tracks, track_analyses, no_duplicate_track_ids, every_track_described]


def run(database_url, instance, path, **config):
    return dg.materialize(
        ASSETS,
        resources={"database": DatabaseResource(url=database_url)},
        instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(path), **config}}}},
        raise_on_error=False,
    )


@pytest.fixture
def catalog(tmp_path):
    return write_catalog(tmp_path, n_tracks=300, seed=5)


def test_first_run_loads_and_describes_everything(database_url, instance, catalog):
    path, _ = catalog
    result = run(database_url, instance, path)
    assert result.success
    tracks = meta(result, "catalog_tracks")
    assert (tracks["format"], tracks["loaded"], tracks["quarantined"]) == ("sample", 300, 0)
    analyses = meta(result, "track_analyses")
    assert (analyses["tracks"], analyses["written"], analyses["unchanged"]) == (300, 300, 0)
    # what the CLI prints, read back through the one reader
    assert read_report("catalog_tracks", tracks) == CatalogReport(
        loaded=300, unchanged=0, duplicates=0, quarantined=0, coerced=0
    )
    assert read_report("track_analyses", analyses).line() == "written 300, unchanged 0"
    assert check_outcomes(result) == {
        QUARANTINE_CHECK: True,
        "no_duplicate_track_ids": True,
        "every_track_described": True,
    }


def test_second_run_writes_nothing_and_says_so(database_url, instance, catalog):
    path, _ = catalog
    assert run(database_url, instance, path).success
    again = run(database_url, instance, path)
    assert again.success
    assert (
        meta(again, "catalog_tracks")["loaded"],
        meta(again, "catalog_tracks")["unchanged"],
    ) == (0, 300)
    assert (
        meta(again, "track_analyses")["written"],
        meta(again, "track_analyses")["unchanged"],
    ) == (0, 300)


def test_a_changed_row_is_reanalysed_alone(database_url, instance, catalog, db):
    path, frame = catalog
    assert run(database_url, instance, path).success
    with db.connect() as conn:
        before = dict(conn.execute("SELECT track_id, content_hash FROM track_analyses"))
    frame.loc[10, "valence"] = 0.05
    frame.to_csv(path, index=False)
    result = run(database_url, instance, path)
    assert meta(result, "catalog_tracks")["updated"] == 1
    assert meta(result, "track_analyses")["written"] == 1
    with db.connect() as conn:
        after = dict(conn.execute("SELECT track_id, content_hash FROM track_analyses"))
        text = conn.execute(
            "SELECT description FROM track_analyses WHERE track_id = %s", (frame.track_id[10],)
        ).fetchone()[0]
    assert {k for k in before if before[k] != after[k]} == {frame.track_id[10]}
    assert "melancholic (valence 0.05)" in text


def test_rejected_source_fails_the_run_with_the_reason(database_url, instance, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n")
    result = run(database_url, instance, path)
    assert not result.success
    failure = result.failure_data_for_node("catalog_tracks")
    assert "nothing was written" in failure.error.message
    assert "unknown catalog format" in failure.error.message


def test_the_format_config_reaches_the_loader_and_coercions_are_reported(
    database_url, instance, catalog
):
    path, frame = catalog
    refused = run(database_url, instance, path, format="kaggle_600k")
    assert not refused.success
    message = refused.failure_data_for_node("catalog_tracks").error.message
    assert "format kaggle_600k" in message and "lacks: id, name;" in message
    frame = frame.astype(str)
    frame.loc[[1, 2, 3], "popularity"] = "n/a"
    frame.to_csv(path, index=False)
    result = run(database_url, instance, path, format="sample")
    assert result.success
    tracks = meta(result, "catalog_tracks")
    assert (tracks["loaded"], tracks["quarantined"], tracks["coerced"]) == (300, 0, 3)
    assert tracks["coerced_fields"] == {"popularity": 3}


def test_too_many_quarantined_rows_block_downstream(database_url, instance, catalog):
    path, frame = catalog
    frame = frame.astype(str)
    frame.loc[:59, "energy"] = "n/a"  # 20% of rows
    frame.to_csv(path, index=False)
    result = run(database_url, instance, path, max_quarantine_ratio=0.1)
    assert not result.success
    assert check_outcomes(result)[QUARANTINE_CHECK] is False
    assert meta(result, "catalog_tracks")["quarantined"] == 60
    assert not [
        e for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "track_analyses"
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_tidytuesday_through_dagster(database_url, instance, shared_data):
    result = run(database_url, instance, shared_data / "tidytuesday" / "spotify_songs.parquet")
    assert result.success
    tracks = meta(result, "catalog_tracks")
    assert (tracks["tracks_in_file"], tracks["duplicates"], tracks["playlists_written"]) == (
        28356,
        4477,
        471,
    )
    assert meta(result, "track_analyses")["written"] == 28356
