"""The `tracks` table: one row per Spotify track id."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import psycopg

from spotify_assets.lib.features import AUDIO_FEATURES, MOOD_FEATURES_NEEDED
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

FEATURE_COLUMNS = list(AUDIO_FEATURES)
_HAS_FEATURES = " AND ".join(f"t.{c} IS NOT NULL" for c in MOOD_FEATURES_NEEDED)
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
        """Insert new tracks, merge into those whose row_hash changed, leave the rest alone.

        A merge is field by field: a value the file has replaces the stored one, a value it
        lacks (null, no artists) never wipes it, so a features-only file keeps the genre,
        popularity and release date another source gave. Stored hashes are read first, so an
        unchanged reload sends no rows to the server.
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
            self.conn, "tracks", changed[TRACK_COLUMNS], key=["track_id"], compare=["row_hash"],
            merge="known", empty_as_null=("artists",),
        )  # fmt: skip
        return counts + UpsertCounts(unchanged=len(frame) - len(changed))

    def add_missing(self, frame: pd.DataFrame) -> UpsertCounts:
        """Insert tracks the table lacks; for tracks it has, only fill fields it lacks.

        For what a person's library says about a song (name, artists, album): a catalog's row
        for the same id stays as it is, source included.
        """
        columns = [c for c in TRACK_COLUMNS if c in frame.columns]
        return copy_upsert(
            self.conn, "tracks", frame[columns], key=["track_id"],
            merge="missing", empty_as_null=("artists",),
        )  # fmt: skip

    def coverage(self, track_ids: Sequence[str | None], bundle_hash: str) -> tuple[int, ...]:
        """Of `track_ids` (one per item, repeats and None allowed): (items, with a track row,
        from a catalog file, with the bundle's vector, with audio features)."""
        return self.conn.execute(
            f"""SELECT count(*), count(t.track_id),
                       count(t.track_id) FILTER (WHERE t.source_format <> 'library'),
                       count(e.track_id), count(*) FILTER (WHERE {_HAS_FEATURES})
                FROM unnest(%s::text[]) AS i(track_id)
                LEFT JOIN tracks t ON t.track_id = i.track_id
                LEFT JOIN track_embeddings e
                       ON e.track_id = i.track_id AND e.bundle_hash = %s""",
            (list(track_ids), bundle_hash),
        ).fetchone()

    def sources(self, track_ids: Sequence[str]) -> dict[str, str]:
        """track id → source_format ("library" for tracks only a person's library named)."""
        return dict(
            self.conn.execute(
                "SELECT track_id, source_format FROM tracks WHERE track_id = ANY(%s)",
                (list(track_ids),),
            )
        )

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
