"""listening_history → mood_clusters / drift_report as real materializations on the embedded
Postgres, the drop-folder sensor, and the schedules."""

import json

import dagster as dg
import psycopg

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.listening.assets import (
    drift_report,
    listening_dashboard,
    listening_history,
    listening_models,
    listening_predictions,
    mood_clusters,
)
from spotify_assets.defs.listening.automation import (
    full_retrain_schedule,
    history_drop_sensor,
    update_schedule,
)
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.sample import generate_history, generate_playlists, generate_tracks
from spotify_assets_tests.dagster_helpers import check_outcomes
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta

ASSETS = [
    catalog_tracks, listening_history, mood_clusters, listening_models, listening_predictions,
    drift_report, listening_dashboard,
]  # fmt: skip


def resources(database_url, tmp_path):
    return {
        "database": DatabaseResource(url=database_url),
        "spotify": SpotifyResource(),
        "artifacts": ArtifactStoreResource(location=str(tmp_path / "artifacts")),
    }


MODELS_FAST = {"listening_models": {"config": {"bootstrap": 100}}}


def test_history_import_moods_and_drift(database_url, instance, tmp_path):
    tracks = generate_tracks(n_tracks=600, seed=9)
    plays = generate_history(tracks, generate_playlists(tracks, seed=9), seed=9, days=60)
    catalog = tmp_path / "tracks.csv"
    tracks.to_csv(catalog, index=False)
    history = tmp_path / "Streaming_History_Audio_2026.json"
    history.write_text(json.dumps(plays))
    episodes = sum(1 for p in plays if p["spotify_episode_uri"])
    config = {
        "ops": {
            "catalog_tracks": {"config": {"path": str(catalog)}},
            "listening_history": {"config": {"source": str(history)}},
            **MODELS_FAST,
        }
    }
    first = dg.materialize(
        ASSETS, resources=resources(database_url, tmp_path), instance=instance, run_config=config
    )
    assert first.success
    loaded = meta(first, "listening_history")
    assert loaded["plays"] == loaded["inserted"] == len(plays) - episodes
    assert loaded["episodes_excluded"] == episodes
    assert loaded["join"]["with_features"] == loaded["plays"]  # the sample's tracks all join
    moods = meta(first, "mood_clusters")
    assert 3 <= moods["k"] <= 15 and len(moods["labels"]) == moods["k"]
    assert abs(sum(moods["shares"].values()) - 1) < 1e-6
    model = json.loads((tmp_path / "artifacts/listening/me/mood_model.json").read_text())
    assert model["k"] == moods["k"]
    assert meta(first, "drift_report")["metrics_tested"] >= 5
    models = meta(first, "listening_models")
    assert 0 <= models["mood_macro_f1"] <= 1 and 0 <= models["session_pr_auc"] <= 1
    for key in ("mood_macro_f1_vs_best_baseline", "session_pr_auc_vs_best_baseline"):
        diff = models[key]
        assert diff["lo"] <= diff["value"] <= diff["hi"]
    checks = check_outcomes(first)
    assert set(checks) >= {"mood_model_beats_baselines", "session_model_beats_baselines"}
    with psycopg.connect(database_url) as conn:
        runs = conn.execute(
            "SELECT model, beats_baseline FROM model_runs ORDER BY model"
        ).fetchall()
    assert [r[0] for r in runs] == ["mood", "session"]
    assert [r[1] for r in runs] == [
        checks["mood_model_beats_baselines"],
        checks["session_model_beats_baselines"],
    ]
    predicted = meta(first, "listening_predictions")
    assert predicted["hours_predicted"] == 24 and predicted["plays_assigned"] > 0
    dashboard = meta(first, "listening_dashboard")
    assert dashboard["plays"] == loaded["plays"]
    page = (tmp_path / "artifacts/listening/me/dashboard/index.html").read_text()
    assert page.count("<svg") == 5
    document = json.loads(
        (tmp_path / "artifacts/listening/me/dashboard/dashboard.json").read_text()
    )
    assert document["summary"]["sessions"] == dashboard["sessions"] > 0
    assert len(document["next_24h"]) == 24
    assert all(0 <= row["probability"] <= 1 for row in document["next_24h"])
    assert sum(1 for key in dashboard if key.startswith("plot_")) == 5

    again = dg.materialize(
        ASSETS, selection=[listening_history], resources=resources(database_url, tmp_path),
        instance=instance, run_config={"ops": {"listening_history": config["ops"]["listening_history"]}},
    )  # fmt: skip
    assert meta(again, "listening_history")["inserted"] == 0
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM plays").fetchone()[0] == len(plays) - episodes


def test_a_truncated_export_fails_clearly_and_writes_nothing(db, database_url, instance, tmp_path):
    bad = tmp_path / "StreamingHistory0.json"
    bad.write_text('[{"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "B", "ms')
    result = dg.materialize(
        ASSETS,
        selection=[listening_history],
        resources=resources(database_url, tmp_path),
        instance=instance,
        run_config={"ops": {"listening_history": {"config": {"source": str(bad)}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "StreamingHistory0.json" in failure.event_specific_data.error.message
    with db.connect() as conn:  # (migrates: the failure came before any connection)
        assert conn.execute("SELECT count(*) FROM plays").fetchone()[0] == 0


def test_the_drop_folder_sensor_requests_one_import_per_new_file(tmp_path, monkeypatch, instance):
    monkeypatch.setenv("SPOTIFY_ASSETS_HISTORY_INBOX", str(tmp_path))
    assert (
        "no new export files"
        in history_drop_sensor(dg.build_sensor_context(instance=instance)).skip_message
    )
    (tmp_path / "StreamingHistory0.json").write_text("[]")
    (tmp_path / "notes.txt").write_text("not an export")
    first = history_drop_sensor(dg.build_sensor_context(instance=instance))
    [request] = first.run_requests
    source = request.run_config["ops"]["listening_history"]["config"]["source"]
    assert source == str(tmp_path / "StreamingHistory0.json")
    again = history_drop_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert again.skip_message
    (tmp_path / "Streaming_History_Audio_2025.json").write_text("[]")
    later = history_drop_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert [
        r.run_config["ops"]["listening_history"]["config"]["source"] for r in later.run_requests
    ] == [str(tmp_path / "Streaming_History_Audio_2025.json")]


def test_schedules_run_every_30_minutes_and_daily_at_00_15_utc():
    assert update_schedule.cron_schedule == "*/30 * * * *"
    assert full_retrain_schedule.cron_schedule == "15 0 * * *"
    assert update_schedule.execution_timezone == full_retrain_schedule.execution_timezone == "UTC"
