"""The listening stage, one `person` partition per person.

listening_history → play_features → mood_clusters → listening_models → listening_predictions
                                  └→ drift_report ─────────────────────┴→ listening_dashboard

Documents (the clustering, the retrain summary, predictions, drift) pass between assets through
the `documents` IO manager, so each dependency is an input, not an artifact key.
"""

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from spotify_assets.defs import tables
from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.failures import input_errors, input_failure
from spotify_assets.defs.partitions import TRANSIENT_RETRY, people
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.defs.verdicts import difference_metadata, difference_sentence
from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.listening.ingest import import_history, person_zone_of, refresh_joins
from spotify_assets.lib.listening.ingest import load_sessions as stored_sessions
from spotify_assets.lib.listening.registry import MODELS
from spotify_assets.lib.listening.timezones import validate
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.listening import (
    PlayJoinRepository,
    PlayRepository,
)
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.settings import home_dir

LISTENING = {"group_name": "listening", "partitions_def": people, "owners": ["team:listening"]}
# The `update` job (schedule: every 30 minutes) refreshes these: late after 40 minutes (a tick
# missed), stale after an hour.
EVERY_30_MINUTES = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=1), warn_window=timedelta(minutes=40)
)
# The `full_retrain` job (schedule: daily at 00:15 UTC) retrains: due by 01:15 UTC each day.
DAILY_RETRAIN = dg.FreshnessPolicy.cron(
    deadline_cron="15 1 * * *", lower_bound_delta=timedelta(hours=1), timezone="UTC"
)


def summary(context: dg.AssetExecutionContext, line: str, warn: bool = False) -> dg.MetadataValue:
    """The step's one readable line: logged, and kept as `summary` metadata for the CLI."""
    (context.log.warning if warn else context.log.info)(f"{context.partition_key}: {line}")
    return dg.MetadataValue.text(line)


class HistoryConfig(dg.Config):
    source: str = Field(
        default="sample",
        description="sample (the generated history) | api (Spotify recently-played + ReccoBeats "
        "features) | none (nothing new: an update for a person without a live source) | a "
        "path: a privacy-export file, folder or zip",
    )
    timezone: str = Field(
        default="",
        description="IANA time zone to store for this person (empty: keep the stored one; "
        "derived from the export's country, else $SPOTIFY_ASSETS_TIMEZONE, else UTC)",
    )
    earliest_play: str = Field(
        default="", description="Plays before this date are quarantined (empty: 2008-10-01)."
    )
    latest_play: str = Field(
        default="", description="Plays after this date are quarantined (empty: tomorrow)."
    )


@dg.asset(
    **LISTENING,
    kinds={"python", "postgres"},
    metadata=tables.PLAYS,
    freshness_policy=EVERY_30_MINUTES,
    retry_policy=TRANSIENT_RETRY,
    description="A person's plays (unique per track and start) from privacy exports or the "
    "Web API, as the export gives them: artist, title, URI, country. Their join to the catalog is "
    "play_features.",
)
def listening_history(
    context: dg.AssetExecutionContext,
    config: HistoryConfig,
    database: DatabaseResource,
    spotify: SpotifyResource,
) -> dg.MaterializeResult:
    person, db = context.partition_key, database.get()
    _check_zone(config.timezone)
    if config.source == "none":
        with db.connect() as conn:
            PersonRepository(conn).ensure(person, config.timezone or None)
            stored = PlayRepository(conn).count(person)
        line = f"no new source; {stored:,} plays stored"
        return dg.MaterializeResult(
            metadata={"source": "none", "inserted": 0, "stored": stored,
                      "summary": summary(context, line), **tables.rows(stored, partitioned=True)}
        )  # fmt: skip
    if config.source == "api":
        from spotify_assets.lib.listening.api import ingest_recent

        # the resource's ReccoBeats settings (RECCOBEATS_API_BASE, "off"), as enrichment uses
        reccobeats = spotify.reccobeats(log=context.log.info)
        with spotify.client() as client, reccobeats or contextlib.nullcontext():
            report = ingest_recent(db, client, reccobeats, person)
        metadata: dict[str, Any] = {
            "plays": report.plays, "inserted": report.inserted,
            "features_fetched": report.features_fetched,
            "cursor": str(report.cursor_after or ""),
        }  # fmt: skip
        if config.timezone:
            with db.connect() as conn:
                PersonRepository(conn).ensure(person, config.timezone)
    else:
        path = ensure_sample(home_dir()).history_dir if config.source == "sample" else config.source
        with input_errors(nothing_written=True):
            imported = import_history(
                db, Path(path), person, config.timezone or None,
                config.earliest_play or None, config.latest_play or None,
            )  # fmt: skip
        metadata = {
            "files": len(imported.files), "plays": imported.plays, "inserted": imported.inserted,
            "already_stored": imported.plays - imported.inserted,
            "episodes_excluded": imported.episodes, "audiobooks_excluded": imported.audiobooks,
            "videos_excluded": imported.videos,
            "bad_rows": imported.bad_rows, "newly_quarantined": imported.quarantined,
            "duplicates": imported.duplicates,
            "library_tracks_added": imported.library_tracks_added,
            "file_accounts": dg.MetadataValue.json([a.as_dict() for a in imported.accounts]),
        }  # fmt: skip
    with db.connect() as conn:
        metadata["stored"] = PlayRepository(conn).count(person)
    line = f"{metadata.get('plays', 0):,} plays read, {metadata['inserted']:,} new"
    excluded = [
        f"{metadata[k]:,} {what}"
        for k, what in (("episodes_excluded", "podcast episodes"),
                        ("audiobooks_excluded", "audiobook chapters"),
                        ("videos_excluded", "videos"))
        if metadata.get(k)
    ]  # fmt: skip
    if excluded:
        line += f"; excluded {', '.join(excluded)}"
    if "bad_rows" in metadata:
        line += (
            f"; {metadata['bad_rows']:,} unreadable rows ({metadata['newly_quarantined']:,} newly "
            "quarantined)"
            if metadata["bad_rows"]
            else "; no unreadable rows"
        )
    if metadata.get("library_tracks_added"):
        line += f"; {metadata['library_tracks_added']:,} songs new to the catalog (library tracks)"
    line += f"; {metadata['stored']:,} plays stored for {person}"
    metadata["summary"] = summary(context, line)
    return dg.MaterializeResult(
        metadata={
            "source": config.source,
            **metadata,
            **tables.rows(metadata["stored"], partitioned=True),
        }
    )


def _check_zone(timezone: str) -> None:
    if timezone:
        with input_errors():
            validate(timezone)


@dg.asset(
    **LISTENING,
    kinds={"python", "postgres"},
    metadata=tables.PLAY_JOINS,
    freshness_policy=EVERY_30_MINUTES,
    deps=[listening_history, catalog_tracks],
    retry_policy=TRANSIENT_RETRY,
    description="The person's plays joined to the catalog as it is now (by track id, else "
    "artist + title) and to fetched features: recomputed on every retrain and update, so a "
    "catalog loaded later gives old plays their features. One row per distinct song played "
    "(play key), not per play: `plays` says how many plays they cover.",
)
def play_features(context: dg.AssetExecutionContext, database: DatabaseResource):
    person = context.partition_key
    coverage = refresh_joins(database.get(), person)
    if coverage.plays == 0:
        raise input_failure(no_plays(person))
    with database.get().connect() as conn:
        joins = PlayJoinRepository(conn).count(person)
    # the table has a row per distinct song; say so beside the plays, or 1,359 "rows" for
    # 2,952 plays reads as lost plays
    line = f"{coverage.describe()}; {joins:,} distinct songs (the table's rows)"
    if coverage.share == 0:
        line += (
            "; WARNING: no play has audio features, so there are no moods: load a catalog that "
            "covers this person (spotify-assets catalog FILE), then retrain"
        )
    return dg.MaterializeResult(
        metadata={
            **coverage.as_dict(),
            "distinct_songs": joins,
            "feature_coverage": dg.MetadataValue.float(coverage.share),
            "summary": summary(context, line, warn=coverage.share == 0),
            **tables.rows(joins, partitioned=True),
        }
    )


def no_plays(person: str) -> InputError:
    return InputError(
        f"no plays for {person!r}: import a history first "
        f"(spotify-assets listening import PATH --person {person})"
    )


def load_sessions(
    database: DatabaseResource, person: str, gap_minutes: float = 30, include_skips: bool = True
) -> pd.DataFrame:
    """The person's sessionized plays with features (as joined by play_features); a person
    without plays is an input error, a non-retried failure of the step."""
    plays = stored_sessions(database.get(), person, gap_minutes, include_skips)
    if plays.empty:
        raise input_failure(no_plays(person))
    return plays


class MoodConfig(dg.Config):
    gap_minutes: int = Field(default=30, description="A new session after this many idle minutes.")
    include_skips: bool = True
    seed: int = 0


@dg.asset(
    **LISTENING,
    kinds={"scikitlearn", "json"},
    freshness_policy=DAILY_RETRAIN,
    io_manager_key="documents",
    deps=[play_features],
    description="The retrain's one mood clustering: split boundaries (60/20/20 of the plays in "
    "time), then K-means on the training weeks' plays with audio features, K by silhouette; "
    "readable, distinct labels. Models, predictions and the dashboard all use it.",
)
def mood_clusters(
    context: dg.AssetExecutionContext, config: MoodConfig, database: DatabaseResource
) -> dg.Output[dict]:
    from spotify_assets.lib.listening.retrain import cluster_training_weeks

    person = context.partition_key
    plays = load_sessions(database, person, config.gap_minutes, config.include_skips)
    zone = person_zone_of(database.get(), person)
    with input_errors(person):
        clustering = cluster_training_weeks(plays, seed=config.seed)
    moods = clustering.moods
    if moods is None:
        line = f"no mood clustering: {clustering.reason}"
    else:
        line = (
            f"K={moods.k} moods ({moods.rule}) from {clustering.fitted_on:,} training-week plays "
            f"with audio features; times in {zone.describe()}"
        )
    document = {
        **clustering.to_dict(),
        "timezone": zone.name,
        "timezone_source": zone.source,
        "gap_minutes": config.gap_minutes,
        "include_skips": config.include_skips,
        "seed": config.seed,
    }
    return dg.Output(
        document,
        metadata={
            "k": moods.k if moods else 0,
            "labels": dg.MetadataValue.json(moods.labels if moods else []),
            "fitted_on_plays": clustering.fitted_on,
            "no_clustering_because": clustering.reason,
            "timezone": zone.describe(),
            "validation_from": clustering.boundaries[0].isoformat(),
            "test_from": clustering.boundaries[1].isoformat(),
            "summary": summary(context, line, warn=moods is None),
        },
    )


class ModelsConfig(dg.Config):
    bootstrap: int = Field(default=500, description="Bootstrap resamples for the CIs.")



@dg.asset(
    **LISTENING,
    kinds={"xgboost", "scikitlearn", "json"},
    freshness_policy=DAILY_RETRAIN,
    io_manager_key="documents",
    description="Every registered listening model (lib/listening/registry.py: next mood, "
    "session start) trained on the clustering's split: leak-free datasets, XGBoost with early "
    "stopping and calibration, the next-mood model served only when it beats repeating the "
    "mood on the validation weeks; tested against baselines with day-blocked bootstrap CIs. "
    "One retrain record (retrain_id) per run.",
    check_specs=[
        dg.AssetCheckSpec(m.check_name, asset="listening_models", description=m.check)
        for m in MODELS
    ],
)
def listening_models(
    context: dg.AssetExecutionContext,
    config: ModelsConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
    mood_clusters: dict,
):
    from spotify_assets.lib.listening.retrain import Clustering, feature_change, retrain
    from spotify_assets.lib.store.listening import RetrainRecord, RetrainRepository

    person = context.partition_key
    clustering = Clustering.from_dict(mood_clusters)
    zone = mood_clusters["timezone"]
    plays = load_sessions(
        database, person, mood_clusters["gap_minutes"], mood_clusters["include_skips"]
    )
    with input_errors(person):
        run = retrain(
            plays, clustering, person, zone, n_boot=config.bootstrap, seed=mood_clusters["seed"]
        )
    with database.get().connect() as conn:
        previous = RetrainRepository(conn).latest(person)
    if note := feature_change(previous.summary if previous else None, run.summary):
        run.summary["feature_change"] = f"{note} (previous retrain {previous.retrain_id})"
        context.log.warning(run.summary["feature_change"])

    store = artifacts.get()
    folder = f"listening/{person}/retrains/{run.retrain_id}"
    keys, uris = {}, {}
    for name, model in run.serving_models.items():
        keys[name] = f"{folder}/{name}.json"
        uris[name] = store.put_json(keys[name], to_jsonable(model.to_dict()))
    with database.get().connect() as conn:
        RetrainRepository(conn).record(
            RetrainRecord(
                run.retrain_id, person, run.trained_at, zone, mood_clusters["boundaries"],
                mood_clusters["moods"], run.policy.kind, run.summary,
            ),
            run.model_runs(uris),
        )  # fmt: skip
    metadata = models_metadata(run)
    metadata["summary"] = summary(
        context, f"retrain {run.retrain_id}: {run.describe()}", warn=bool(run.summary["gaps"])
    )
    yield dg.Output(to_jsonable(run.to_dict(keys, clustering=mood_clusters)), metadata=metadata)
    checked = {m.name for m in MODELS}  # a check per registered model (declared above)
    yield from (model_check(m) for m in run.models if m.name in checked)


def models_metadata(run) -> dict[str, Any]:
    """The retrain's metadata, the same entries for every model: `<name>_<metric>` (the model
    on the test weeks), `<name>_<metric>_vs_best_baseline` (a sentence), `<name>_serves` and
    `<name>_metrics` (a table of every system)."""
    from spotify_assets.lib.listening.gaps import Gap, describe_gaps

    gaps = [Gap.from_dict(g) for g in run.summary["gaps"]]
    metadata: dict[str, Any] = {
        "retrain_id": run.retrain_id,
        "timezone": run.timezone,
        "feature_coverage": dg.MetadataValue.float(float(run.summary["share"])),
        "features_by_source": dg.MetadataValue.json(run.summary.get("features_by_source", {})),
        "feature_change": dg.MetadataValue.text(run.summary.get("feature_change", "none")),
        "history_gaps": dg.MetadataValue.text(describe_gaps(gaps, run.timezone) or "none"),
        "moods_k": run.summary["k"],
        "mood_policy": run.policy.kind,
        "mood_policy_reason": dg.MetadataValue.text(run.policy.reason),
    }
    if "session_hours" in run.summary:
        metadata["session_hours"] = run.summary["session_hours"]
    for m in run.models:
        metadata[f"{m.name}_serves"] = dg.MetadataValue.text(
            m.serves + (f": {m.reason}" if m.reason else "")
        )
        if m.evaluation is None:
            continue
        metadata[f"{m.name}_rows"] = dg.MetadataValue.json(m.window)
        for metric in m.shown:
            if (score := m.score(metric)) is not None and score.value == score.value:
                metadata[f"{m.name}_{metric}"] = round(score.value, 4)
        if m.headline is not None:
            metadata[f"{m.name}_{m.decides}_vs_best_baseline"] = dg.MetadataValue.text(
                difference_sentence(m.decides, m.headline.to_dict(), m.evaluation.days)
            )
        if table := metrics_table(m):
            metadata[f"{m.name}_metrics"] = table
    return metadata


def model_check(m) -> dg.AssetCheckResult:
    """`<name>_model_beats_baselines`: model − best baseline and its CI as numbers, and one
    sentence (with what serves when a rule does), or why the model was not evaluated."""
    if m.evaluation is None or m.headline is None:
        return dg.AssetCheckResult(
            check_name=f"{m.name}_model_beats_baselines", passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"Not evaluated: {(m.reason or 'no test weeks').rstrip('.')}.",
            metadata={"test_rows": 0},
        )  # fmt: skip
    d, days = m.headline.to_dict(), m.evaluation.days
    words = difference_sentence(m.decides, d, days)
    if m.serves != "model":
        words = words.rstrip(".") + f"; serving {m.serves.replace('_', ' ')}"
        words += f" ({m.reason.rstrip('.')})." if m.reason else "."
    return dg.AssetCheckResult(
        check_name=f"{m.name}_model_beats_baselines", passed=m.beats_baselines,
        severity=dg.AssetCheckSeverity.WARN, description=words,
        metadata={**difference_metadata(d, days), "test_rows": m.evaluation.n,
                  "baseline": dg.MetadataValue.text(d["baseline"]),
                  "serves": dg.MetadataValue.text(m.serves)},
    )  # fmt: skip


def metrics_table(m) -> dg.TableMetadataValue | None:
    """One model's shown metrics: a row per metric and system, its value on the test weeks and
    95% CI; four columns, so it fits the UI's metadata column without scrolling."""
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("metric", "string"),
            dg.TableColumn("system", "string", description="The model or a baseline."),
            dg.TableColumn("value", "float", description="On the test weeks."),
            dg.TableColumn("95% CI", "string", description="Day-blocked bootstrap."),
        ]
    )
    scores = m.evaluation.scores if m.evaluation else {}
    records = [
        dg.TableRecord(
            {
                "metric": metric,
                "system": system,
                "value": _rounded(iv.value, 3),
                "95% CI": _interval_text(iv.lo, iv.hi),
            }
        )
        for metric in m.shown
        for system, iv in scores.get(metric, {}).items()
    ]
    return dg.MetadataValue.table(records, schema) if records else None


def _interval_text(low, high) -> str:
    low, high = _rounded(low, 2), _rounded(high, 2)
    return "–" if low is None or high is None else f"{low:.2f}–{high:.2f}"


def _rounded(value, digits: int) -> float | None:
    if value is None or not pd.notna(value):
        return None
    return round(float(value), digits)


class PredictionsConfig(dg.Config):
    hours: int = 24


@dg.asset(
    **LISTENING,
    kinds={"xgboost", "json"},
    freshness_policy=EVERY_30_MINUTES,
    io_manager_key="documents",
    deps=[play_features],
    description="Between retrains: every play gets a mood from the retrain's clustering, the "
    "session-start probability for each coming hour, and the likely next mood from the served "
    "policy; named by the retrain that made them.",
)
def listening_predictions(
    context: dg.AssetExecutionContext,
    config: PredictionsConfig,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
    listening_models: dict,
) -> dg.Output[dict]:
    from spotify_assets.lib.listening.predict import predict

    person, run = context.partition_key, listening_models
    clustering = run["clustering"]
    plays = load_sessions(database, person, clustering["gap_minutes"], clustering["include_skips"])
    from spotify_assets.lib.listening.retrain import artifact_keys

    store = artifacts.get()
    models = {name: store.get_json(key) for name, key in artifact_keys(run).items()}
    document = predict(plays, run, models, hours=config.hours)
    top = max(document["next_hours"], key=lambda r: r["probability"], default=None)
    mood = document["next_mood"]
    line = (
        f"with retrain {run['retrain_id']}: next mood "
        + (
            f"'{mood['label']}' ({mood['policy']})"
            if mood
            else f"unknown ({document['next_mood_reason']})"
        )
        + (
            f"; most likely session start in the next {config.hours} h: "
            f"{pd.Timestamp(top['hour_start']).tz_convert(run['timezone']):%a %H:%M} "
            f"({top['probability']:.0%})"
            if top
            else ""
        )
    )
    return dg.Output(
        document,
        metadata={
            "retrain_id": run["retrain_id"],
            "plays_with_mood": document["plays_with_mood"],
            "hours_predicted": len(document["next_hours"]),
            "peak_hour": top["hour_start"] if top else "",
            "next_mood": dg.MetadataValue.json(document["next_mood"] or {}),
            "summary": summary(context, line),
        },
    )


class DriftConfig(dg.Config):
    recent_days: int = 7
    baseline_days: int = 30


@dg.asset(
    **LISTENING,
    kinds={"scipy", "json"},
    freshness_policy=EVERY_30_MINUTES,
    io_manager_key="documents",
    deps=[play_features],
    description="Last 7 days vs the 30 before: session duration, sessions/day, tracks/day, "
    "start-hour entropy and feature distributions, each with a test, an effect-size floor and "
    "minimum sample sizes ('insufficient data' never alarms).",
)
def drift_report(
    context: dg.AssetExecutionContext, config: DriftConfig, database: DatabaseResource
) -> dg.Output[dict]:
    from spotify_assets.lib.listening.drift import INSUFFICIENT, detect_drift
    from spotify_assets.lib.listening.drift import DriftConfig as Settings

    report = detect_drift(
        load_sessions(database, context.partition_key),
        config=Settings(recent_days=config.recent_days, baseline_days=config.baseline_days),
    )
    insufficient = sum(1 for m in report.metrics if m.status == INSUFFICIENT)
    verdict = (
        "not enough data for any metric"
        if insufficient == len(report.metrics)
        else f"drifted: {', '.join(report.drifted_metrics) or 'nothing'}"
    )

    return dg.Output(
        report.to_dict(),
        metadata={
            "drifted": report.drifted,
            "drifted_metrics": dg.MetadataValue.json(report.drifted_metrics),
            "metrics_tested": len(report.metrics) - insufficient,
            "insufficient": insufficient,
            "verdict": verdict,
            "summary": summary(
                context,
                f"last {config.recent_days} days vs the {config.baseline_days} before: {verdict}",
            ),
        },
    )


@dg.asset(
    **LISTENING,
    kinds={"html", "json"},
    freshness_policy=EVERY_30_MINUTES,
    deps=[play_features],
    description="A JSON document (for embedding in a website) and a self-contained HTML page, in "
    "the person's time zone: listening by hour × weekday, moods, mood share over time, "
    "next-24 h session starts, model vs baselines with CIs, drift, feature coverage.",
)
def listening_dashboard(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
    listening_models: dict,
    listening_predictions: dict,
    drift_report: dict,
) -> dg.MaterializeResult:
    import base64

    from spotify_assets.lib.listening.dashboard import (
        artifact_folder,
        build_dashboard,
        plot_svgs,
        render_html,
        to_json,
    )
    from spotify_assets.lib.listening.moods import MoodModel, assign
    from spotify_assets.lib.listening.retrain import Retrain

    person, run = context.partition_key, listening_models
    retrain = Retrain.from_dict(run)
    clustering = run["clustering"]
    plays = load_sessions(database, person, clustering["gap_minutes"], clustering["include_skips"])
    moods = MoodModel.from_dict(clustering["moods"]) if clustering["moods"] else None
    plays["cluster"] = assign(moods, plays) if moods else -1
    reasons = {}
    if moods is None:
        reasons["mood_clusters"] = reasons["mood_share_by_week"] = clustering["reason"]
    document = build_dashboard(
        plays, moods, listening_predictions["next_hours"], retrain.models, drift_report,
        pd.Timestamp.now(tz="UTC"), timezone=run["timezone"],
        timezone_source=run["clustering"].get("timezone_source"),
        coverage={"plays": len(plays), "with_features": int(plays["has_features"].sum())},
        reasons=reasons, run={"retrain_id": run["retrain_id"], "trained_at": run["trained_at"]},
    )  # fmt: skip
    store = artifacts.get()
    folder = artifact_folder(person)
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

    return dg.MaterializeResult(
        metadata={
            # first: two small plots the asset's overview shows without a click, and the page
            **glance_plots(document),
            "html": dg.MetadataValue.url(html_uri),
            "retrain_id": run["retrain_id"],
            "plays": document["summary"]["plays"],
            "sessions": document["summary"]["sessions"],
            "timezone": run["timezone"],
            "json": dg.MetadataValue.url(json_uri),
            "summary": summary(context, f"{html_uri} (times in {run['timezone']})"),
            # the dashboard's full plots (large: the UI shows them behind "[Show Markdown]")
            **plots,
        }
    )


def glance_plots(document: dict) -> dict[str, dg.MetadataValue]:
    """Plays by hour of day and the next 24 hours' session-start probability as tiny bar
    charts: markdown under the UI's 1,000-character limit, so they show inline."""
    from spotify_assets.lib.listening.sparklines import bars_markdown

    tz = document["timezone"]
    heat = document["listening_by_hour"]
    by_hour = [sum(row[h] for row in heat["plays"]) for h in range(len(heat["cols"]))]
    preds = document["next_24h"]
    start = f", from {pd.Timestamp(preds[0]['hour_start']).strftime('%a %H:%M')}" if preds else ""
    return {
        "plays_by_hour": dg.MetadataValue.md(
            bars_markdown(f"Plays by hour of day, 00–23 ({tz})", by_hour)
        ),
        "next_24h_session_start": dg.MetadataValue.md(
            bars_markdown(
                f"Session-start probability, next 24 hours{start} ({tz})",
                [p["probability"] for p in preds],
                color="steelblue",
            )
        ),
    }
