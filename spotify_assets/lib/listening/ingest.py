"""Import a history into `plays`, and join plays to the catalog (a separate, repeatable step).

An import parses every file first, then writes plays, the export's own audio features and the
quarantined rows in one transaction: a bad file writes nothing, and a reimport adds nothing
(plays are keyed by person, play key and start time). Plays keep their raw artist, title and
URI. Which track each play is (`play_joins`) is decided at import, by the same resolution
playlists and liked songs use, and again by `refresh_joins` on every retrain and update, so a
catalog loaded after the history gives old plays their features.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.known import known_tracks
from spotify_assets.lib.catalog.library import (
    BY_ID,
    BY_NAME,
    LIBRARY,
    UNRESOLVED,
    resolve_library,
)
from spotify_assets.lib.export.history import ImportReport, read_history
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.timezones import LocalZone, person_zone
from spotify_assets.lib.people import DEFAULT_PERSON
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.imports import ImportFileRepository
from spotify_assets.lib.store.listening import (
    PlayJoinRepository,
    PlayRepository,
    TrackFeatureRepository,
)
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.lib.store.quarantine import QuarantineRepository
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
        quarantined = QuarantineRepository(conn).add_rejected(
            QUARANTINE_STAGE, history.rejected, person
        )
        # every played song gets its track (and a vector once the bundle embeds it) and its
        # join now, so what the person played is on record before any retrain
        _, added = join_songs(conn, plays.drop_duplicates("play_key"), person)
        ImportFileRepository(conn).record(person, history.report.accounts)
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
    """Join the person's distinct songs to the tracks as they are now; store and count."""
    with db.connect() as conn, conn.transaction():
        songs = PlayRepository(conn).distinct_tracks(person)
        if songs.empty:
            return Coverage(0, 0, 0, 0, 0)
        joined, _ = join_songs(conn, songs, person)
        featured = PlayJoinRepository(conn).with_features(joined["play_key"].tolist())
    weight = joined["plays"]

    def count(mask: pd.Series) -> int:
        return int(weight[mask].sum())

    method = joined["join_method"]
    return Coverage(
        plays=int(weight.sum()),
        by_id=count(method == BY_ID),
        by_name=count(method == BY_NAME),
        none=count(method == UNRESOLVED),
        with_features=count(joined["play_key"].isin(featured)),
        library=count(method == LIBRARY),
    )


def join_songs(
    conn: psycopg.Connection, songs: pd.DataFrame, person: str
) -> tuple[pd.DataFrame, int]:
    """The track of each distinct play key (`songs`: play_key, track_id, artist_name,
    track_name, optional album_name), by the one resolution every source uses
    (lib/catalog/library.py), stored in `play_joins`; new library tracks are added. Returns
    `songs` with catalog_track_id and join_method, and how many tracks were added."""
    items = _songs(songs)
    known, aliases = known_tracks(conn, items)
    repo = TrackRepository(conn)
    resolved = resolve_library(items, known, _library_source(person), aliases)
    added = repo.add_missing(resolved.new_tracks).inserted
    repo.merge_library_ids(resolved.merges)
    joined = songs.reset_index(drop=True).assign(
        catalog_track_id=resolved.track_ids.to_numpy(dtype=object),
        join_method=resolved.methods.to_numpy(dtype=object),
    )
    PlayJoinRepository(conn).upsert(joined)
    return joined, added


def _songs(plays: pd.DataFrame) -> pd.DataFrame:
    """Plays as library items. A name-keyed play is its name: the id a notebook added to a
    basic export is a guess, and the join must be a function of the play key (it is shared)."""
    track_ids = plays["track_id"].where(~plays["play_key"].str.startswith("name:"), None)
    album = plays["album_name"] if "album_name" in plays else pd.Series(None, index=plays.index)
    return pd.DataFrame(
        {"artist": plays["artist_name"], "title": plays["track_name"], "album": album,
         "track_id": track_ids},
        dtype=object,
    )  # fmt: skip


def _library_source(person: str) -> str:
    return f"plays of {person}"


def join_unjoined(db: Database) -> int:
    """Record the join of every stored play key that has none (plays imported before joins
    were written at import); returns the play keys joined. `forget` needs every join on
    record to tell which library songs someone still plays."""
    with db.connect() as conn, conn.transaction():
        people = PlayRepository(conn).people_with_unjoined()
        joined = 0
        for person in people:
            songs = PlayRepository(conn).distinct_tracks(person, unjoined_only=True)
            if len(songs):
                joined += len(join_songs(conn, songs, person)[0])
    return joined
