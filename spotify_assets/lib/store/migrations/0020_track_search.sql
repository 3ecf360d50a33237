-- Search by name: the words of each track's title, artists and album, folded as the query's
-- words are (lib/search/lexical.py: case, accents, punctuation; a part with no letters keeps
-- its text, "¥$"), for a lexical leg fused with the vector search. Core Postgres only (GIN
-- over text[]): the embedded server has no pg_trgm. Shared catalog data: holds no person.
CREATE TABLE track_search (
    track_id      text PRIMARY KEY REFERENCES tracks (track_id) ON DELETE CASCADE,
    name_words    text[] NOT NULL,
    artist_words  text[] NOT NULL,
    album_words   text[] NOT NULL,
    all_words     text[] NOT NULL,
    source_md5    text NOT NULL  -- of the name fields it was built from: stale when they change
);
CREATE INDEX track_search_words_idx ON track_search USING gin (all_words);
CREATE INDEX track_search_artist_idx ON track_search USING gin (artist_words);

-- Every word of the index once: a misspelt query word is corrected to the known words one
-- edit away. Words of tracks since deleted may stay; they then match nothing.
CREATE TABLE search_words (
    word  text PRIMARY KEY
);
