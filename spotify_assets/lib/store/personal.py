"""One person's data, everywhere the app keeps it, for `spotify-assets forget`.

Plays, settings, history cursors, quarantined rows, retrains and model runs are keyed by the
person; playlists, candidate lists and match results by their person. Shared, non-personal
facts stay: catalog tracks and their features, catalog playlists, and which catalog track a
play key joins to (a play key that no remaining play uses is dropped with them). Library tracks
(songs only a person's library named) go with the last person whose playlists, candidates or
plays refer to them: together they would tell what that person has.
"""

from __future__ import annotations

import psycopg

PERSONAL_PLAYLIST_SOURCES = ("export", "spotify", "sample")  # not a catalog's own playlists

# (table, WHERE clause on %(person)s), in an order that respects foreign keys
_DELETES = (
    ("model_runs", "person = %(person)s"),
    ("listening_retrains", "person = %(person)s"),
    ("plays", "person = %(person)s"),
    ("history_cursors", "person = %(person)s"),
    ("people", "person = %(person)s"),
    ("quarantine", "person = %(person)s"),
    ("match_contexts", "person = %(person)s"),  # match_results cascade
    ("candidates", "person = %(person)s"),
    ("playlists", "person = %(person)s AND source = ANY(%(sources)s)"),  # members, profiles cascade
)


def forget(conn: psycopg.Connection, person: str) -> dict[str, int]:
    """Delete everything of `person` in one transaction; rows deleted per table."""
    params = {"person": person, "sources": list(PERSONAL_PLAYLIST_SOURCES)}
    counts = {}
    with conn.transaction():
        for table, where in _DELETES:
            counts[table] = conn.execute(f"DELETE FROM {table} WHERE {where}", params).rowcount
        counts["play_joins"] = conn.execute(
            "DELETE FROM play_joins j WHERE NOT EXISTS (SELECT FROM plays p WHERE p.play_key = j.play_key)"
        ).rowcount
        counts["library_tracks"] = conn.execute(_UNUSED_LIBRARY_TRACKS).rowcount
    return counts


# Library tracks nobody's playlists, candidate lists or plays (through their joins) use any
# more; their analyses, embeddings and emotions cascade.
_UNUSED_LIBRARY_TRACKS = """
    DELETE FROM tracks t
    WHERE t.source_format = 'library'
      AND NOT EXISTS (SELECT FROM playlist_tracks m WHERE m.track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM candidates c WHERE c.track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM play_joins j WHERE j.catalog_track_id = t.track_id)
      AND NOT EXISTS (SELECT FROM plays p WHERE p.track_id = t.track_id)"""
