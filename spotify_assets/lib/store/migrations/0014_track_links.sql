-- A song a person's library names is linked to a catalog track that has its name, never
-- merged into it (lib/catalog/library.py): the song keeps its own id (its Spotify URI, or a
-- `lib:` id from its identity key), and the link says which catalog track and how sure:
--   'name': the same recording (only featured-artist / remaster notes differ); the linked
--           track's measured fields fill the song's empty ones, and `filled_from` says so;
--   'song': another version of the song (a remix, a live take); a pointer, nothing copied.
-- A linked track that goes leaves the link empty (link_method without a linked track means
-- no link).
ALTER TABLE tracks ADD COLUMN linked_track_id text REFERENCES tracks (track_id) ON DELETE SET NULL;
ALTER TABLE tracks ADD COLUMN link_method text CHECK (link_method IN ('name', 'song'));
ALTER TABLE tracks ADD COLUMN filled_from text;
CREATE INDEX tracks_linked_track_idx ON tracks (linked_track_id) WHERE linked_track_id IS NOT NULL;

-- How a play key found its track: 'library' covers a library track of the person's own (a
-- Spotify id, or a `lib:` id), 'name' a catalog track of the same identity.
COMMENT ON COLUMN play_joins.join_method IS
    'id: the play''s own id is a catalog track; name: a catalog track of the same identity key; '
    'library: a library track (its own id, or lib:); none: nothing names a track';
