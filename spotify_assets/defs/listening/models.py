"""Stage 4, models: every registered listening model trained, evaluated and recorded, with a
check per model; the daily `full_retrain` job and its schedule (join → clustering → models →
predictions → drift → dashboard)."""

from typing import Any

import dagster as dg
import pandas as pd
from pydantic import Field

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.colistening.assets import co_listening
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.listening.common import (
    DAILY_RETRAIN,
    LISTENING,
    load_sessions,
    people_with_history,
    summary,
)
from spotify_assets.defs.listening.dashboard import listening_dashboard
from spotify_assets.defs.listening.drift import drift_report
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.listening.moods import mood_clusters
from spotify_assets.defs.listening.predictions import listening_predictions
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.defs.verdicts import difference_metadata, difference_sentence
from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.listening.registry import MODELS
from spotify_assets.lib.listening.words import words_for


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
        words = words.rstrip(".") + f"; serving {words_for(m.serves)}"
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


full_retrain_job = dg.define_asset_job(
    "full_retrain",
    selection=[
        play_features,
        co_listening,
        mood_clusters,
        listening_models,
        listening_predictions,
        drift_report,
        listening_dashboard,
    ],
    description="Daily: join plays to the catalog, the co-listening vectors (when the data "
    "changed), one mood clustering on the training weeks, the next-mood and session-start "
    "models with their evaluation, predictions, drift, dashboard.",
)


@dg.schedule(
    job=full_retrain_job,
    cron_schedule="15 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Full retrain of every person daily at 00:15 UTC.",
)
def full_retrain_schedule(context: dg.ScheduleEvaluationContext, database: DatabaseResource):
    keys = people_with_history(context.instance, database)
    if not keys:
        return dg.SkipReason("no people yet: import a history (spotify-assets listening import)")
    stamp = context.scheduled_execution_time.isoformat()
    return [dg.RunRequest(run_key=f"retrain-{k}-{stamp}", partition_key=k) for k in keys]
