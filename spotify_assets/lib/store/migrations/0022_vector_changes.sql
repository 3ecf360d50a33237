-- One row per committed transaction that wrote `track_embeddings` (vectors and the filter
-- columns copied beside them), as `catalog_changes` (0011) is for `tracks`: a process can cache
-- facts derived from every vector of a bundle (how many lack each filter column, a person's
-- reference vectors) and check one cheap count instead of rescanning the table per query. The
-- count is transactional for the same reasons (a cache filled between a write and its commit is
-- never kept); one row per transaction never blocks another writer; rows are never deleted.
-- A cascaded delete from `tracks` runs as a statement on this table, so it counts too.
CREATE TABLE vector_changes (
    txid bigint PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION note_vector_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
        BEGIN
            INSERT INTO vector_changes (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END
    $$;

CREATE TRIGGER track_embeddings_vector_changes
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON track_embeddings
    FOR EACH STATEMENT EXECUTE FUNCTION note_vector_change();
