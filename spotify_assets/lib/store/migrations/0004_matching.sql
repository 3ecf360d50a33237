-- Playlists of a person, the songs to sort, emotions, playlist profiles and cached matches.
ALTER TABLE playlists ADD COLUMN description text;
ALTER TABLE playlists ADD COLUMN owner text NOT NULL DEFAULT 'me';
ALTER TABLE playlists ADD COLUMN snapshot text;
CREATE INDEX playlists_owner_idx ON playlists (owner);

-- The songs a person wants sorted, per list (liked | recent | file); order kept.
CREATE TABLE candidates (
    owner      text NOT NULL,
    list       text NOT NULL,
    track_id   text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    position   integer NOT NULL,
    added_at   timestamptz,
    PRIMARY KEY (owner, list, track_id)
);

-- GoEmotions distribution per (bundle, track); content_hash says which description it read.
CREATE TABLE track_emotions (
    bundle_hash   text NOT NULL REFERENCES model_bundles (bundle_hash),
    track_id      text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    content_hash  text NOT NULL,
    backend       text NOT NULL,
    scores        real[] NOT NULL CHECK (cardinality(scores) = 28),
    buckets       real[] NOT NULL,
    top_labels    text[] NOT NULL,
    top_bucket    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bundle_hash, track_id)
);

-- One profile per (bundle, playlist); profile_hash covers everything it was built from.
CREATE TABLE playlist_profiles (
    bundle_hash     text NOT NULL REFERENCES model_bundles (bundle_hash),
    playlist_id     text NOT NULL REFERENCES playlists (playlist_id) ON DELETE CASCADE,
    profile_hash    text NOT NULL,
    member_count    integer NOT NULL,
    fallback        boolean NOT NULL,          -- < 3 members: centroid = name embedding
    centroid        vector NOT NULL,
    name_embedding  vector NOT NULL,
    name_text       text NOT NULL,
    audio_mean      double precision[] NOT NULL,
    audio_std       double precision[] NOT NULL,
    genre_dist      jsonb NOT NULL,
    subgenre_dist   jsonb NOT NULL,
    emotion_dist    double precision[] NOT NULL,
    playlist_type   text NOT NULL,
    type_source     text NOT NULL,             -- name | profile | default
    profile_text    text NOT NULL,             -- the cross-encoder's query
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bundle_hash, playlist_id)
);

-- A matching run's inputs, hashed; results are reused whenever the same context comes again.
CREATE TABLE match_contexts (
    context_hash        text PRIMARY KEY,
    owner               text NOT NULL,
    bundle_hash         text NOT NULL REFERENCES model_bundles (bundle_hash),
    algo_version        integer NOT NULL,
    config_hash         text NOT NULL,
    playlist_set_hash   text NOT NULL,
    candidate_set_hash  text NOT NULL,
    candidates_list     text NOT NULL,
    stats               jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_used_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_contexts_owner_idx ON match_contexts (owner, bundle_hash, last_used_at);

-- Song → playlist suggestions of one context: each song's top-N and each playlist's top-K.
CREATE TABLE match_results (
    context_hash   text NOT NULL REFERENCES match_contexts (context_hash) ON DELETE CASCADE,
    track_id       text NOT NULL,
    playlist_id    text NOT NULL,
    song_rank      integer,                    -- rank of the playlist for this song
    playlist_rank  integer,                    -- rank of the song for this playlist
    score          double precision NOT NULL,
    confidence     double precision NOT NULL,
    fits           boolean NOT NULL,           -- false: below the abstain threshold
    stage1         double precision NOT NULL,
    ranker         double precision,
    rerank         double precision,
    contributions  jsonb NOT NULL,
    reasons        text NOT NULL,
    PRIMARY KEY (context_hash, track_id, playlist_id)
);
