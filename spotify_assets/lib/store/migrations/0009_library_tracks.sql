-- Songs a person's library names that no catalog file has are tracks too
-- (source_format = 'library', lib/catalog/library.py); a play of one joins it.
ALTER TABLE play_joins DROP CONSTRAINT IF EXISTS play_joins_join_method_check;
ALTER TABLE play_joins ADD CONSTRAINT play_joins_join_method_check
    CHECK (join_method IN ('id', 'name', 'library', 'none'));
CREATE INDEX IF NOT EXISTS tracks_source_format_idx ON tracks (source_format);
