"""Name keys and change marks on `tracks`, so an import does work in proportion to what it
brings instead of to the whole table.

- `identity_key`, `recording_key`, `song_key`, `artist_key` (lib/names.py `name_keys`): a
  library item is resolved against the stored tracks of its own keys (`= ANY`, B-tree
  indexes), not by keying every stored track per import.
- `keys_stale`: the keys need computing (a new row, or its name or artists changed).
- `derived_stale`: what is derived per track (its description, its artist's profile, its
  search words) needs looking at: a new row, or any of its own fields changed.
- `profile_artist_key`: the artist a catalog row was last counted for in `artist_profiles`,
  so a row that changes artist refreshes the profile it left too.

A row trigger sets the marks; the derived columns and the marks themselves never set them.
The keys of the rows stored before are computed here; every row starts with `derived_stale`,
so the first `update_track_analyses` after this migration looks at every track once.
"""

from __future__ import annotations

import psycopg

DERIVED = [
    "identity_key", "recording_key", "song_key", "artist_key", "keys_stale", "derived_stale",
    "profile_artist_key", "genres", "updated_at",
]  # fmt: skip


def migrate(conn: psycopg.Connection) -> None:
    from spotify_assets.lib.store.tracks import TrackRepository

    conn.execute(
        """ALTER TABLE tracks
               ADD COLUMN identity_key text, ADD COLUMN recording_key text,
               ADD COLUMN song_key text, ADD COLUMN artist_key text,
               ADD COLUMN keys_stale boolean NOT NULL DEFAULT true,
               ADD COLUMN derived_stale boolean NOT NULL DEFAULT true,
               ADD COLUMN profile_artist_key text"""
    )
    for column in ("identity_key", "recording_key", "song_key", "artist_key"):
        conn.execute(f"CREATE INDEX tracks_{column}_idx ON tracks ({column})")
    conn.execute("CREATE INDEX tracks_keys_stale_idx ON tracks (track_id) WHERE keys_stale")
    conn.execute("CREATE INDEX tracks_derived_stale_idx ON tracks (track_id) WHERE derived_stale")
    derived = ", ".join(f"'{c}'" for c in DERIVED)
    conn.execute(
        f"""CREATE FUNCTION note_track_edit() RETURNS trigger
                LANGUAGE plpgsql
                AS $$
                    BEGIN
                        IF (NEW.name, NEW.artists) IS DISTINCT FROM (OLD.name, OLD.artists) THEN
                            NEW.keys_stale := true;
                        END IF;
                        IF to_jsonb(NEW) - ARRAY[{derived}]
                           IS DISTINCT FROM to_jsonb(OLD) - ARRAY[{derived}] THEN
                            NEW.derived_stale := true;
                        END IF;
                        RETURN NEW;
                    END
                $$"""
    )
    conn.execute(
        """CREATE TRIGGER tracks_note_edit BEFORE UPDATE ON tracks
               FOR EACH ROW EXECUTE FUNCTION note_track_edit()"""
    )
    TrackRepository(conn).fill_name_keys()
