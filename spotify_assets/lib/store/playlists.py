"""The `playlists` and `playlist_tracks` tables (ordered memberships)."""

from __future__ import annotations

import pandas as pd
import psycopg

from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

PLAYLIST_COLUMNS = ["playlist_id", "name", "genre", "subgenre", "source"]
MEMBERSHIP_COLUMNS = ["playlist_id", "track_id", "position"]


class PlaylistRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert_playlists(self, playlists: pd.DataFrame) -> UpsertCounts:
        return copy_upsert(self.conn, "playlists", playlists[PLAYLIST_COLUMNS], key=["playlist_id"])

    def upsert_memberships(self, memberships: pd.DataFrame) -> UpsertCounts:
        """Memberships of playlists that already exist; a changed position is rewritten."""
        return copy_upsert(
            self.conn,
            "playlist_tracks",
            memberships[MEMBERSHIP_COLUMNS],
            key=["playlist_id", "track_id"],
            touch=None,
        )

    def counts(self) -> tuple[int, int]:
        return self.conn.execute(
            "SELECT (SELECT count(*) FROM playlists), (SELECT count(*) FROM playlist_tracks)"
        ).fetchone()
