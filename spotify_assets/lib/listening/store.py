"""The `plays`, `history_cursors` and `track_features` tables, and the export import.

An import parses every file first, joins against `tracks`, then writes in one transaction:
a bad file writes nothing, and a reimport adds nothing (plays are keyed by user, play key and
start time). A reimport does refresh how old plays join, so loading a catalog later pays off.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd
import psycopg

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.listening.exports import PLAY_COLUMNS, ImportReport, read_history
from spotify_assets.lib.listening.join import join_plays
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.quarantine import QuarantineRecord, QuarantineRepository

log = logging.getLogger(__name__)
QUARANTINE_STAGE = "listening_history"
PLAY_KEY = ["user_id", "play_key", "played_at"]
JOIN_COLUMNS = ["catalog_track_id", "join_method", "has_features"]
WRITE_COLUMNS = ["user_id", *PLAY_COLUMNS, *JOIN_COLUMNS]
FEATURE_COLUMNS = ["track_id", *AUDIO_FEATURES, "source"]
_HAS_FEATURES = " AND ".join(f"{c} IS NOT NULL" for c in ("danceability", "energy", "valence"))


class PlayRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        """Insert new plays; for known ones only the catalog join is refreshed."""
        rows = _write_ready(frame).drop_duplicates(PLAY_KEY)
        return copy_upsert(self.conn, "plays", rows, key=PLAY_KEY, compare=JOIN_COLUMNS, touch=None)

    def count(self, user_id: str | None = None) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM plays WHERE %(u)s::text IS NULL OR user_id = %(u)s",
            {"u": user_id},
        ).fetchone()[0]

    def catalog(self) -> pd.DataFrame:
        """The catalog as `join_plays` wants it."""
        rows = self.conn.execute(
            f"SELECT track_id, name, artists, popularity, ({_HAS_FEATURES}) FROM tracks"
        ).fetchall()
        return pd.DataFrame(
            rows, columns=["track_id", "name", "artists", "popularity", "has_features"]
        )

    def featured_ids(self, track_ids: list[str]) -> set[str]:
        """Which of `track_ids` have a `track_features` row."""
        found = self.conn.execute(
            "SELECT track_id FROM track_features WHERE track_id = ANY(%s)", (track_ids,)
        )
        return {row[0] for row in found}

    def upsert_features(self, frame: pd.DataFrame) -> UpsertCounts:
        """Audio features per track id (FEATURE_COLUMNS); a changed value is rewritten."""
        return copy_upsert(self.conn, "track_features", frame[FEATURE_COLUMNS], key=["track_id"])

    def cursor(self, user_id: str, source: str) -> str | None:
        row = self.conn.execute(
            "SELECT cursor FROM history_cursors WHERE user_id = %s AND source = %s",
            (user_id, source),
        ).fetchone()
        return row[0] if row else None

    def set_cursor(self, user_id: str, source: str, cursor: str) -> None:
        self.conn.execute(
            """INSERT INTO history_cursors (user_id, source, cursor) VALUES (%s, %s, %s)
               ON CONFLICT (user_id, source)
               DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()""",
            (user_id, source, cursor),
        )


def join_with_catalog(conn: psycopg.Connection, plays: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Plays joined against the stored catalog and stored features; the join report as a dict."""
    repo = PlayRepository(conn)
    track_ids = plays["track_id"].dropna().unique().tolist()
    joined, report = join_plays(plays, repo.catalog(), repo.featured_ids(track_ids))
    return joined, report.as_dict()


def import_history(db: Database, path: str | Path, user_id: str = "me") -> ImportReport:
    """Parse, join and store every play under `path`; all or nothing."""
    history = read_history(path)  # raises HistoryError before anything is written
    plays = history.plays.assign(user_id=user_id)
    with db.connect() as conn, conn.transaction():
        joined, join = join_with_catalog(conn, plays)
        counts = PlayRepository(conn).upsert(joined)
        quarantined = _quarantine(conn, history.rejected)
    report = dataclasses.replace(
        history.report, join=join, inserted=counts.inserted, quarantined=quarantined
    )
    log.info(
        "%s: %d plays (%d new), %d episodes, %d audiobooks, %d bad rows; join %s",
        path,
        report.plays,
        report.inserted,
        report.episodes,
        report.audiobooks,
        report.bad_rows,
        join,
    )
    return report


def _quarantine(conn: psycopg.Connection, rejected: list) -> int:
    repo, added = QuarantineRepository(conn), 0
    by_file: dict[tuple[str, str], list[QuarantineRecord]] = {}
    for row in rejected:
        record = QuarantineRecord(row.line, row.reason, None, row.raw)
        by_file.setdefault((row.source_file, row.source_sha256), []).append(record)
    for (name, sha), records in by_file.items():
        added += repo.add(QUARANTINE_STAGE, name, sha, records)
    return added


def _write_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """WRITE_COLUMNS with types COPY reads back: nullable ints and booleans, text as object."""
    rows = frame[WRITE_COLUMNS].copy()
    rows["ms_played"] = rows["ms_played"].astype("Int64")
    for column in ("shuffle", "skipped"):
        rows[column] = rows[column].astype("boolean")
    rows["has_features"] = rows["has_features"].astype(bool)
    for column in ("played_at", "ended_at"):
        rows[column] = pd.to_datetime(rows[column], utc=True)
    return rows
