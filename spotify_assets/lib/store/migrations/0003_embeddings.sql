-- Model bundles and per-bundle track embeddings. The vector column is untyped so bundles of
-- different dims share the table; each bundle gets its own partial HNSW expression index
-- (created by the search_index asset), and queries cast the same way so the index is used.
CREATE TABLE model_bundles (
    bundle_hash  text PRIMARY KEY CHECK (bundle_hash ~ '^[0-9a-f]{16}$'),
    name         text NOT NULL,
    spec         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE track_embeddings (
    track_id      text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    bundle_hash   text NOT NULL REFERENCES model_bundles (bundle_hash),
    content_hash  text NOT NULL,
    model         text NOT NULL,
    revision      text,
    dims          integer NOT NULL,
    embedding     vector NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bundle_hash, track_id),
    CHECK (vector_dims(embedding) = dims)
);

-- Metrics of offline evaluations, one row per (bundle, suite, metric); reruns overwrite.
CREATE TABLE evaluations (
    bundle_hash  text NOT NULL,
    suite        text NOT NULL,
    metric       text NOT NULL,
    value        double precision,
    details      jsonb NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bundle_hash, suite, metric)
);
