-- One row per committed transaction that wrote `tracks`, so a process can cache facts derived
-- from the whole catalog (search's known genres) and check one cheap count instead of rescanning
-- `tracks` per query. The count is transactional: it changes exactly when a write becomes
-- visible (a sequence or a timestamp would move before the commit, and a cache filled in between
-- would keep stale data), and inserting one row per transaction never blocks another writer (an
-- UPDATE of a single counter row would serialize concurrent loads and could deadlock them).
-- Rows are never deleted: a count that went down could come back to a cached value.
CREATE TABLE catalog_changes (
    txid bigint PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION note_catalog_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
        BEGIN
            INSERT INTO catalog_changes (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
    $$;

CREATE TRIGGER tracks_catalog_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tracks
    FOR EACH STATEMENT EXECUTE FUNCTION note_catalog_change();
