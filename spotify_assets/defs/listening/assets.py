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
    deps=[mood_clusters, drift_report],
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
    document = build_dashboard(plays, model, None, None, drift, datetime.now(UTC))
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
