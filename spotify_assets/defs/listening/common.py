"""What every listening stage shares: the asset settings (group, `person` partitions, owners),
freshness policies, the step's summary line, the person's sessionized plays, and which people
the schedules run for."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from spotify_assets.defs.failures import input_failure
from spotify_assets.defs.partitions import people
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.listening.ingest import load_sessions as stored_sessions
from spotify_assets.lib.people import DEFAULT_PERSON
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.settings import settings

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


def api_person() -> str:
    """The person whose Spotify account the configured credentials belong to."""
    return settings().api_person or DEFAULT_PERSON


def people_with_history(instance: dg.DagsterInstance, database: DatabaseResource) -> list[str]:
    """The person partitions that have plays: a person who only imported playlists has nothing
    to retrain or update."""
    with database.get().connect() as conn:
        with_plays = set(PersonRepository(conn).with_plays())
    return [k for k in instance.get_dynamic_partitions(people.name) if k in with_plays]
