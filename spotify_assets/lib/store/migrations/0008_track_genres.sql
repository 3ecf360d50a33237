-- Multi-valued genres. A track may have several genres (an API dump's artist genres, or a
-- cell like "rap;pop rap"); the loader joins them with ';' in `genre`, so a single-genre
-- catalog reads as before. `tracks.genres` is that text as a list, computed by Postgres (also
-- for rows loaded before this migration, and for any writer of `genre`), and a genre filter
-- matches a track when any of its genres equals the value, case-insensitively.
-- Both functions use built-ins only: index and generated-column expressions may run under a
-- restricted search_path.

-- The genres of a ';'-joined text: trimmed, blanks dropped, a repeat kept once, in order.
CREATE FUNCTION split_genres(text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(array_agg(g ORDER BY first), '{}') FROM (
            SELECT btrim(part) AS g, min(n) AS first
            FROM unnest(string_to_array($1, ';')) WITH ORDINALITY AS u(part, n)
            WHERE btrim(part) <> '' GROUP BY btrim(part)) parts
    $$;

-- The same genres lower-cased (no order): what a genre filter compares.
CREATE FUNCTION genre_keys(text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(array_agg(DISTINCT lower(btrim(part))), '{}')
        FROM unnest(string_to_array($1, ';')) AS part WHERE btrim(part) <> ''
    $$;

ALTER TABLE tracks ADD COLUMN genres text[] GENERATED ALWAYS AS (split_genres(genre)) STORED;

-- Filtered search reads `track_embeddings.genre` (copied from tracks): `genre_keys(e.genre)
-- @> ARRAY[lower(value)]` uses this index instead of comparing the joined text.
CREATE INDEX track_embeddings_genre_keys_idx ON track_embeddings USING gin (genre_keys(genre));
DROP INDEX track_embeddings_genre_idx;
