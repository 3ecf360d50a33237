-- Structured analysis + description text per track, keyed by the content hash that produced it.
CREATE TABLE track_analyses (
    track_id           text PRIMARY KEY REFERENCES tracks (track_id) ON DELETE CASCADE,
    content_hash       text NOT NULL,
    extractor_version  integer NOT NULL,
    analysis           jsonb NOT NULL,
    description        text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX track_analyses_content_hash_idx ON track_analyses (content_hash);
