-- Listening history: plays from privacy exports and the Web API, the API polling cursor, and
-- audio features fetched for tracks the catalog lacks (ReccoBeats).

-- One row per play. No FK to tracks: most plays are of songs outside the catalog.
-- play_key = track_id when known, else 'name:' + normalized "artist|title"; with the start
-- time it identifies a play, so reimporting an export adds nothing.
CREATE TABLE plays (
    user_id           text NOT NULL,
    play_key          text NOT NULL,
    played_at         timestamptz NOT NULL,          -- start of playback
    ended_at          timestamptz NOT NULL,
    ms_played         integer CHECK (ms_played >= 0),  -- NULL: unknown (API plays)
    track_id          text,
    artist_name       text,
    track_name        text,
    album_name        text,
    source            text NOT NULL
                      CHECK (source IN ('basic_export', 'extended_export', 'csv', 'api')),
    platform          text,
    reason_start      text,
    reason_end        text,
    shuffle           boolean,
    skipped           boolean,
    has_features      boolean NOT NULL,
    catalog_track_id  text,                          -- matched by id or normalized name
    join_method       text NOT NULL CHECK (join_method IN ('id', 'name', 'none')),
    ingested_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, play_key, played_at)
);
CREATE INDEX plays_user_played_idx ON plays (user_id, played_at);
CREATE INDEX plays_catalog_track_idx ON plays (catalog_track_id);

-- Where each user's incremental source (the API's recently-played) left off.
CREATE TABLE history_cursors (
    user_id     text NOT NULL,
    source      text NOT NULL,
    cursor      text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, source)
);

-- Audio features of played tracks, from a features service, kept apart from the catalog.
CREATE TABLE track_features (
    track_id          text PRIMARY KEY,
    danceability      double precision,
    energy            double precision,
    key               smallint,
    loudness          double precision,
    mode              smallint,
    speechiness       double precision,
    acousticness      double precision,
    instrumentalness  double precision,
    liveness          double precision,
    valence           double precision,
    tempo             double precision,
    source            text NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
