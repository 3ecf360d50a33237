"""Stage 5, predictions: between retrains, every play's mood, the coming hours' session starts and
the likely next mood, with the last retrain; the 30-minute `update` job and its schedule (new
plays → join → predictions → drift → dashboard)."""

import dagster as dg
import pandas as pd

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.listening.common import (
    EVERY_30_MINUTES,
    LISTENING,
    api_person,
    load_sessions,
    people_with_history,
    summary,
)
from spotify_assets.defs.listening.dashboard import listening_dashboard
from spotify_assets.defs.listening.drift import drift_report
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.listening.history import listening_history
from spotify_assets.defs.resources import DatabaseResource


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


update_job = dg.define_asset_job(
    "update",
    selection=[
        listening_history,
        play_features,
        listening_predictions,
        drift_report,
        listening_dashboard,
    ],
    description="Every 30 minutes: new plays (the API for its person) → join to the catalog → "
    "predict with the last retrain → drift → dashboard.",
)


def history_source(person: str) -> dg.RunConfig:
    from spotify_assets.defs import run_config  # it imports this stage's config classes

    return run_config.history("api" if person == api_person() else "none")


@dg.schedule(
    job=update_job,
    cron_schedule="*/30 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every 30 minutes, one update per person; the API person "
    "($SPOTIFY_ASSETS_API_PERSON, default 'me') fetches recently-played (needs the Spotify "
    "credentials), the others refresh predictions from what is stored.",
)
def update_schedule(context: dg.ScheduleEvaluationContext, database: DatabaseResource):
    keys = people_with_history(context.instance, database)
    if not keys:
        return dg.SkipReason("no people yet: import a history (spotify-assets listening import)")
    stamp = context.scheduled_execution_time.isoformat()
    return [
        dg.RunRequest(run_key=f"update-{k}-{stamp}", partition_key=k, run_config=history_source(k))
        for k in keys
    ]
