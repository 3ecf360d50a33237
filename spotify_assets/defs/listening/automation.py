"""Jobs, schedules and the drop-folder sensor of the listening stage."""

import json
import os
from pathlib import Path

import dagster as dg

from spotify_assets.defs.listening.assets import (
    drift_report,
    listening_dashboard,
    listening_history,
    listening_models,
    listening_predictions,
    mood_clusters,
)
from spotify_assets.lib.listening.exports import HISTORY_FILE
from spotify_assets.lib.store.server import home_dir

import_history_job = dg.define_asset_job(
    "import_history",
    selection=[listening_history],
    description="Import one privacy-export file, folder or zip into `plays`.",
)
update_job = dg.define_asset_job(
    "update",
    selection=[listening_history, listening_predictions, listening_dashboard, drift_report],
    description="Every 30 minutes: new plays from the API → assign moods and predict → "
    "dashboard → drift.",
)
full_retrain_job = dg.define_asset_job(
    "full_retrain",
    selection=[
        mood_clusters,
        listening_models,
        listening_predictions,
        drift_report,
        listening_dashboard,
    ],
    description="Daily: mood clusters, then the next-mood and session-start models with their "
    "evaluation, drift, dashboard.",
)

update_schedule = dg.ScheduleDefinition(
    job=update_job,
    cron_schedule="*/30 * * * *",
    execution_timezone="UTC",
    run_config={"ops": {"listening_history": {"config": {"source": "api"}}}},
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Spotify recently-played every 30 minutes (needs the Spotify credentials).",
)
full_retrain_schedule = dg.ScheduleDefinition(
    job=full_retrain_job,
    cron_schedule="15 0 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Full retrain daily at 00:15 UTC.",
)


def inbox() -> Path:
    return Path(os.environ.get("SPOTIFY_ASSETS_HISTORY_INBOX") or home_dir() / "history_inbox")


@dg.sensor(
    job=import_history_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New or changed export files in the drop folder ($SPOTIFY_ASSETS_HISTORY_INBOX, "
    "else $SPOTIFY_ASSETS_HOME/history_inbox) → one import run per file.",
)
def history_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    folder = inbox()
    if not folder.is_dir():
        return dg.SkipReason(f"drop folder {folder} does not exist")
    seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
    current = {
        str(p): [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(folder.iterdir())
        if p.is_file() and (HISTORY_FILE.match(p.name) or p.suffix.lower() == ".zip")
    }
    changed = [path for path, stamp in current.items() if seen.get(path) != stamp]
    if not changed:
        return dg.SkipReason(f"no new export files in {folder}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"history-{Path(path).name}-{current[path][0]}-{current[path][1]}",
                run_config={"ops": {"listening_history": {"config": {"source": path}}}},
            )
            for path in changed
        ],
        cursor=json.dumps(current),
    )
