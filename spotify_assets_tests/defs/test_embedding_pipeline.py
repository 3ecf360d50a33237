"""Bundle-partitioned embeddings, index and evaluation as real Dagster materializations."""

import os
import signal
import subprocess
import sys
import time

import dagster as dg
import psycopg
import pytest

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.embeddings.automation import model_bundle_sensor
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.defs.search.assets import search_evaluation, search_index
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.reports import read_report
from spotify_assets_tests.dagster_helpers import check_evaluations, one_sentence, write_catalog
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.tiny_models import write_bundles_file

BASE = [catalog_tracks, track_analyses]
BUNDLED = [track_embeddings, search_index, search_evaluation]
N = 120


def resources(database_url):
    return {
        "database": DatabaseResource(url=database_url),
        "compute": ComputeResource(device="cpu", precision="fp32"),
    }


def load_catalog(database_url, instance, path):
    result = dg.materialize(
        BASE,
        resources=resources(database_url),
        instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(path)}}}},
    )
    assert result.success


def embed(database_url, instance, bundle_hash, raise_on_error=True):
    if bundle_hash not in instance.get_dynamic_partitions("model_bundle"):
        instance.add_dynamic_partitions("model_bundle", [bundle_hash])
    return dg.materialize(
        [*BASE, *BUNDLED],
        selection=BUNDLED,
        resources=resources(database_url),
        instance=instance,
        partition_key=bundle_hash,
        raise_on_error=raise_on_error,
    )


def rows(database_url, bundle_hash):
    with psycopg.connect(database_url) as conn:
        return dict(
            (r[0], (r[1], r[2]))
            for r in conn.execute(
                "SELECT track_id, content_hash, created_at FROM track_embeddings WHERE bundle_hash = %s",
                (bundle_hash,),
            )
        )


@pytest.fixture
def catalog(tmp_path):
    return write_catalog(tmp_path, n_tracks=N, seed=21)


DEFAULT = load_bundles().default_bundle


@pytest.mark.slow
def test_default_bundle_embeds_once_and_then_only_what_changed(database_url, instance, catalog):
    path, frame = catalog
    load_catalog(database_url, instance, path)
    first = embed(database_url, instance, DEFAULT.hash)
    assert (
        meta(first, "track_embeddings")["embedded"],
        meta(first, "track_embeddings")["reused"],
    ) == (N, 0)
    assert meta(first, "track_embeddings")["dims"] == 384
    assert meta(first, "track_embeddings")["dagster/row_count"] == N
    complete = check_evaluations(first)["embeddings_complete"]
    assert complete.description == f"{N} analysed tracks, each with one unit-norm 384-dim vector."
    assert one_sentence(complete.description)
    assert complete.metadata["max_norm_error"].value < complete.metadata["threshold"].value
    # the model load has a line before it and one after, with its duration
    logs = [
        e.user_message for e in instance.all_logs(first.run_id) if e.step_key == "track_embeddings"
    ]
    model = DEFAULT.embedding.model
    assert any(line.startswith(f"loading embedding model {model} from ") for line in logs)
    assert any(line.startswith(f"loaded embedding model {model} in ") for line in logs)
    assert meta(first, "search_index")["built_now"] is True
    assert meta(first, "search_evaluation")["suite/hybrid_p@10"] >= 0.0
    # the reports the CLI prints (lib/reports.py) read back from the real metadata
    for asset in ("track_embeddings", "search_index", "search_evaluation"):
        assert read_report(asset, meta(first, asset)).line(), asset
    assert read_report("track_embeddings", meta(first, "track_embeddings")).line().startswith(
        f"embedded {N}, reused 0 ("
    )
    before = rows(database_url, DEFAULT.hash)
    assert len(before) == N

    again = embed(database_url, instance, DEFAULT.hash)
    assert (
        meta(again, "track_embeddings")["embedded"],
        meta(again, "track_embeddings")["reused"],
    ) == (0, N)
    assert meta(again, "search_index")["built_now"] is False
    assert rows(database_url, DEFAULT.hash) == before

    changed = frame.track_id[:10].tolist()
    frame.loc[:9, "valence"] = (1 - frame.loc[:9, "valence"]).round(4)
    frame.to_csv(path, index=False)
    load_catalog(database_url, instance, path)
    third = embed(database_url, instance, DEFAULT.hash)
    assert meta(third, "track_embeddings")["embedded"] == 10
    after = rows(database_url, DEFAULT.hash)
    assert len(after) == N
    assert sorted(t for t in after if after[t] != before[t]) == sorted(changed)


@pytest.mark.slow
def test_a_second_bundle_lives_side_by_side(
    database_url, instance, catalog, tiny_model_dir, tmp_path, monkeypatch
):
    path, _ = catalog
    load_catalog(database_url, instance, path)
    embed(database_url, instance, DEFAULT.hash)
    before = rows(database_url, DEFAULT.hash)

    monkeypatch.setenv(
        "SPOTIFY_ASSETS_BUNDLES", str(write_bundles_file(tmp_path / "b.yaml", tiny_model_dir))
    )
    tiny = load_bundles().by_name("tiny")
    result = embed(database_url, instance, tiny.hash)
    assert meta(result, "track_embeddings")["embedded"] == N
    assert meta(result, "track_embeddings")["dims"] == 32
    assert len(rows(database_url, tiny.hash)) == N
    assert rows(database_url, DEFAULT.hash) == before
    with psycopg.connect(database_url) as conn:
        indexes = {
            r[0]
            for r in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'track_embeddings'"
            )
        }
    assert {
        f"track_embeddings_hnsw_{DEFAULT.hash}",
        f"track_embeddings_hnsw_{tiny.hash}",
    } <= indexes


def test_wrong_dims_fail_before_any_write(
    database_url, instance, catalog, tiny_model_dir, tmp_path, monkeypatch
):
    path, _ = catalog
    load_catalog(database_url, instance, path)
    bundles = write_bundles_file(tmp_path / "b.yaml", tiny_model_dir, name="liar", dims=64)
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles))
    liar = load_bundles().by_name("liar")
    result = embed(database_url, instance, liar.hash, raise_on_error=False)
    assert not result.success
    failure = result.failure_data_for_node("track_embeddings")
    assert "produces 32-dim vectors but the bundle declares 64" in failure.error.message
    # a bundle that lies about its dims is an input error: not retried by the RetryPolicy
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM track_embeddings").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM model_bundles").fetchone()[0] == 0


KILLABLE = """
import sys, dagster as dg
from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
url, key = sys.argv[1], sys.argv[2]
with dg.instance_for_test() as instance:
    instance.add_dynamic_partitions("model_bundle", [key])
    dg.materialize(
        [catalog_tracks, track_analyses, track_embeddings], selection=[track_embeddings],
        resources={"database": DatabaseResource(url=url),
                   "compute": ComputeResource(device="cpu", precision="fp32", batch_size=4)},
        instance=instance, partition_key=key,
        run_config={"ops": {"track_embeddings": {"config": {"batch_size": 8}}}},
    )
"""


@pytest.mark.slow
def test_a_killed_run_resumes_with_one_row_per_track(database_url, instance, catalog, tmp_path):
    path, _ = catalog
    load_catalog(database_url, instance, path)
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE)
    process = subprocess.Popen(
        [sys.executable, str(script), database_url, DEFAULT.hash],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.time() + 180
    done = 0
    while time.time() < deadline:
        done = len(rows(database_url, DEFAULT.hash))
        if done >= 16 or process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 0 < done < N, f"the run should be killed mid-way, saw {done} rows"
    partial = len(rows(database_url, DEFAULT.hash))

    result = embed(database_url, instance, DEFAULT.hash)
    assert meta(result, "track_embeddings")["reused"] == partial
    assert meta(result, "track_embeddings")["embedded"] == N - partial
    with psycopg.connect(database_url) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT track_id) FROM track_embeddings WHERE bundle_hash = %s",
            (DEFAULT.hash,),
        ).fetchone()
    assert total == distinct == N


def test_the_bundle_sensor_registers_missing_bundles_once(instance, database_url):
    configured = {b.hash for b in load_bundles().bundles.values()}
    resources = {"database": DatabaseResource(url=database_url)}
    result = model_bundle_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    assert isinstance(result, dg.SensorResult)
    [add] = result.dynamic_partitions_requests
    assert add.partitions_def_name == "model_bundle" and set(add.partition_keys) == configured
    assert {r.partition_key for r in result.run_requests} == configured

    instance.add_dynamic_partitions("model_bundle", sorted(configured))
    again = model_bundle_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    assert isinstance(again, dg.SkipReason)
