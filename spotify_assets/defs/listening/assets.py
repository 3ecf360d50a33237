"""listening_history → mood_clusters, and drift_report: a listener's plays and their shape."""

import json
from pathlib import Path

import dagster as dg
from pydantic import Field

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.partitions import TRANSIENT_RETRY
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.catalog import CatalogError
from spotify_assets.lib.listening.drift import detect_drift
from spotify_assets.lib.listening.load import load_plays
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.store import import_history
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.server import home_dir


class HistoryConfig(dg.Config):
    source: str = Field(
        default="sample",
        description="sample (the generated history) | api (Spotify recently-played + ReccoBeats "
        "features) | a path: a privacy-export file, folder or zip",
    )
    user: str = "me"


@dg.asset(
    group_name="listening",
    kinds={"postgres"},
    deps=[catalog_tracks],
    retry_policy=TRANSIENT_RETRY,
    description="Plays (unique per user, track, start) from privacy exports or the Web API, joined "
    "to audio features by track id or artist + title; plays without features are kept, marked.",
)
def listening_history(
    context: dg.AssetExecutionContext,
    config: HistoryConfig,
    database: DatabaseResource,
    spotify: SpotifyResource,
) -> dg.MaterializeResult:
    db = database.get()
    if config.source == "api":
        from spotify_assets.lib.listening.api import ReccoBeatsClient, ingest_recent

        with spotify.client() as client, ReccoBeatsClient() as reccobeats:
            report = ingest_recent(db, client, reccobeats, config.user)
        metadata = {k: v for k, v in report.__dict__.items() if v is not None}
    else:
        path = ensure_sample(home_dir()).history_dir if config.source == "sample" else config.source
        try:
            report = import_history(db, Path(path), config.user)
        except CatalogError as exc:
            raise dg.Failure(
                allow_retries=False, description=f"{exc}; nothing was written"
            ) from exc
        metadata = {
            "files": len(report.files), "plays": report.plays, "inserted": report.inserted,
            "episodes_excluded": report.episodes, "audiobooks_excluded": report.audiobooks,
            "bad_rows": report.bad_rows, "quarantined": report.quarantined,
            "join": dg.MetadataValue.json(report.join or {}),
        }  # fmt: skip
    context.log.info(f"listening_history[{config.source}]: {metadata}")
    return dg.MaterializeResult(metadata={"source": config.source, **metadata})


def plays_of(database: DatabaseResource, user: str):
    """The listener's plays with features, or a failure that says what to materialize."""
    with database.get().connect() as conn:
        plays = load_plays(conn, user)
    if plays.empty:
        raise dg.Failure(
            allow_retries=False,
            description=f"no plays for {user!r}: materialize listening_history first",
        )
    return plays


class MoodConfig(dg.Config):
    user: str = "me"
    gap_minutes: int = 30
    include_skips: bool = True
    seed: int = 0


def mood_model_key(user: str) -> str:
    return f"listening/{user}/mood_model.json"


@dg.asset(
    group_name="listening",
    deps=[listening_history],
    description="K-means mood clusters on valence, energy, danceability, acousticness, "
    "instrumentalness and tempo; K by silhouette (elbow as fallback), readable labels.",
)
def mood_clusters(
    context: dg.AssetExecutionContext,
    config: MoodConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    plays = sessionize(
        plays_of(database, config.user), config.gap_minutes, include_skips=config.include_skips
    )
    featured = int(plays["has_features"].sum())
    if featured < 30:
        raise dg.Failure(
            allow_retries=False,
            description=f"only {featured} of {len(plays)} plays have audio features; load a "
            "catalog that covers them or fetch features (source=api uses ReccoBeats)",
        )
    model = fit_moods(plays, seed=config.seed)
    clusters = assign(model, plays)
    uri = artifacts.get().put_json(mood_model_key(config.user), model.to_dict())
    shares = {model.labels[c]: round(float((clusters == c).mean()), 4) for c in range(model.k)}
    context.log.info(f"mood_clusters: K={model.k} ({model.rule}), labels {model.labels}")
    return dg.MaterializeResult(
        metadata={
            "plays": len(plays),
            "plays_with_features": featured,
            "sessions": int(plays["session_id"].nunique()),
            "k": model.k,
            "rule": model.rule,
            "silhouette": dg.MetadataValue.json(
                {str(k): round(v, 4) for k, v in model.silhouettes.items()}
            ),
            "labels": dg.MetadataValue.json(model.labels),
            "shares": dg.MetadataValue.json(shares),
            "model": dg.MetadataValue.url(uri),
        }
    )


class DriftRunConfig(dg.Config):
    user: str = "me"


@dg.asset(
    group_name="listening",
    deps=[listening_history],
    description="Last 7 days vs the 30 before: session duration, sessions/day, tracks/day, "
    "start-hour entropy and feature distributions, each with a test and minimum sample sizes.",
)
def drift_report(
    context: dg.AssetExecutionContext,
    config: DriftRunConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    report = detect_drift(sessionize(plays_of(database, config.user)))
    document = report.to_dict()
    uri = artifacts.get().put_json(
        f"listening/{config.user}/drift.json", json.loads(json.dumps(document, default=str))
    )
    context.log.info(f"drift_report: drifted {report.drifted_metrics or 'nothing'}")
    return dg.MaterializeResult(
        metadata={
            "drifted": report.drifted,
            "drifted_metrics": dg.MetadataValue.json(report.drifted_metrics),
            "metrics_tested": len(report.metrics),
            "insufficient": sum(1 for m in report.metrics if "insufficient" in str(m.status)),
            "report": dg.MetadataValue.url(uri),
        }
    )


class DashboardConfig(dg.Config):
    user: str = "me"


@dg.asset(
    group_name="listening",
    deps=[mood_clusters, drift_report, dg.AssetKey("listening_predictions")],
    description="A JSON document (for embedding in a website) and a self-contained HTML page: "
    "listening by hour × weekday, mood clusters, mood share over time, drift.",
)
def listening_dashboard(
    context: dg.AssetExecutionContext,
    config: DashboardConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    import base64
    from datetime import UTC, datetime

    from spotify_assets.lib.artifacts import ArtifactNotFound
    from spotify_assets.lib.listening.dashboard import (
        build_dashboard,
        plot_svgs,
        render_html,
        to_json,
    )
    from spotify_assets.lib.listening.moods import MoodModel

    store = artifacts.get()
    plays = sessionize(plays_of(database, config.user))
    try:
        model = MoodModel.from_dict(store.get_json(mood_model_key(config.user)))
        drift = store.get_json(f"listening/{config.user}/drift.json")
    except ArtifactNotFound as exc:
        raise dg.Failure(
            allow_retries=False,
            description=f"{exc}: materialize mood_clusters and drift_report first",
        ) from exc
    metrics_key = f"listening/{config.user}/models/metrics.json"
    metrics = store.get_json(metrics_key) if store.exists(metrics_key) else None
    predictions_key = f"listening/{config.user}/predictions.json"
    predictions = (
        store.get_json(predictions_key)["next_24h"] if store.exists(predictions_key) else None
    )
    document = build_dashboard(plays, model, predictions, metrics, drift, datetime.now(UTC))
    folder = f"listening/{config.user}/dashboard"
    json_uri = store.put_bytes(
        f"{folder}/dashboard.json", to_json(document).encode(), "application/json"
    )
    html_uri = store.put_bytes(f"{folder}/index.html", render_html(document).encode(), "text/html")
    plots = {
        f"plot_{name}": dg.MetadataValue.md(
            f"![{name}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
        )
        for name, svg in plot_svgs(document).items()
    }
    context.log.info(f"listening_dashboard: {html_uri}")
    return dg.MaterializeResult(
        metadata={
            "plays": document["summary"]["plays"],
            "sessions": document["summary"]["sessions"],
            "json": dg.MetadataValue.url(json_uri),
            "html": dg.MetadataValue.url(html_uri),
            **plots,
        }
    )


class ModelsConfig(dg.Config):
    user: str = "me"
    seed: int = 0
    bootstrap: int = Field(default=500, description="Bootstrap resamples for the CIs.")


MOOD_CHECK, SESSION_CHECK = "mood_model_beats_baselines", "session_model_beats_baselines"


@dg.asset(
    group_name="listening",
    deps=[mood_clusters],
    description="Next-mood (multi-class) and session-start-per-hour (binary) XGBoost models: "
    "leak-free datasets, time split (60/20/20), early stopping, class weights, calibration; "
    "tested against their baselines with day-blocked bootstrap CIs in the same run.",
    check_specs=[
        dg.AssetCheckSpec(
            MOOD_CHECK,
            asset="listening_models",
            description="Macro-F1 above majority class and 'same as previous' (CI of the difference > 0).",
        ),
        dg.AssetCheckSpec(
            SESSION_CHECK,
            asset="listening_models",
            description="PR-AUC above always-negative and the hour-of-week prior (CI of the difference > 0).",
        ),
    ],
)
def listening_models(
    context: dg.AssetExecutionContext,
    config: ModelsConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    from spotify_assets.lib.listening.datasets import (
        MOOD_FEATURE_COLUMNS,
        SESSION_FEATURE_COLUMNS,
        mood_dataset,
        session_dataset,
    )
    from spotify_assets.lib.listening.evaluate import evaluate_mood_bundle, evaluate_session_bundle
    from spotify_assets.lib.listening.models import (
        time_boundaries,
        time_split,
        train_mood,
        train_session,
    )

    plays = sessionize(plays_of(database, config.user))
    b1, b2 = time_boundaries(plays["played_at"])
    train_plays = plays[plays["played_at"] < b1]
    if int(train_plays["has_features"].sum()) < 100:
        raise dg.Failure(
            allow_retries=False,
            description=f"{int(train_plays['has_features'].sum())} training plays have audio "
            "features; the models need at least 100 (load features for the history first)",
        )
    # clusters fitted on the training weeks only: the label space must not see the test fold
    moods = fit_moods(train_plays, seed=config.seed)
    plays["cluster"] = assign(moods, plays)
    mood = mood_dataset(plays)
    mood_split = time_split(mood, boundaries=(b1, b2), target_time_col="target_at")
    mood_model = train_mood(mood, mood_split, moods.k, MOOD_FEATURE_COLUMNS)
    mood_result = evaluate_mood_bundle(mood_model, mood, mood_split, n_boot=config.bootstrap)
    hours = session_dataset(plays)
    hour_split = time_split(hours, time_col="hour_start", boundaries=(b1.ceil("h"), b2.ceil("h")))
    session_model = train_session(hours, hour_split, SESSION_FEATURE_COLUMNS)
    session_result = evaluate_session_bundle(
        session_model, hours, hour_split, n_boot=config.bootstrap
    )

    store = artifacts.get()
    saved, rows = {}, []
    for name, bundle, result, headline in (
        ("mood", mood_model, mood_result, "macro_f1"),
        ("session", session_model, session_result, "pr_auc"),
    ):
        document = json.loads(json.dumps(bundle.to_dict(), default=str))
        saved[name] = store.put_json(f"listening/{config.user}/models/{name}.json", document)
        beats = bool(result["beats_baseline"][headline])
        rows.append((name, document.get("data_window", {}), bundle.metrics, beats, saved[name]))

    def ci(entry: dict) -> dict:
        return {"value": entry["value"], "low": entry["lo"], "high": entry["hi"]}

    metrics_doc = {
        "macro_f1": {s: ci(v["macro_f1"]) for s, v in mood_result["scores"].items()},
        "pr_auc": {s: ci(v["pr_auc"]) for s, v in session_result["scores"].items()},
    }
    store.put_json(
        f"listening/{config.user}/models/metrics.json",
        json.loads(json.dumps(metrics_doc, default=float)),
    )
    with database.get().connect() as conn:
        for name, window, metrics, beats, uri in rows:
            conn.execute(
                """INSERT INTO model_runs (user_id, model, data_window, metrics, beats_baseline,
                       artifact) VALUES (%s, %s, %s, %s, %s, %s)""",
                (config.user, name, json.dumps(window, default=str),
                 json.dumps(metrics, default=float), beats, uri),
            )  # fmt: skip
    mood_diff = mood_result["difference"]["macro_f1"]
    session_diff = session_result["difference"]["pr_auc"]
    context.log.info(
        f"listening_models: mood macro-F1 {mood_result['scores']['model']['macro_f1']['value']:.3f}"
        f" (Δ best baseline {mood_diff['value']:+.3f} [{mood_diff['lo']:+.3f}, {mood_diff['hi']:+.3f}]),"
        f" session PR-AUC {session_result['scores']['model']['pr_auc']['value']:.3f} (Δ "
        f"{session_diff['value']:+.3f} [{session_diff['lo']:+.3f}, {session_diff['hi']:+.3f}])"
    )
    ece = (session_result["ece_before"]["value"], session_result["ece_after"]["value"])
    return dg.MaterializeResult(
        metadata={
            "mood_rows": len(mood),
            "session_hours": len(hours),
            "moods_k": moods.k,
            "mood_macro_f1": round(mood_result["scores"]["model"]["macro_f1"]["value"], 4),
            "mood_macro_f1_vs_best_baseline": dg.MetadataValue.json(mood_diff),
            "session_pr_auc": round(session_result["scores"]["model"]["pr_auc"]["value"], 4),
            "session_pr_auc_vs_best_baseline": dg.MetadataValue.json(session_diff),
            "session_ece_before": round(ece[0], 4),
            "session_ece_after": round(ece[1], 4),
            "mood_model": dg.MetadataValue.url(saved["mood"]),
            "session_model": dg.MetadataValue.url(saved["session"]),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=MOOD_CHECK, passed=rows[0][3], metadata={"difference": mood_diff}
            ),
            dg.AssetCheckResult(
                check_name=SESSION_CHECK, passed=rows[1][3], metadata={"difference": session_diff}
            ),
        ],
    )


class PredictionsConfig(dg.Config):
    user: str = "me"
    hours: int = 24


@dg.asset(
    group_name="listening",
    deps=[listening_history, listening_models],
    description="Between retrains: new plays assigned to the nearest mood centroid, the "
    "session-start probability for each of the coming hours and the likely next mood.",
)
def listening_predictions(
    context: dg.AssetExecutionContext,
    config: PredictionsConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    import pandas as pd

    from spotify_assets.lib.artifacts import ArtifactNotFound
    from spotify_assets.lib.listening.datasets import mood_dataset, session_dataset
    from spotify_assets.lib.listening.models import ModelBundle
    from spotify_assets.lib.listening.moods import MoodModel

    store = artifacts.get()
    folder = f"listening/{config.user}"
    try:
        moods = MoodModel.from_dict(store.get_json(mood_model_key(config.user)))
        session_model = ModelBundle.from_dict(store.get_json(f"{folder}/models/session.json"))
        mood_model = ModelBundle.from_dict(store.get_json(f"{folder}/models/mood.json"))
    except ArtifactNotFound as exc:
        raise dg.Failure(
            allow_retries=False,
            description=f"{exc}: run full_retrain (mood_clusters, listening_models) first",
        ) from exc
    plays = sessionize(plays_of(database, config.user))
    plays["cluster"] = assign(moods, plays)
    # the history's present: the hour after its latest play (live, that is about now)
    now = plays["played_at"].max().ceil("h")
    hours = session_dataset(plays, start=now, end=now + pd.Timedelta(hours=config.hours))
    probability = session_model.predict_proba(hours)
    predictions = [
        {"hour_start": h.isoformat(), "probability": round(float(p), 4)}
        for h, p in zip(hours["hour_start"], probability, strict=True)
    ]
    next_mood = None
    rows = mood_dataset(plays.assign(cluster=plays["cluster"]))
    if len(rows):
        probs = mood_model.predict_proba(rows.tail(1))[0]
        best = int(probs.argmax())
        next_mood = {"label": moods.labels[best], "probability": round(float(probs[best]), 4)}
    uri = store.put_json(
        f"{folder}/predictions.json",
        {"generated_at": now.isoformat(), "next_24h": predictions, "next_mood": next_mood},
    )
    return dg.MaterializeResult(
        metadata={
            "plays_assigned": int((plays["cluster"] >= 0).sum()),
            "hours_predicted": len(predictions),
            "peak_hour": max(predictions, key=lambda r: r["probability"])["hour_start"]
            if predictions
            else "",
            "next_mood": dg.MetadataValue.json(next_mood or {}),
            "predictions": dg.MetadataValue.url(uri),
        }
    )
