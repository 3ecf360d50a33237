"""The `tracks` table: one row per Spotify track id."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import psycopg

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

FEATURE_COLUMNS = list(AUDIO_FEATURES)
TRACK_COLUMNS = [
    "track_id",
    "name",
    "artists",
    "album_name",
    "album_id",
    "genre",
    "subgenre",
    "release_date",
    "release_year",
    "popularity",
    "duration_ms",
    "explicit",
    *FEATURE_COLUMNS,
    "time_signature",
    "source_format",
    "source_file",
    "row_hash",
]


class TrackRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        """Insert new tracks, rewrite those whose row_hash changed, leave the rest alone.

        Stored hashes are read first, so an unchanged reload sends no rows to the server.
        """
        self.conn.execute("LOCK TABLE tracks IN SHARE ROW EXCLUSIVE MODE")
        stored = dict(
            self.conn.execute(
                "SELECT track_id, row_hash FROM tracks WHERE track_id = ANY(%s)",
                (frame["track_id"].tolist(),),
            )
        )
        changed = frame[frame["track_id"].map(stored) != frame["row_hash"]]
        counts = copy_upsert(
            self.conn, "tracks", changed[TRACK_COLUMNS], key=["track_id"], compare=["row_hash"]
        )
        return counts + UpsertCounts(unchanged=len(frame) - len(changed))

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM tracks").fetchone()[0]

    def duplicate_id_count(self) -> int:
        """Ids that occur more than once once surrounding whitespace is ignored."""
        return self.conn.execute(
            """SELECT count(*) FROM (
                   SELECT btrim(track_id) FROM tracks GROUP BY 1 HAVING count(*) > 1) d"""
        ).fetchone()[0]

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        columns = columns or TRACK_COLUMNS
        with self.conn.cursor() as cur:
            cur.execute(
                psycopg.sql.SQL("SELECT {} FROM tracks ORDER BY track_id").format(
                    psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns))
                )
            )
            return pd.DataFrame(cur.fetchall(), columns=columns)

    def genres(self) -> list[str]:
        """The catalog's distinct genres (no order)."""
        return [
            r[0]
            for r in self.conn.execute("SELECT DISTINCT genre FROM tracks WHERE genre IS NOT NULL")
        ]

    def mean_and_spread(self, columns: Sequence[str]) -> tuple:
        """One row: avg and stddev_pop of each column over the whole catalog, in pairs
        (avg(c1), stddev_pop(c1), avg(c2), …); None where no track has a value."""
        parts = [
            psycopg.sql.SQL("avg({0}), stddev_pop({0})").format(psycopg.sql.Identifier(c))
            for c in columns
        ]
        return self.conn.execute(
            psycopg.sql.SQL("SELECT {} FROM tracks").format(psycopg.sql.SQL(", ").join(parts))
        ).fetchone()
