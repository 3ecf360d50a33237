-- Listening, second version: listeners with a time zone, plays joined to the catalog
-- downstream (so a catalog loaded later gives old plays their features), and one record per
-- retrain holding its clustering, the policy that serves next-mood predictions and metrics.

-- A listener is a `listener` partition in Dagster; this row holds what the person set.
CREATE TABLE listeners (
    user_id     text PRIMARY KEY,
    timezone    text,                           -- IANA zone set by the person (NULL: derive)
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO listeners (user_id) SELECT DISTINCT user_id FROM plays ON CONFLICT DO NOTHING;

-- Country of the connection (extended exports), for the listener's local time. Nothing finer:
-- the device string (`platform`, e.g. "Android OS 10 (samsung, SM-G973F)") is not kept.
ALTER TABLE plays ADD COLUMN conn_country text CHECK (conn_country ~ '^[A-Z]{2}$');
ALTER TABLE plays DROP COLUMN platform;

-- The join moves out of `plays`: it is a function of the play key and the catalog, refreshed
-- on every retrain and update by the `play_features` asset.
CREATE TABLE play_joins (
    play_key          text PRIMARY KEY,            -- track id, or 'name:' + artist|title key
    catalog_track_id  text,
    join_method       text NOT NULL CHECK (join_method IN ('id', 'name', 'none')),
    joined_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO play_joins (play_key, catalog_track_id, join_method)
SELECT DISTINCT ON (play_key) play_key, catalog_track_id, join_method FROM plays
ORDER BY play_key, ingested_at DESC
ON CONFLICT DO NOTHING;
ALTER TABLE plays DROP COLUMN catalog_track_id;
ALTER TABLE plays DROP COLUMN join_method;
ALTER TABLE plays DROP COLUMN has_features;
CREATE INDEX plays_play_key_idx ON plays (play_key);

-- track_features is keyed by the play key: a track id from the API or an export, or the
-- 'name:' key of a play whose export carried features but no id.
ALTER TABLE track_features RENAME COLUMN track_id TO track_key;

-- One row per retrain: the clustering every later prediction and the dashboard use.
CREATE TABLE listening_retrains (
    retrain_id   text PRIMARY KEY,
    user_id      text NOT NULL,
    trained_at   timestamptz NOT NULL DEFAULT now(),
    timezone     text NOT NULL,
    boundaries   jsonb NOT NULL,                 -- validation and test start times
    moods        jsonb,                          -- the clustering (NULL: too few plays with features)
    mood_policy  text NOT NULL,                  -- which next-mood predictor serves
    summary      jsonb NOT NULL                  -- plays, feature coverage, sessions, reasons
);
CREATE INDEX listening_retrains_user_idx ON listening_retrains (user_id, trained_at);

ALTER TABLE model_runs ADD COLUMN retrain_id text REFERENCES listening_retrains (retrain_id);
ALTER TABLE model_runs ALTER COLUMN artifact DROP NOT NULL;  -- a mood run served by a rule has no model file

-- Rejected history rows belong to a person: keep whose they are, so they can be deleted with
-- the rest of that person's data. Rows quarantined before this kept whole raw records (IP
-- addresses, user agents) and full local paths, with no owner: they go; a re-import of the file
-- quarantines its bad rows again, keeping only what explains them.
DELETE FROM quarantine WHERE stage = 'listening_history';
ALTER TABLE quarantine ADD COLUMN user_id text;
ALTER TABLE quarantine DROP CONSTRAINT quarantine_stage_source_sha256_line_key;
ALTER TABLE quarantine ADD CONSTRAINT quarantine_row_key
    UNIQUE NULLS NOT DISTINCT (stage, source_sha256, line, user_id);
