-- A `lib:` id that moved to a Spotify id (a song first known by name, then met with its URI:
-- TrackRepository.merge_library_ids) stays an alias of that track. A later source that names
-- the song only by name (a basic streaming history: "Odio (feat. Drake)" where the URI's
-- catalog row says "Odio") then finds the moved track instead of creating the `lib:` row
-- again, which the next import would merge again (a re-import changed nothing, yet re-added
-- and re-embedded those songs every time). Holds no person: it says two ids are one song.
CREATE TABLE track_aliases (
    alias_id    text PRIMARY KEY,
    track_id    text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX track_aliases_track_idx ON track_aliases (track_id);
