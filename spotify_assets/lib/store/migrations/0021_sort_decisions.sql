-- What a person said about a suggestion in the web app's sort review: this song goes in that
-- playlist (accept), it does not (reject), or none of the playlists shown fits (none: one row
-- with playlist_id ''). The person's own decisions: they train that person's next ranker
-- (accepted pairs as memberships, rejected pairs never suggested again) and are exportable.
-- `applied_at`: when an accepted song was added to the playlist through the Web API.
CREATE TABLE sort_decisions (
    person       text NOT NULL REFERENCES people (person) ON DELETE CASCADE,
    track_id     text NOT NULL REFERENCES tracks (track_id) ON DELETE CASCADE,
    playlist_id  text NOT NULL,                 -- '' for "none of these"
    decision     text NOT NULL CHECK (decision IN ('accept', 'reject', 'none')),
    score        double precision,              -- the suggestion's score when decided
    decided_at   timestamptz NOT NULL DEFAULT now(),
    applied_at   timestamptz,
    PRIMARY KEY (person, track_id, playlist_id),
    CHECK ((decision = 'none') = (playlist_id = ''))
);
