-- People: one row per person, and every personal row references it.
--
-- Before this migration a person had five names (plays.user_id, playlists.owner, candidates.owner,
-- match_contexts.owner, listeners.user_id, ...) and no table of their own, so `forget` had to
-- list every personal table by hand. Now `people` is the registry: each personal table has a
-- `person` column with a foreign key, ON DELETE CASCADE, so deleting the person's row deletes
-- what is theirs alone. Shared data (tracks, vectors, features, catalog playlists, play joins)
-- has no person and is cleaned separately (lib/store/personal.py).

CREATE TABLE people (
    person           text PRIMARY KEY,
    display_name     text,
    timezone         text,                      -- IANA zone (NULL: derive from plays)
    -- where `timezone` came from: 'person' (--timezone), 'country' (the plays' main country),
    -- 'default' ($SPOTIFY_ASSETS_TIMEZONE or UTC); NULL until known
    timezone_source  text CHECK (timezone_source IN ('person', 'country', 'default')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Everyone the old tables name becomes a person (catalog playlists name nobody).
INSERT INTO people (person, timezone, timezone_source, created_at, updated_at)
SELECT user_id, timezone, CASE WHEN timezone IS NULL THEN NULL ELSE 'person' END,
       created_at, updated_at
FROM listeners;
INSERT INTO people (person)
SELECT user_id FROM plays
UNION SELECT owner FROM playlists WHERE source IN ('export', 'spotify', 'sample')
UNION SELECT owner FROM candidates
UNION SELECT owner FROM match_contexts
UNION SELECT user_id FROM history_cursors
UNION SELECT user_id FROM listening_retrains
UNION SELECT user_id FROM model_runs
UNION SELECT user_id FROM quarantine WHERE user_id IS NOT NULL
ON CONFLICT DO NOTHING;
DROP TABLE listeners;

-- Listening.
ALTER TABLE plays RENAME COLUMN user_id TO person;
ALTER TABLE plays ADD CONSTRAINT plays_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;
ALTER INDEX plays_user_played_idx RENAME TO plays_person_played_idx;

ALTER TABLE history_cursors RENAME COLUMN user_id TO person;
ALTER TABLE history_cursors ADD CONSTRAINT history_cursors_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;

ALTER TABLE listening_retrains RENAME COLUMN user_id TO person;
ALTER TABLE listening_retrains ADD CONSTRAINT listening_retrains_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;
ALTER INDEX listening_retrains_user_idx RENAME TO listening_retrains_person_idx;

ALTER TABLE model_runs RENAME COLUMN user_id TO person;
ALTER TABLE model_runs ADD CONSTRAINT model_runs_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;
ALTER TABLE model_runs DROP CONSTRAINT model_runs_retrain_id_fkey;
ALTER TABLE model_runs ADD CONSTRAINT model_runs_retrain_id_fkey
    FOREIGN KEY (retrain_id) REFERENCES listening_retrains (retrain_id) ON DELETE CASCADE;
ALTER INDEX model_runs_user_model_idx RENAME TO model_runs_person_model_idx;

-- Rows a loader rejected: a person's when they came from their files (NULL: a catalog's).
ALTER TABLE quarantine RENAME COLUMN user_id TO person;
ALTER TABLE quarantine ADD CONSTRAINT quarantine_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;

-- Playlists: a person's (export, spotify, sample), or the catalog's (no person). A personal
-- playlist's id is scoped to its person, so two people who load the same source (the sample,
-- a followed Spotify playlist) get two playlists; `source_id` keeps the id in its source (the
-- Spotify playlist id an "apply" writes to).
ALTER TABLE playlists RENAME COLUMN owner TO person;
ALTER TABLE playlists ALTER COLUMN person DROP NOT NULL;
ALTER TABLE playlists ALTER COLUMN person DROP DEFAULT;
ALTER TABLE playlists ADD COLUMN source_id text;
UPDATE playlists SET person = NULL WHERE source NOT IN ('export', 'spotify', 'sample');
UPDATE playlists SET source_id = playlist_id WHERE source IN ('spotify', 'sample');
ALTER TABLE playlists ADD CONSTRAINT playlists_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;
ALTER TABLE playlists ADD CONSTRAINT playlists_personal_have_a_person
    CHECK ((person IS NULL) = (source NOT IN ('export', 'spotify', 'sample')));
ALTER INDEX playlists_owner_idx RENAME TO playlists_person_idx;

-- Re-key personal sample / Spotify playlists (person + source id); their members and profiles
-- follow, their cached suggestions are recomputed on the next run.
ALTER TABLE playlist_tracks DROP CONSTRAINT playlist_tracks_playlist_id_fkey;
ALTER TABLE playlist_tracks ADD CONSTRAINT playlist_tracks_playlist_id_fkey
    FOREIGN KEY (playlist_id) REFERENCES playlists (playlist_id)
    ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE playlist_profiles DROP CONSTRAINT playlist_profiles_playlist_id_fkey;
ALTER TABLE playlist_profiles ADD CONSTRAINT playlist_profiles_playlist_id_fkey
    FOREIGN KEY (playlist_id) REFERENCES playlists (playlist_id)
    ON DELETE CASCADE ON UPDATE CASCADE;
DELETE FROM match_contexts c WHERE EXISTS (
    SELECT FROM match_results r JOIN playlists p USING (playlist_id)
    WHERE r.context_hash = c.context_hash AND p.source IN ('spotify', 'sample'));
UPDATE playlists
SET playlist_id = source || ':' || substr(md5(person || '/' || source_id), 1, 16)
WHERE source IN ('spotify', 'sample');

-- Songs to sort and cached suggestions.
ALTER TABLE candidates RENAME COLUMN owner TO person;
ALTER TABLE candidates ADD CONSTRAINT candidates_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;

ALTER TABLE match_contexts RENAME COLUMN owner TO person;
ALTER TABLE match_contexts ADD CONSTRAINT match_contexts_person_fk
    FOREIGN KEY (person) REFERENCES people (person) ON DELETE CASCADE;
ALTER INDEX match_contexts_owner_idx RENAME TO match_contexts_person_idx;
