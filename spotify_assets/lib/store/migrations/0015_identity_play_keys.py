"""Re-key plays known by name with `identity_key` (versions kept, symbol-only names kept).

Plays without a track id were keyed 'name:' + the lossy song key, so two versions of a song
played in one minute shared a key and one of them was dropped; a re-import with the new keys
would add every such play a second time. This re-keys the stored ones from their stored
artist and title (a play whose new key and start already exist is a duplicate and goes), moves
export features (`track_features`) to every new key of an old one, and drops the name-keyed
play joins, which the next import or `play_features` run recomputes.
"""

from __future__ import annotations

import psycopg


def migrate(conn: psycopg.Connection) -> None:
    from spotify_assets.lib.names import identity_key

    rows = conn.execute(
        """SELECT DISTINCT play_key, artist_name, track_name FROM plays
           WHERE play_key LIKE 'name:%'"""
    ).fetchall()
    mapping = [
        (old, artist, title, "name:" + key)
        for old, artist, title in rows
        if (key := identity_key(artist, title)) and "name:" + key != old
    ]
    conn.execute(
        """CREATE TEMP TABLE play_rekey (old text, artist text, title text, new text)
           ON COMMIT DROP"""
    )
    with conn.cursor().copy("COPY play_rekey (old, artist, title, new) FROM STDIN") as copy:
        for row in mapping:
            copy.write_row(row)
    conn.execute(
        """UPDATE plays p SET play_key = m.new FROM play_rekey m
           WHERE p.play_key = m.old AND p.artist_name IS NOT DISTINCT FROM m.artist
             AND p.track_name IS NOT DISTINCT FROM m.title
             AND NOT EXISTS (SELECT FROM plays q WHERE q.person = p.person
                             AND q.play_key = m.new AND q.played_at = p.played_at)"""
    )
    conn.execute(  # the same play under two old keys: one copy is kept above
        """DELETE FROM plays p USING play_rekey m
           WHERE p.play_key = m.old AND p.artist_name IS NOT DISTINCT FROM m.artist
             AND p.track_name IS NOT DISTINCT FROM m.title"""
    )
    conn.execute(
        """INSERT INTO track_features
           SELECT DISTINCT ON (m.new) m.new, f.danceability, f.energy, f.key, f.loudness, f.mode,
                  f.speechiness, f.acousticness, f.instrumentalness, f.liveness, f.valence,
                  f.tempo, f.source, f.updated_at
           FROM track_features f JOIN play_rekey m ON m.old = f.track_key
           ORDER BY m.new
           ON CONFLICT (track_key) DO NOTHING"""
    )
    conn.execute(
        """DELETE FROM track_features f WHERE f.track_key LIKE 'name:%'
           AND NOT EXISTS (SELECT FROM plays p WHERE p.play_key = f.track_key)"""
    )
    conn.execute("DELETE FROM play_joins WHERE play_key LIKE 'name:%'")
