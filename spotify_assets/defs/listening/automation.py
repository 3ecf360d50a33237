"""Jobs, schedules and the drop-folder sensor of the listening stage; one run per person."""

import json
from pathlib import Path

import dagster as dg

from spotify_assets.defs import run_config
from spotify_assets.defs.colistening.assets import co_listening
from spotify_assets.defs.listening.assets import (
    drift_report,
    listening_dashboard,
    listening_history,
    listening_models,
    listening_predictions,
    mood_clusters,
    play_features,
)
from spotify_assets.defs.partitions import people
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.export.files import HISTORY_FILE
from spotify_assets.lib.people import DEFAULT_PERSON, PersonNameError, check_person
from spotify_assets.settings import settings

API_PERSON_ENV = "SPOTIFY_ASSETS_API_PERSON"


import_history_job = dg.define_asset_job(
    "import_history",
    selection=[listening_history],
    description="Import a privacy-export file, folder or zip into one person's plays.",
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


def api_person() -> str:
    """The person whose Spotify account the configured credentials belong to."""
    return settings().api_person or DEFAULT_PERSON


def people_with_history(instance: dg.DagsterInstance, database: DatabaseResource) -> list[str]:
    """The person partitions that have plays: a person who only imported playlists has nothing
    to retrain or update."""
    from spotify_assets.lib.store.people import PersonRepository

    with database.get().connect() as conn:
        with_plays = set(PersonRepository(conn).with_plays())
    return [k for k in instance.get_dynamic_partitions(people.name) if k in with_plays]


def history_source(person: str) -> dg.RunConfig:
    source = "api" if person == api_person() else "none"
    return run_config.history(source)


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


def inbox() -> Path:
    return settings().history_inbox


def _dropped(folder: Path) -> dict[str, tuple[str, list[int]]]:
    """Export files in the drop folder → (person, [size, mtime]); a subfolder names the
    person, files at the top belong to the default person."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if not (HISTORY_FILE.match(path.name) or path.suffix.lower() == ".zip"):
            continue
        relative = path.relative_to(folder).parts
        person = relative[0] if len(relative) > 1 else DEFAULT_PERSON
        stat = path.stat()
        found[str(path)] = (person, [stat.st_size, stat.st_mtime_ns])
    return found


@dg.sensor(
    job=import_history_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New or changed export files in the drop folder ($SPOTIFY_ASSETS_HISTORY_INBOX, "
    "else $SPOTIFY_ASSETS_HOME/history_inbox; <folder>/<person>/… for a named person, files "
    "at the top for 'me') → the person is added as a partition and one import runs per file.",
)
def history_drop_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    folder = inbox()
    if not folder.is_dir():
        return dg.SkipReason(f"drop folder {folder} does not exist")
    seen: dict[str, list[int]] = json.loads(context.cursor) if context.cursor else {}
    current = _dropped(folder)
    changed = [path for path, (_, stamp) in current.items() if seen.get(path) != stamp]
    if not changed:
        return dg.SkipReason(f"no new export files in {folder}")
    valid, skipped = [], []
    for path in changed:
        try:
            valid.append((path, check_person(current[path][0])))
        except PersonNameError as exc:
            skipped.append(f"{path}: {exc}")
    for message in skipped:
        context.log.warning(message)
    known = set(context.instance.get_dynamic_partitions(people.name))
    new = sorted({person for _, person in valid} - known)
    return dg.SensorResult(
        dynamic_partitions_requests=[people.build_add_request(new)] if new else [],
        run_requests=[
            dg.RunRequest(
                run_key=f"history-{person}-{Path(path).name}-{'-'.join(map(str, current[path][1]))}",
                partition_key=person,
                run_config=run_config.history(path),
            )
            for path, person in valid
        ],
        cursor=json.dumps({path: stamp for path, (_, stamp) in current.items()}),
    )
