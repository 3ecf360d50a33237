-- A person's co-listening vectors (lib/colistening): one vector per song they have, learned
-- from what they put and play together. Theirs alone: they go with the person. One current
-- model per person; `model_hash` covers the data, the method and the version, so unchanged
-- data is not learned again.
CREATE TABLE colistening_models (
    person      text PRIMARY KEY REFERENCES people (person) ON DELETE CASCADE,
    model_hash  text NOT NULL,
    method      text NOT NULL,
    dims        integer NOT NULL,
    report      jsonb NOT NULL,
    trained_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE colistening_vectors (
    person    text NOT NULL REFERENCES people (person) ON DELETE CASCADE,
    track_id  text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    vector    vector NOT NULL,
    PRIMARY KEY (person, track_id)
);
