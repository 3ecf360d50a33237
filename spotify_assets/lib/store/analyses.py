"""The `track_analyses` table: description text + structured analysis per track."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import psycopg

from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

COLUMNS = ["track_id", "content_hash", "extractor_version", "analysis", "description"]


class AnalysisRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def content_hashes(self, track_ids: Sequence[str] | None = None) -> dict[str, str]:
        """track id → content hash, of `track_ids` when given."""
        return dict(
            self.conn.execute(
                """SELECT track_id, content_hash FROM track_analyses
                   WHERE %(ids)s::text[] IS NULL OR track_id = ANY(%(ids)s)""",
                {"ids": None if track_ids is None else list(track_ids)},
            )
        )

    def other_versions(self, extractor_version: int) -> bool:
        """Whether any analysis was made by another extractor version (then all are redone)."""
        return self.conn.execute(
            "SELECT EXISTS (SELECT FROM track_analyses WHERE extractor_version <> %s)",
            (extractor_version,),
        ).fetchone()[0]

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        return copy_upsert(
            self.conn,
            "track_analyses",
            frame[COLUMNS],
            key=["track_id"],
            compare=["content_hash"],
            of_tracks=True,
        )

    def tracks_without_description(self) -> int:
        return self.conn.execute(
            """SELECT count(*) FROM tracks t LEFT JOIN track_analyses a USING (track_id)
               WHERE a.track_id IS NULL OR btrim(a.description) = ''"""
        ).fetchone()[0]

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM track_analyses").fetchone()[0]

    def descriptions(self, limit: int = 5) -> list[tuple[str, str]]:
        return self.conn.execute(
            "SELECT track_id, description FROM track_analyses ORDER BY track_id LIMIT %s",
            (limit,),
        ).fetchall()

    def texts(self) -> pd.DataFrame:
        """track_id, content_hash, description for every analysed track."""
        rows = self.conn.execute(
            "SELECT track_id, content_hash, description FROM track_analyses ORDER BY track_id"
        ).fetchall()
        return pd.DataFrame(rows, columns=["track_id", "content_hash", "description"])
