"""Sensors and step retries end to end, on a Dagster instance stored in the embedded Postgres
(dagster-postgres), as production runs them."""

import dagster as dg
import psycopg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.catalog.automation import catalog_sensor, refresh_catalog_job
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.embeddings.automation import embed_bundle_job, model_bundle_sensor
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.defs.search.assets import search_evaluation, search_index
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.sample import generate_tracks
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.tiny_models import write_bundles_file

ASSETS = [
    catalog_tracks, track_analyses, track_embeddings, track_emotions, search_index,
    search_evaluation,
]  # fmt: skip


def definitions(database_url, compute=None):
    return dg.Definitions(
        assets=ASSETS,
        jobs=[refresh_catalog_job, embed_bundle_job],
        resources={
            "database": DatabaseResource(url=database_url),
            "compute": compute or ComputeResource(device="cpu", precision="fp32"),
        },
    )


def embedded_rows(database_url) -> dict[str, list[str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT bundle_hash, track_id FROM track_embeddings").fetchall()
    out: dict[str, list[str]] = {}
    for bundle, track in rows:
        out.setdefault(bundle, []).append(track)
    return out


def test_the_projects_dagster_yaml_gives_postgres_storage_queues_retries_and_a_gpu_pool(
    dagster_pg_url, tmp_path, monkeypatch
):
    import shutil

    from dagster_postgres import PostgresRunStorage

    from spotify_assets_tests.ops.services import REPO_ROOT

    shutil.copyfile(REPO_ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", dagster_pg_url)
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 4
        assert concurrency.pool_config.default_pool_limit == 1
        assert (instance.run_retries_enabled, instance.run_retries_max_retries) == (True, 2)
        assert not instance.telemetry_enabled


def test_new_bundle_file_entry_is_registered_and_run_leaving_other_bundles_alone(
    database_url, pg_instance, tmp_path, monkeypatch, tiny_model_dir
):
    catalog = tmp_path / "tracks.csv"
    generate_tracks(n_tracks=60, seed=2).to_csv(catalog, index=False)
    defs = definitions(database_url)
    # every configured bundle already registered, the default one embedded
    default = load_bundles().default_bundle
    known = [b.hash for b in load_bundles().bundles.values()]
    pg_instance.add_dynamic_partitions("model_bundle", known)
    first = defs.resolve_job_def("refresh_catalog").execute_in_process(
        instance=pg_instance,
        partition_key=default.hash,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}},
    )
    assert first.success
    before = embedded_rows(database_url)
    with psycopg.connect(database_url) as conn:
        stamps = conn.execute(
            "SELECT max(created_at) FROM track_embeddings WHERE bundle_hash = %s", (default.hash,)
        ).fetchone()[0]

    # a new bundle appears in the bundles file: the sensor adds it and asks for its run
    monkeypatch.setenv(
        "SPOTIFY_ASSETS_BUNDLES", str(write_bundles_file(tmp_path / "b.yaml", tiny_model_dir))
    )
    tiny = load_bundles().by_name("tiny")
    resources = {"database": DatabaseResource(url=database_url)}
    # a key typed into the UI's "Add a partition" names no bundle: the sensor removes it
    pg_instance.add_dynamic_partitions("model_bundle", ["deadbeefdeadbeef"])
    result = model_bundle_sensor(dg.build_sensor_context(instance=pg_instance,
                                                         resources=resources))  # fmt: skip
    assert [r.partition_key for r in result.run_requests] == [tiny.hash]
    add, delete = result.dynamic_partitions_requests
    assert list(delete.partition_keys) == ["deadbeefdeadbeef"]
    pg_instance.delete_dynamic_partition("model_bundle", "deadbeefdeadbeef")
    pg_instance.add_dynamic_partitions("model_bundle", list(add.partition_keys))
    assert set(pg_instance.get_dynamic_partitions("model_bundle")) == {*known, tiny.hash}
    run = defs.resolve_job_def("embed_bundle").execute_in_process(
        instance=pg_instance, partition_key=tiny.hash
    )
    assert run.success
    after = embedded_rows(database_url)
    assert len(after[tiny.hash]) == 60
    assert sorted(after[default.hash]) == sorted(before[default.hash])
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute(
                "SELECT max(created_at) FROM track_embeddings WHERE bundle_hash = %s",
                (default.hash,),
            ).fetchone()[0]
            == stamps
        )
    # the run is in the Postgres-backed instance, for that partition
    [record] = pg_instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": tiny.hash}))
    assert record.dagster_run.is_success
    assert model_bundle_sensor(
        dg.build_sensor_context(instance=pg_instance, resources=resources)
    ).skip_message
    # a bundle no longer configured but embedded here keeps its partition (its vectors serve)
    monkeypatch.delenv("SPOTIFY_ASSETS_BUNDLES")
    assert tiny.hash not in {b.hash for b in load_bundles().bundles.values()}
    assert model_bundle_sensor(
        dg.build_sensor_context(instance=pg_instance, resources=resources)
    ).skip_message


def test_catalog_sensor_embeds_exactly_the_appended_tracks(
    database_url, pg_instance, tmp_path, monkeypatch
):
    tracks = generate_tracks(n_tracks=80, seed=4)
    catalog = tmp_path / "catalog.csv"
    tracks.head(70).to_csv(catalog, index=False)
    monkeypatch.setenv("SPOTIFY_ASSETS_CATALOG", str(catalog))
    default = load_bundles().default_bundle
    defs = definitions(database_url)

    assert (
        "no model bundle"
        in catalog_sensor(dg.build_sensor_context(instance=pg_instance)).skip_message
    )
    pg_instance.add_dynamic_partitions("model_bundle", [default.hash])

    def tick(cursor):
        result = catalog_sensor(dg.build_sensor_context(instance=pg_instance, cursor=cursor))
        return result

    first = tick(None)
    [request] = first.run_requests
    assert request.partition_key == default.hash
    run = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=pg_instance, partition_key=request.partition_key, run_config=request.run_config
    )
    assert meta(run, "track_embeddings")["embedded"] == 70

    unchanged = tick(first.cursor)
    assert "unchanged" in unchanged.skip_message

    tracks.to_csv(catalog, index=False)  # 10 tracks appended
    second = tick(first.cursor)
    [request] = second.run_requests
    assert request.run_key != first.run_requests[0].run_key
    run = defs.resolve_job_def(request.job_name).execute_in_process(
        instance=pg_instance, partition_key=request.partition_key, run_config=request.run_config
    )
    embedded = meta(run, "track_embeddings")
    assert (embedded["embedded"], embedded["reused"]) == (10, 70)
    new_ids = set(tracks.track_id.iloc[70:])
    with psycopg.connect(database_url) as conn:
        latest = {
            r[0]
            for r in conn.execute(
                """SELECT track_id FROM track_embeddings WHERE bundle_hash = %s
                   AND created_at = (SELECT max(created_at) FROM track_embeddings)""",
                (default.hash,),
            )
        }
    assert latest == new_ids


class FlakyEmbedder:
    """The real embedder, but the second batch fails once the way a restarting database
    fails a client (after the first batch was committed)."""

    failures = 0

    def __init__(self, inner):
        self.inner = inner
        self.precision = inner.precision
        self.calls = 0

    def embed(self, texts, kind="document"):
        self.calls += 1
        if self.calls == 2 and FlakyEmbedder.failures == 0:
            FlakyEmbedder.failures += 1
            raise psycopg.OperationalError(
                "terminating connection due to administrator command (database restart)"
            )
        return self.inner.embed(texts, kind)


class FlakyCompute(ComputeResource):
    def embedder(self, bundle):
        return FlakyEmbedder(super().embedder(bundle))


def test_a_transient_failure_is_retried_without_losing_or_duplicating_rows(
    database_url, pg_instance, tmp_path
):
    catalog = tmp_path / "tracks.csv"
    tracks = generate_tracks(n_tracks=90, seed=6)
    tracks.to_csv(catalog, index=False)
    default = load_bundles().default_bundle
    pg_instance.add_dynamic_partitions("model_bundle", [default.hash])
    FlakyEmbedder.failures = 0
    result = dg.materialize(
        [catalog_tracks, track_analyses, track_embeddings],
        resources={
            "database": DatabaseResource(url=database_url),
            "compute": FlakyCompute(device="cpu", precision="fp32"),
        },
        instance=pg_instance,
        partition_key=default.hash,
        run_config={
            "ops": {
                "catalog_tracks": {"config": {"path": str(catalog)}},
                "track_embeddings": {"config": {"batch_size": 32}},
            }
        },
    )
    assert result.success and FlakyEmbedder.failures == 1
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) == 1 and retried[0].step_key == "track_embeddings"
    # the retry embedded only what the failed attempt had not committed
    assert meta(result, "track_embeddings")["embedded"] == len(tracks) - 32
    with psycopg.connect(database_url) as conn:
        count, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT track_id) FROM track_embeddings WHERE bundle_hash = %s",
            (default.hash,),
        ).fetchone()
    assert count == distinct == len(tracks) == 80
