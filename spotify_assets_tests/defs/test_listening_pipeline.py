"""The listening stage as real materializations on the embedded Postgres, one `listener`
partition per person: import → join → one clustering → models → predictions → dashboard, the
join following a catalog loaded later, the drop-folder sensor and the schedules."""

import json
from datetime import UTC, datetime

import dagster as dg
import psycopg
import pytest

from spotify_assets.defs.artifacts import ArtifactStoreResource, DocumentIOManager
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.listening.dashboard import listening_dashboard
from spotify_assets.defs.listening.drift import drift_report
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.listening.history import history_drop_sensor, listening_history
from spotify_assets.defs.listening.models import full_retrain_schedule, listening_models
from spotify_assets.defs.listening.moods import mood_clusters
from spotify_assets.defs.listening.predictions import listening_predictions, update_schedule
from spotify_assets.defs.partitions import people
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.listening.sparklines import MARKDOWN_INLINE_LIMIT
from spotify_assets.lib.people import check_person
from spotify_assets.lib.sample import generate_history, generate_playlists, generate_tracks
from spotify_assets_tests.dagster_helpers import check_evaluations, check_outcomes, one_sentence
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta

LISTENING = [
    listening_history, play_features, mood_clusters, listening_models, listening_predictions,
    drift_report, listening_dashboard,
]  # fmt: skip
ASSETS = [catalog_tracks, *LISTENING]
RETRAIN = [play_features, mood_clusters, listening_models, listening_predictions, drift_report,
           listening_dashboard]  # fmt: skip
FAST = {"listening_models": {"config": {"bootstrap": 100}}}


def resources(database_url, tmp_path):
    artifacts = ArtifactStoreResource(location=str(tmp_path / "artifacts"))
    return {
        "database": DatabaseResource(url=database_url),
        "spotify": SpotifyResource(),
        "artifacts": artifacts,
        "documents": DocumentIOManager(artifacts=artifacts),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A generated catalog and two listeners' extended exports (60 days each)."""
    folder = tmp_path_factory.mktemp("world")
    tracks = generate_tracks(n_tracks=600, seed=9)
    catalog = folder / "tracks.csv"
    tracks.to_csv(catalog, index=False)
    histories = {}
    for name, seed in (("ana", 9), ("ben", 11)):
        plays = generate_history(tracks, generate_playlists(tracks, seed=seed), seed=seed, days=60)
        for play in plays:
            play["conn_country"] = "JP" if name == "ben" else "DE"
        path = folder / name / "Streaming_History_Audio_2026.json"
        path.parent.mkdir()
        path.write_text(json.dumps(plays))
        histories[name] = (path, plays)
    return catalog, histories


def _run(selection, key, database_url, tmp_path, instance, ops=None, **kwargs):
    ops = {**(FAST if listening_models in selection else {}), **(ops or {})}
    return dg.materialize(
        ASSETS, selection=selection, partition_key=key, resources=resources(database_url, tmp_path),
        instance=instance, run_config={"ops": ops}, **kwargs,
    )  # fmt: skip


@pytest.mark.slow
def test_two_listeners_side_by_side_with_one_clustering_per_retrain(
    world, database_url, instance, tmp_path
):
    catalog, histories = world
    dg.materialize(
        [catalog_tracks], resources=resources(database_url, tmp_path), instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}},
    )  # fmt: skip
    instance.add_dynamic_partitions(people.name, ["ana", "ben"])
    documents = {}
    for name, (path, plays) in histories.items():
        source = {"listening_history": {"config": {"source": str(path)}}}
        result = _run(LISTENING, name, database_url, tmp_path, instance, source)
        assert result.success
        episodes = sum(1 for p in plays if p["spotify_episode_uri"])
        loaded = meta(result, "listening_history")
        assert loaded["plays"] == loaded["inserted"] == len(plays) - episodes
        joined = meta(result, "play_features")
        assert joined["with_features"] == joined["plays"] == loaded["plays"]  # sample tracks join
        # the table's rows are distinct songs, fewer than the plays, and said to be so
        distinct = len({(p["master_metadata_album_artist_name"], p["master_metadata_track_name"])
                        for p in plays if not p["spotify_episode_uri"]})  # fmt: skip
        assert joined["distinct_songs"] == joined["dagster/row_count"] == distinct < joined["plays"]
        assert f"{distinct:,} distinct songs (the table's rows)" in joined["summary"]
        models = meta(result, "listening_models")
        assert models["timezone"] == {"ana": "Europe/Berlin", "ben": "Asia/Tokyo"}[name]
        checks = check_outcomes(result)
        assert set(checks) == {"mood_model_beats_baselines", "session_model_beats_baselines"}
        # each check: the difference and its CI as numbers, and one sentence saying what it means
        for evaluation in check_evaluations(result).values():
            numbers = {k: v.value for k, v in evaluation.metadata.items()}
            assert {"value", "lower", "upper", "threshold"} <= set(numbers)
            assert numbers["lower"] <= numbers["upper"] and numbers["threshold"] == 0.0
            assert one_sentence(evaluation.description), evaluation.description
            assert "95% CI [" in evaluation.description
        for table in (models["mood_metrics"], models["session_metrics"]):
            assert isinstance(table, dg.TableMetadataValue)
            assert [c.name for c in table.schema.columns] == ["metric", "system", "value", "95% CI"]
        systems = {r.data["system"] for r in models["session_metrics"].records}
        assert {"model", "hour_of_week_prior"} <= systems
        # the dashboard's overview opens with two small plots (inline: under the UI's limit)
        board = meta(result, "listening_dashboard")
        assert list(board)[:3] == ["plays_by_hour", "next_24h_session_start", "html"]
        for plot in ("plays_by_hour", "next_24h_session_start"):
            assert len(board[plot]) < MARKDOWN_INLINE_LIMIT, board[plot]
            assert "(data:image/svg+xml," in board[plot]
        assert meta(result, "listening_history")["dagster/row_count"] == loaded["stored"]

        run_doc = json.loads(
            (tmp_path / f"artifacts/assets/listening_models/{name}.json").read_text()
        )
        predictions = json.loads(
            (tmp_path / f"artifacts/assets/listening_predictions/{name}.json").read_text()
        )
        # one clustering: the predictions name the retrain and carry its labels
        assert predictions["retrain_id"] == run_doc["retrain_id"] == models["retrain_id"]
        labels = run_doc["clustering"]["moods"]["labels"]
        assert predictions["labels"] == labels and len(set(labels)) == len(labels)
        assert not any("#" in label for label in labels)
        assert predictions["next_mood"]["label"] in labels
        assert len(predictions["next_hours"]) == 24
        dashboard = json.loads(
            (tmp_path / f"artifacts/listening/{name}/dashboard/dashboard.json").read_text()
        )
        assert dashboard["timezone"] == run_doc["timezone"]
        assert dashboard["moods"]["labels"] == labels
        documents[name] = run_doc

    with psycopg.connect(database_url) as conn:
        runs = conn.execute(
            """SELECT r.person, r.retrain_id, r.moods->'labels', count(m.id)
               FROM listening_retrains r JOIN model_runs m USING (retrain_id)
               GROUP BY 1, 2, 3 ORDER BY 1"""
        ).fetchall()
        per_user = dict(conn.execute("SELECT person, count(*) FROM plays GROUP BY 1").fetchall())
    assert [(u, rid) for u, rid, _, _ in runs] == [
        (n, documents[n]["retrain_id"]) for n in ("ana", "ben")
    ]
    assert all(n == 2 for *_, n in runs)  # a mood and a session model run per retrain
    assert runs[0][2] == documents["ana"]["clustering"]["moods"]["labels"]
    assert per_user == {n: len(p) - sum(1 for x in p if x["spotify_episode_uri"])
                        for n, (_, p) in histories.items()}  # fmt: skip

    # an update between retrains predicts with the stored retrain, for that listener only
    update = _run(
        [listening_history, play_features, listening_predictions, drift_report,
         listening_dashboard], "ana", database_url, tmp_path, instance,
        {"listening_history": {"config": {"source": "none"}}},
    )  # fmt: skip
    assert update.success
    assert meta(update, "listening_predictions")["retrain_id"] == documents["ana"]["retrain_id"]


def test_a_catalog_loaded_later_gives_old_plays_their_features(
    world, database_url, instance, tmp_path
):
    catalog, histories = world
    path, _ = histories["ana"]
    instance.add_dynamic_partitions(people.name, ["ana"])
    source = {"listening_history": {"config": {"source": str(path)}}}
    first = _run(
        [listening_history, play_features], "ana", database_url, tmp_path, instance, source
    )
    assert meta(first, "play_features")["with_features"] == 0  # no catalog yet
    early = _run([mood_clusters], "ana", database_url, tmp_path, instance, raise_on_error=False)
    assert early.success  # no clustering, but a reason instead of a crash
    assert "audio features" in meta(early, "mood_clusters")["no_clustering_because"]

    dg.materialize(
        [catalog_tracks], resources=resources(database_url, tmp_path), instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}},
    )  # fmt: skip
    again = _run([play_features, mood_clusters], "ana", database_url, tmp_path, instance)
    joined = meta(again, "play_features")
    assert joined["with_features"] == joined["plays"] > 0  # without a re-import
    assert meta(again, "mood_clusters")["k"] >= 3


def test_a_truncated_export_fails_clearly_and_writes_nothing(db, database_url, instance, tmp_path):
    bad = tmp_path / "StreamingHistory0.json"
    bad.write_text('[{"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "B", "ms')
    instance.add_dynamic_partitions(people.name, ["me"])
    result = _run(
        [listening_history], "me", database_url, tmp_path, instance,
        {"listening_history": {"config": {"source": str(bad)}}}, raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "StreamingHistory0.json" in failure.event_specific_data.error.message
    # bad input fails once, although listening_history retries transient errors
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    with db.connect() as conn:  # (migrates: the failure came before any connection)
        assert conn.execute("SELECT count(*) FROM plays").fetchone()[0] == 0


@pytest.mark.parametrize("recco_on", [True, False])
def test_the_api_source_asks_the_configured_reccobeats_or_none(
    database_url, instance, tmp_path, recco_on
):
    """Recently played through the asset: ReccoBeats is the resource's (RECCOBEATS_API_BASE),
    and "off" means plays without features, never the public default."""
    from spotify_assets_tests.fake_reccobeats import FEATURES_PATH, FakeReccoBeats
    from spotify_assets_tests.fake_spotify import FakeSpotify

    spotify = FakeSpotify.with_library(playlist_sizes=(), plays=30, plays_start_ms=1_700_000_000_000)
    ids = [p["track"]["id"] for p in spotify.plays]
    with spotify, FakeReccoBeats.knowing(ids[:20]) as recco:
        res = resources(database_url, tmp_path)
        res["spotify"] = SpotifyResource(
            client_id=spotify.client_id, client_secret=spotify.client_secret,
            refresh_token=spotify.refresh_token, api_base=spotify.base_url,
            token_url=spotify.base_url + "/api/token",
            reccobeats_base=recco.base_url if recco_on else "off",
        )  # fmt: skip
        instance.add_dynamic_partitions(people.name, ["api"])
        result = dg.materialize(
            [listening_history], partition_key="api", resources=res, instance=instance,
            run_config={"ops": {"listening_history": {"config": {"source": "api"}}}},
        )  # fmt: skip
        data = meta(result, "listening_history")
        assert data["plays"] == 30
        assert data["features_fetched"] == (20 if recco_on else 0)
        assert (recco.count(FEATURES_PATH) > 0) == recco_on


def test_the_drop_folder_sensor_adds_listeners_and_requests_one_import_per_file(
    tmp_path, monkeypatch, instance
):
    monkeypatch.setenv("SPOTIFY_ASSETS_HISTORY_INBOX", str(tmp_path))
    context = dg.build_sensor_context(instance=instance)
    assert "no new export files" in history_drop_sensor(context).skip_message
    (tmp_path / "StreamingHistory0.json").write_text("[]")
    (tmp_path / "notes.txt").write_text("not an export")
    (tmp_path / "cleo").mkdir()
    (tmp_path / "cleo" / "Streaming_History_Audio_2025.json").write_text("[]")
    first = history_drop_sensor(dg.build_sensor_context(instance=instance))
    requested = {
        r.partition_key: r.run_config["ops"]["listening_history"]["config"]["source"]
        for r in first.run_requests
    }
    assert requested == {
        "me": str(tmp_path / "StreamingHistory0.json"),
        "cleo": str(tmp_path / "cleo" / "Streaming_History_Audio_2025.json"),
    }
    [add] = first.dynamic_partitions_requests
    assert sorted(add.partition_keys) == ["cleo", "me"]
    again = history_drop_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert again.skip_message


def test_schedules_cover_every_listener(instance, monkeypatch, db, database_url, world):
    from spotify_assets.lib.listening.ingest import import_history

    monkeypatch.setenv("SPOTIFY_ASSETS_API_LISTENER", "ana")
    assert update_schedule.cron_schedule == "*/30 * * * *"
    assert full_retrain_schedule.cron_schedule == "15 0 * * *"
    at = datetime(2026, 11, 29, 0, 30, tzinfo=UTC)
    database = {"database": DatabaseResource(url=database_url)}
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources=database
    ) as context:
        assert isinstance(update_schedule(context), dg.SkipReason)  # nobody yet
    _, histories = world
    for name in ("ana", "ben"):
        import_history(db, histories[name][0], person=name)
    # cara is a person (her playlists were imported) without a history: nothing to schedule
    instance.add_dynamic_partitions(people.name, ["ana", "ben", "cara"])
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, resources=database
    ) as context:
        updates = {r.partition_key: r.run_config for r in update_schedule(context)}
        retrains = sorted(r.partition_key for r in full_retrain_schedule(context))
    assert set(updates) == {"ana", "ben"}
    assert updates["ana"]["ops"]["listening_history"]["config"]["source"] == "api"
    assert updates["ben"]["ops"]["listening_history"]["config"]["source"] == "none"
    assert retrains == ["ana", "ben"]


def test_listener_names_are_checked():
    assert check_person("listener_b.2") == "listener_b.2"
    for bad in ("", "a/b", "a,b", "-x", "x" * 65, "a|b"):
        with pytest.raises(ValueError, match="not allowed"):
            check_person(bad)
