"""The `playlists` and `playlist_tracks` tables (ordered memberships).

A playlist is a person's (`person` set: from their export, the Web API or the sample) or a
catalog's own (`person` NULL: TidyTuesday's playlists came with its file). Where a method takes
`person`, None means the catalog's playlists."""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

PLAYLIST_COLUMNS = [
    "playlist_id", "name", "genre", "subgenre", "source", "description", "person", "snapshot",
    "source_id",
]  # fmt: skip
MEMBERSHIP_COLUMNS = ["playlist_id", "track_id", "position"]


def owned_by(person: str | None) -> tuple[sql.Composable, tuple]:
    """(predicate on `playlists p`, its arguments): the playlists of `person`, or (None) the
    catalog's own. `p.person = %s` or `IS NULL`, never `IS NOT DISTINCT FROM`: no index
    answers that, and one person's members were found by hashing every playlist's (222 ms
    for 10K members among 1.75M)."""
    if person is None:
        return sql.SQL("p.person IS NULL"), ()
    return sql.SQL("p.person = %s"), (person,)


class PlaylistRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert_playlists(self, playlists: pd.DataFrame) -> UpsertCounts:
        columns = [c for c in PLAYLIST_COLUMNS if c in playlists.columns]
        return copy_upsert(self.conn, "playlists", playlists[columns], key=["playlist_id"])

    def replace(
        self, playlists: pd.DataFrame, memberships: pd.DataFrame
    ) -> tuple[UpsertCounts, int, int, int]:
        """Store `playlists` (one person's, from one source) with exactly these memberships:
        a song removed from a playlist leaves it, and a playlist of that person and source the
        load no longer has goes. Returns (playlist counts, memberships written, memberships
        removed, playlists removed)."""
        counts = self.upsert_playlists(playlists)
        gone = 0
        for (person, source), group in playlists.groupby(["person", "source"], dropna=False):
            gone += self.conn.execute(
                """DELETE FROM playlists WHERE person = %s AND source = %s
                   AND NOT (playlist_id = ANY(%s))""",
                (person, source, group["playlist_id"].tolist()),
            ).rowcount
        removed = self.conn.execute(
            """DELETE FROM playlist_tracks m
               WHERE m.playlist_id = ANY(%s) AND NOT EXISTS (
                   SELECT 1 FROM unnest(%s::text[], %s::text[]) AS k(playlist_id, track_id)
                   WHERE k.playlist_id = m.playlist_id AND k.track_id = m.track_id)""",
            (
                playlists["playlist_id"].tolist(),
                memberships["playlist_id"].tolist(),
                memberships["track_id"].tolist(),
            ),
        ).rowcount
        written = self.upsert_memberships(memberships).written if len(memberships) else 0
        return counts, written, removed, gone

    def known_tracks(self, track_ids: list[str]) -> set[str]:
        rows = self.conn.execute(
            "SELECT track_id FROM tracks WHERE track_id = ANY(%s)", (list(set(track_ids)),)
        )
        return {r[0] for r in rows}

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

    def person_counts(self, person: str | None) -> tuple[int, int]:
        """(playlists, memberships) of one person (None: of the catalog's playlists)."""
        whose, args = owned_by(person)
        return self.conn.execute(
            sql.SQL(
                """SELECT count(DISTINCT p.playlist_id), count(m.track_id) FROM playlists p
                   LEFT JOIN playlist_tracks m USING (playlist_id) WHERE {}"""
            ).format(whose),
            args,
        ).fetchone()

    def owners(self, playlist_ids: list[str]) -> dict[str, str | None]:
        """playlist id → its person (None: a catalog's), for the ids that are stored."""
        rows = self.conn.execute(
            "SELECT playlist_id, person FROM playlists WHERE playlist_id = ANY(%s)",
            (list(playlist_ids),),
        )
        return dict(rows.fetchall())

    def names_and_sources(self, person: str) -> dict[str, tuple[str, str]]:
        """playlist id → (name, source: spotify | export | sample) of the person's playlists."""
        rows = self.conn.execute(
            "SELECT playlist_id, name, source FROM playlists WHERE person = %s", (person,)
        )
        return {pid: (name, source) for pid, name, source in rows}

    def frames(self, person: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(playlists: playlist_id, name, description ('' when none), subgenre, ordered by name
        and id; memberships: playlist_id, track_id, position) of `person`, or (None) of the
        catalog's own playlists."""
        whose, args = owned_by(person)
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL(
                    """SELECT playlist_id, name, coalesce(description, '') AS description,
                              subgenre
                       FROM playlists p WHERE {} ORDER BY name, playlist_id"""
                ).format(whose),
                args,
            )
            playlists = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
            cur.execute(
                sql.SQL(
                    """SELECT m.playlist_id, m.track_id, m.position FROM playlist_tracks m
                       JOIN playlists p USING (playlist_id) WHERE {}"""
                ).format(whose),
                args,
            )
            memberships = pd.DataFrame(
                cur.fetchall(), columns=["playlist_id", "track_id", "position"]
            )
        return playlists, memberships
