-- One row per committed transaction that wrote a person's library: playlists and their members,
-- lists of songs (liked, ...), plays and which track each play is (`play_joins`), as
-- `catalog_changes` (0011) and `vector_changes` (0022) are for tracks and vectors. What is
-- derived from a library per query (a person's most played songs from every play, the coverage
-- their page shows) is cached per process and recomputed only when this count changes.
-- Deleting a person cascades into these tables as statements, so it counts too.
CREATE TABLE library_changes (
    txid bigint PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION note_library_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
        BEGIN
            INSERT INTO library_changes (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
    $$;

CREATE TRIGGER playlists_library_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON playlists
    FOR EACH STATEMENT EXECUTE FUNCTION note_library_change();
CREATE TRIGGER playlist_tracks_library_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON playlist_tracks
    FOR EACH STATEMENT EXECUTE FUNCTION note_library_change();
CREATE TRIGGER candidates_library_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON candidates
    FOR EACH STATEMENT EXECUTE FUNCTION note_library_change();
CREATE TRIGGER plays_library_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plays
    FOR EACH STATEMENT EXECUTE FUNCTION note_library_change();
CREATE TRIGGER play_joins_library_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON play_joins
    FOR EACH STATEMENT EXECUTE FUNCTION note_library_change();
