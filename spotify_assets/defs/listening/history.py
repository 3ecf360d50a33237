"""Stage 1, history: a person's plays as their exports (or the Web API) give them; the import job
and the drop-folder sensor that starts it."""

import contextlib
import json
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from spotify_assets.defs import tables
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.listening.common import EVERY_30_MINUTES, LISTENING, summary
from spotify_assets.defs.partitions import TRANSIENT_RETRY, people
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.export.files import HISTORY_FILE
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.listening.timezones import validate
from spotify_assets.lib.people import DEFAULT_PERSON, PersonNameError, check_person
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.listening import (
    PlayRepository,
)
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.settings import home_dir, settings


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


import_history_job = dg.define_asset_job(
    "import_history",
    selection=[listening_history],
    description="Import a privacy-export file, folder or zip into one person's plays.",
)


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
    from spotify_assets.defs import run_config  # it imports HistoryConfig from here

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
