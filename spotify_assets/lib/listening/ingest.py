"""Import a history into `plays`, and join plays to the catalog (a separate, repeatable step).

An import parses every file first, then writes plays, the export's own audio features and the
quarantined rows in one transaction: a bad file writes nothing, and a reimport adds nothing
(plays are keyed by person, play key and start time). Plays keep their raw artist, title and
URI; which catalog track they are is decided by `refresh_joins`, run on every retrain and
update, so a catalog loaded after the history gives old plays their features.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.library import LIBRARY_FORMAT, resolve_library
from spotify_assets.lib.listening.exports import ImportReport, RejectedRow, read_history
from spotify_assets.lib.listening.join import join_plays
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.timezones import LocalZone, person_zone
from spotify_assets.lib.people import DEFAULT_PERSON
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.listening import (
    PlayJoinRepository,
    PlayRepository,
    TrackFeatureRepository,
)
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.lib.store.quarantine import QuarantineRecord, QuarantineRepository
from spotify_assets.lib.store.tracks import TrackRepository

log = logging.getLogger(__name__)
QUARANTINE_STAGE = "listening_history"
EXPORT_FEATURES = "export"


def import_history(
    db: Database,
    path: str | Path,
    person: str = DEFAULT_PERSON,
    timezone: str | None = None,
    earliest: str | None = None,
    latest: str | None = None,
) -> ImportReport:
    """Parse and store every play under `path` for `person`; all or nothing. Plays outside
    [earliest, latest] (default: Spotify's launch to tomorrow) are quarantined."""
    # raises HistoryError before anything is written
    history = read_history(path, earliest=earliest or None, latest=latest or None)
    plays = history.plays.assign(person=person)
    features = history.features
    with db.connect() as conn, conn.transaction():
        PersonRepository(conn).ensure(person, timezone)
        counts = PlayRepository(conn).upsert(plays)
        if not features.empty:
            TrackFeatureRepository(conn).upsert(features.assign(source=EXPORT_FEATURES))
        quarantined = _quarantine(conn, history.rejected, person)
        added = _add_library_tracks(conn, plays, person)
    report = dataclasses.replace(
        history.report, inserted=counts.inserted, quarantined=quarantined,
        library_tracks_added=added,
    )  # fmt: skip
    log.info(
        "%s: %d plays (%d new), %d episodes, %d audiobooks, %d bad rows (%d newly quarantined)",
        path, report.plays, report.inserted, report.episodes, report.audiobooks,
        report.bad_rows, report.quarantined,
    )  # fmt: skip
    return report


def _quarantine(conn: psycopg.Connection, rejected: list[RejectedRow], person: str) -> int:
    repo, added = QuarantineRepository(conn), 0
    by_file: dict[tuple[str, str], list[QuarantineRecord]] = {}
    for row in rejected:
        record = QuarantineRecord(row.line, row.reason, None, row.raw)
        by_file.setdefault((row.source_file, row.source_sha256), []).append(record)
    for (name, sha), records in by_file.items():
        added += repo.add(QUARANTINE_STAGE, _file_name(name), sha, records, person=person)
    return added


def _file_name(source: str) -> str:
    """The file's name without its folders (which can hold the person's account name), and
    the member for a zip ("export.zip!Spotify Account Data/StreamingHistory0.json")."""
    archive, bang, member = source.partition("!")
    return Path(archive).name + bang + member


@dataclass(frozen=True)
class Coverage:
    """How a person's plays joined the catalog and how many have audio features."""

    plays: int
    by_id: int  # joined a catalog file's track by id
    by_name: int  # ... by artist + title
    none: int  # nothing to name a track by
    with_features: int
    library: int = 0  # a library track: a song no catalog file has (lib/catalog/library.py)

    @property
    def share(self) -> float:
        return self.with_features / self.plays if self.plays else 0.0

    def as_dict(self) -> dict:
        rate = (lambda n: round(n / self.plays, 4)) if self.plays else (lambda n: 0.0)
        return {
            **dataclasses.asdict(self),
            "join_rate": rate(self.by_id + self.by_name),
            "features_rate": rate(self.with_features),
        }

    def describe(self) -> str:
        return (
            f"{self.plays:,} plays; {self.by_id + self.by_name:,} joined the catalog "
            f"({self.by_id:,} by id, {self.by_name:,} by artist + title), {self.library:,} "
            f"are library tracks; {self.with_features:,} ({self.share:.0%}) have audio features"
        )


def person_zone_of(db: Database, person: str) -> LocalZone:
    """The person's local zone: their setting, else their plays' main country, else default."""
    with db.connect() as conn:
        setting = PersonRepository(conn).timezone(person)
        countries = PlayRepository(conn).countries(person)
    return person_zone(setting, countries)


def load_sessions(
    db: Database, person: str, gap_minutes: float = 30, include_skips: bool = True
) -> pd.DataFrame:
    """The person's plays with features (as last joined), sessionized; empty when none."""
    with db.connect() as conn:
        plays = PlayRepository(conn).load(person)
    return sessionize(plays, gap_minutes, include_skips=include_skips) if len(plays) else plays


def refresh_joins(db: Database, person: str) -> Coverage:
    """Join the person's distinct tracks to the catalog as it is now; store and count."""
    with db.connect() as conn:
        tracks = PlayRepository(conn).distinct_tracks(person)
        if tracks.empty:
            return Coverage(0, 0, 0, 0, 0)
        catalog = PlayJoinRepository(conn).catalog()
        featured = TrackFeatureRepository(conn).known(tracks["play_key"].tolist())
    # A name-keyed play joins by its name alone: an id a notebook added to a basic export is a
    # guess, and the join must be a function of the play key (the table is shared).
    tracks.loc[tracks["play_key"].str.startswith("name:"), "track_id"] = None
    joined, _ = join_plays(tracks, catalog, featured_ids=())
    joined["has_features"] |= joined["play_key"].isin(featured)
    with db.connect() as conn, conn.transaction():
        joined = _join_library(conn, joined, catalog, person)
        PlayJoinRepository(conn).upsert(joined)
    weight = joined["plays"]

    def count(mask: pd.Series) -> int:
        return int(weight[mask].sum())

    return Coverage(
        plays=int(weight.sum()),
        by_id=count(joined["join_method"] == "id"),
        by_name=count(joined["join_method"] == "name"),
        none=count(joined["join_method"] == "none"),
        with_features=count(joined["has_features"]),
        library=count(joined["join_method"] == "library"),
    )


def _join_library(
    conn: psycopg.Connection, joined: pd.DataFrame, catalog: pd.DataFrame, person: str
) -> pd.DataFrame:
    """Plays of songs no catalog file has join their library track, added when new, so every
    played song that names itself has a track row (and, once embedded, a vector)."""
    library_ids = set(catalog.loc[catalog["source_format"] == LIBRARY_FORMAT, "track_id"])
    joined = joined.copy()
    joined.loc[joined["catalog_track_id"].isin(library_ids), "join_method"] = "library"
    unjoined = joined["join_method"] == "none"
    if unjoined.any():
        resolved = resolve_library(_songs(joined[unjoined]), catalog, _library_source(person))
        TrackRepository(conn).add_missing(resolved.new_tracks)
        TrackRepository(conn).merge_library_ids(resolved.merges)
        ids = resolved.track_ids.to_numpy(dtype=object)
        joined.loc[unjoined, "catalog_track_id"] = ids
        joined.loc[unjoined, "join_method"] = ["library" if t else "none" for t in ids]
    return joined


def _songs(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays as library items; a name-keyed play's id (added by a notebook) is not trusted."""
    track_ids = plays["track_id"].where(~plays["play_key"].str.startswith("name:"), None)
    album = plays["album_name"] if "album_name" in plays else pd.Series(None, index=plays.index)
    return pd.DataFrame(
        {"artist": plays["artist_name"], "title": plays["track_name"], "album": album,
         "track_id": track_ids},
        dtype=object,
    )  # fmt: skip


def _library_source(person: str) -> str:
    return f"plays of {person}"


def _add_library_tracks(conn: psycopg.Connection, plays: pd.DataFrame, person: str) -> int:
    """A track row for every played song no stored track is, so each has a vector once the
    bundle embeds it (and a play joins it in `refresh_joins`)."""
    songs = plays.drop_duplicates("play_key")
    if songs.empty:
        return 0
    catalog = PlayJoinRepository(conn).catalog()
    resolved = resolve_library(_songs(songs), catalog, _library_source(person))
    repo = TrackRepository(conn)
    added = repo.add_missing(resolved.new_tracks).inserted
    repo.merge_library_ids(resolved.merges)
    return added
