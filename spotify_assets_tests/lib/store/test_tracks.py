"""Moving library tracks to their Spotify ids (`TrackRepository.merge_library_ids`)."""

from __future__ import annotations

import psycopg

from spotify_assets.lib.store.tracks import TrackRepository

PEOPLE = 6
LIKED = 2_000  # per person
MERGES = 3_000


def _library(conn: psycopg.Connection) -> None:
    """Six people's liked library songs, some of them liked by several people."""
    songs = [f"lib:{i}" for i in range(2 * LIKED)] + [f"sp{i}" for i in range(MERGES)]
    conn.execute(
        """INSERT INTO tracks (track_id, name, source_format, source_file, row_hash)
           SELECT x, x, CASE WHEN x LIKE 'lib:%%' THEN 'library' ELSE 'csv' END, '-', '-'
           FROM unnest(%s::text[]) x""",
        (songs,),
    )
    for p in range(PEOPLE):
        conn.execute("INSERT INTO people (person) VALUES (%s)", (f"p{p}",))
        liked = [f"lib:{(i * 7 + p) % (2 * LIKED)}" for i in range(LIKED)]
        if p == 0:
            liked.append("sp0")  # already liked under the new id too: the old row goes
        conn.execute(
            """INSERT INTO candidates (person, list, track_id, position)
               SELECT %s, 'liked', x, n FROM unnest(%s::text[]) WITH ORDINALITY AS u(x, n)""",
            (f"p{p}", liked),
        )


def test_a_large_merge_on_a_first_imports_statistics_takes_seconds_not_minutes(database_url):
    """Statistics from before the rows (a first import, before autovacuum) once made the planner
    pair the liked songs with themselves on (person, list): this merge took over 3 minutes."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for table in ("tracks", "candidates", "people"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            conn.execute(f"ANALYZE {table}")  # statistics of the empty tables
    with psycopg.connect(database_url) as conn:
        _library(conn)
        conn.execute("SET LOCAL statement_timeout = '30s'")  # a bad plan fails, not hangs
        moved = TrackRepository(conn).merge_library_ids(
            {f"lib:{i}": f"sp{i}" for i in range(MERGES)}
        )
        assert moved == MERGES
        rows = conn.execute(
            """SELECT count(*), count(*) FILTER (WHERE track_id LIKE 'lib:%'),
                      count(DISTINCT (person, list, track_id))
               FROM candidates"""
        ).fetchone()
        # every liked song kept, under its new id; person 0's duplicate of sp0 counted once
        assert rows[0] == rows[2] == PEOPLE * LIKED
        assert rows[1] == sum(
            1 for p in range(PEOPLE) for i in range(LIKED) if (i * 7 + p) % (2 * LIKED) >= MERGES
        )
