"""Reads for searching relative to a person's library (lib/search/taste.py): the songs of a
reference set (liked, most played, one playlist), whether the person is known at all, and the
audio features that profile them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg import sql


class TasteRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def library_version(self) -> tuple[int, int]:
        """(committed transactions that wrote a person's library: playlists, lists, plays,
        play joins; the last one's id), from migration 0023: equal means unchanged libraries."""
        count, last = self.conn.execute(
            "SELECT count(*), coalesce(max(txid), 0) FROM library_changes"
        ).fetchone()
        return count, last

    def known_person(self, person: str) -> bool:
        """Whether anything of `person` is stored: liked songs, playlists or plays."""
        return self.conn.execute(
            """SELECT EXISTS (SELECT FROM candidates WHERE person = %(u)s)
                   OR EXISTS (SELECT FROM playlists WHERE person = %(u)s)
                   OR EXISTS (SELECT FROM plays WHERE person = %(u)s)""",
            {"u": person},
        ).fetchone()[0]

    def liked(self, person: str) -> list[str]:
        """The person's liked songs (the `liked` candidates list), in library order."""
        rows = self.conn.execute(
            "SELECT track_id FROM candidates WHERE person = %s AND list = 'liked' ORDER BY position",
            (person,),
        )
        return [r[0] for r in rows]

    def most_played(self, person: str, limit: int = 200, before: datetime | None = None) -> list[str]:
        """The tracks the person's plays (through their joins) are of, most played first; plays
        under 30 s are skips and do not count. `before`: only plays that started earlier."""
        return [
            r[0]
            for r in self.conn.execute(
                """SELECT j.catalog_track_id FROM plays p
                   JOIN play_joins j USING (play_key)
                   WHERE p.person = %s AND j.catalog_track_id IS NOT NULL
                     AND coalesce(p.ms_played, 30000) >= 30000
                     AND (%s::timestamptz IS NULL OR p.played_at < %s::timestamptz)
                   GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s""",
                (person, before, before, limit),
            )
        ]

    def plays_without_joins(self, person: str) -> int:
        """Distinct play keys of the person that no join covers yet (never refreshed)."""
        return self.conn.execute(
            """SELECT count(DISTINCT p.play_key) FROM plays p
               LEFT JOIN play_joins j USING (play_key)
               WHERE p.person = %s AND j.play_key IS NULL""",
            (person,),
        ).fetchone()[0]

    def playlists(self, person: str) -> list[tuple[str, str]]:
        """(playlist_id, name) of the person's own playlists, by name."""
        return self.conn.execute(
            "SELECT playlist_id, name FROM playlists WHERE person = %s ORDER BY name, playlist_id",
            (person,),
        ).fetchall()

    def playlist_members(self, playlist_id: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT track_id FROM playlist_tracks WHERE playlist_id = %s ORDER BY position",
            (playlist_id,),
        )
        return [r[0] for r in rows]

    def features(self, track_ids: Sequence[str], columns: Sequence[str]) -> dict[str, tuple]:
        """track_id → values of `columns` (None where unknown) from `tracks`."""
        statement = sql.SQL("SELECT track_id, {} FROM tracks WHERE track_id = ANY(%s)").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        return {r[0]: r[1:] for r in self.conn.execute(statement, (list(track_ids),))}
