-- Catalog: tracks, their playlists, and rows rejected at load time.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tracks (
    track_id          text PRIMARY KEY,
    name              text NOT NULL,
    artists           text[] NOT NULL DEFAULT '{}',
    album_name        text,
    album_id          text,
    genre             text,
    subgenre          text,
    release_date      text,
    release_year      integer,
    popularity        integer,
    duration_ms       integer,
    explicit          boolean,
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
    time_signature    smallint,
    source_format     text NOT NULL,
    source_file       text NOT NULL,
    -- hash of the normalized catalog fields: a reload skips rows whose hash is unchanged
    row_hash          text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tracks_genre_idx ON tracks (genre);

CREATE TABLE playlists (
    playlist_id  text PRIMARY KEY,
    name         text NOT NULL,
    genre        text,
    subgenre     text,
    source       text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE playlist_tracks (
    playlist_id  text NOT NULL REFERENCES playlists (playlist_id) ON DELETE CASCADE,
    track_id     text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    position     integer NOT NULL,
    PRIMARY KEY (playlist_id, track_id)
);
CREATE INDEX playlist_tracks_track_idx ON playlist_tracks (track_id);

-- One row per rejected input record; (source_sha256, line) makes reloading a file idempotent.
CREATE TABLE quarantine (
    id             bigserial PRIMARY KEY,
    stage          text NOT NULL,
    source_file    text NOT NULL,
    source_sha256  text NOT NULL,
    line           integer NOT NULL,
    record_id      text,
    reason         text NOT NULL,
    raw            jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stage, source_sha256, line)
);
