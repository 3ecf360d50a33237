"""Forget one person: delete what is theirs, keep what anyone else still uses.

What a person owns has their key in its `person` column with a foreign key to `people` (ON
DELETE CASCADE, migration 0013): plays, history cursors, retrains and model runs, playlists
(their members and profiles), songs to sort, cached suggestions, quarantined rows of their
files, import records. Deleting their `people` row deletes all of it in one statement.

Shared rows have no person and are kept while anyone uses them:
- catalog tracks (a catalog file's), their features, vectors and emotions, catalog playlists;
- library tracks (songs a person's library named; a catalog file has none of them): deleted
  only when no remaining person references them through a playlist, a list of songs to sort or
  a play (`play_joins` records which track each play key is, written at import);
- play joins and a play key's export features: deleted when no remaining play has the key.
A library track can be named by several people; it goes with the last of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

# Every table holding a person's rows, with how to count that person's rows in it before they
# go (the cascade deletes them). spotify_assets_tests/lib/store/test_people.py checks that each
# table with a `person` column is here and references `people`.
PERSONAL_TABLES: dict[str, str] = {
    "people": "SELECT count(*) FROM people WHERE person = %(p)s",
    "plays": "SELECT count(*) FROM plays WHERE person = %(p)s",
    "history_cursors": "SELECT count(*) FROM history_cursors WHERE person = %(p)s",
    "listening_retrains": "SELECT count(*) FROM listening_retrains WHERE person = %(p)s",
    "model_runs": "SELECT count(*) FROM model_runs WHERE person = %(p)s",
    "playlists": "SELECT count(*) FROM playlists WHERE person = %(p)s",
    "playlist_tracks": """SELECT count(*) FROM playlist_tracks m JOIN playlists p
                          USING (playlist_id) WHERE p.person = %(p)s""",
    "playlist_profiles": """SELECT count(*) FROM playlist_profiles f JOIN playlists p
                            USING (playlist_id) WHERE p.person = %(p)s""",
    "candidates": "SELECT count(*) FROM candidates WHERE person = %(p)s",
    "match_contexts": "SELECT count(*) FROM match_contexts WHERE person = %(p)s",
    "match_results": """SELECT count(*) FROM match_results r JOIN match_contexts c
                        USING (context_hash) WHERE c.person = %(p)s""",
    "quarantine": "SELECT count(*) FROM quarantine WHERE person = %(p)s",
    "import_files": "SELECT count(*) FROM import_files WHERE person = %(p)s",
    "colistening_models": "SELECT count(*) FROM colistening_models WHERE person = %(p)s",
    "colistening_vectors": "SELECT count(*) FROM colistening_vectors WHERE person = %(p)s",
    "sort_decisions": "SELECT count(*) FROM sort_decisions WHERE person = %(p)s",
}

# The tracks a person references: their playlists' members, their lists of songs to sort, the
# tracks their plays joined (and a play's own id, should a join be missing).
_REFERENCED_BY = """
    SELECT m.track_id FROM playlist_tracks m JOIN playlists p USING (playlist_id)
    WHERE p.person = %(p)s
    UNION SELECT track_id FROM candidates WHERE person = %(p)s
    UNION SELECT j.catalog_track_id FROM play_joins j
          WHERE j.play_key IN (SELECT play_key FROM plays WHERE person = %(p)s)
    UNION SELECT track_id FROM plays WHERE person = %(p)s AND track_id IS NOT NULL"""

# Library tracks nobody's playlists, lists or plays use; their descriptions, vectors and
# emotions cascade. Only run when every play's join is on record (see `unjoined_plays`).
_UNUSED_LIBRARY_TRACKS = """
    DELETE FROM tracks t
    WHERE t.source_format = 'library'
      AND NOT EXISTS (SELECT FROM playlist_tracks m WHERE m.track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM candidates c WHERE c.track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM plays p WHERE p.track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM play_joins j JOIN plays p USING (play_key)
                      WHERE j.catalog_track_id = t.track_id)"""


@dataclass
class ForgetReport:
    person: str
    deleted: dict[str, int] = field(default_factory=dict)  # rows per table
    # library tracks the person had that others still use, kept
    kept_shared_tracks: int = 0
    # library tracks not cleaned because some remaining plays had no join on record
    cleanup_skipped: int = 0

    def lines(self) -> list[str]:
        deleted = ", ".join(f"{table} {n:,}" for table, n in self.deleted.items() if n)
        out = [f"deleted: {deleted or 'nothing'}"]
        out.append(
            f"kept: {self.kept_shared_tracks:,} of their songs that other people also have "
            "(and every catalog track)"
        )
        if self.cleanup_skipped:
            out.append(
                f"not cleaned: {self.cleanup_skipped:,} plays of others have no join on record; "
                "unused library songs stay until the next forget"
            )
        return out


def unjoined_plays(conn: psycopg.Connection, except_person: str | None = None) -> int:
    """Plays (of anyone but `except_person`) whose play key has no join on record."""
    return conn.execute(
        """SELECT count(*) FROM plays p
           WHERE p.person IS DISTINCT FROM %s
             AND NOT EXISTS (SELECT FROM play_joins j WHERE j.play_key = p.play_key)""",
        (except_person,),
    ).fetchone()[0]


def forget(conn: psycopg.Connection, person: str) -> ForgetReport:
    """Delete everything of `person` in one transaction, then the shared rows nobody uses."""
    report = ForgetReport(person)
    with conn.transaction():
        params = {"p": person}
        report.deleted = {t: conn.execute(q, params).fetchone()[0] for t, q in PERSONAL_TABLES.items()}
        theirs = {r[0] for r in conn.execute(_REFERENCED_BY, params) if r[0]}
        conn.execute("DELETE FROM people WHERE person = %(p)s", params)
        report.deleted["play_joins"] = conn.execute(
            """DELETE FROM play_joins j
               WHERE NOT EXISTS (SELECT FROM plays p WHERE p.play_key = j.play_key)"""
        ).rowcount
        report.deleted["track_features"] = conn.execute(
            """DELETE FROM track_features f WHERE f.track_key LIKE 'name:%'
               AND NOT EXISTS (SELECT FROM plays p WHERE p.play_key = f.track_key)"""
        ).rowcount
        missing = unjoined_plays(conn)
        if missing:
            report.cleanup_skipped = missing
            report.deleted["library_tracks"] = 0
        else:
            report.deleted["library_tracks"] = conn.execute(_UNUSED_LIBRARY_TRACKS).rowcount
        report.kept_shared_tracks = conn.execute(
            """SELECT count(*) FROM tracks
               WHERE source_format = 'library' AND track_id = ANY(%s)""",
            (list(theirs),),
        ).fetchone()[0]
    return report
