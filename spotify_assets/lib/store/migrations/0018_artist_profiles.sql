-- What the loaded catalogs say about an artist (lib/catalog/artists.py): for a song that has
-- no measured features or genre of its own, its primary artist's typical sound and genres.
-- Kept apart from `tracks` on purpose: these are the artist's, never the song's, and every
-- reader labels them so ("the artist's songs are usually …"). Built from catalog tracks only
-- (never a person's library), so it holds no personal data; rebuilt after each catalog load.
CREATE TABLE artist_profiles (
    artist_key    text PRIMARY KEY,             -- names.normalize_artist of the primary artist
    name          text NOT NULL,                -- its most common spelling in the catalog
    songs         integer NOT NULL,             -- catalog songs by the artist
    featured      integer NOT NULL,             -- of those, with measured audio features
    genres        text[] NOT NULL DEFAULT '{}', -- most shared first
    genre_shares  real[] NOT NULL DEFAULT '{}', -- share of the artist's songs with each genre
    features      jsonb NOT NULL DEFAULT '{}',  -- median of each audio feature over `featured`
    source        text NOT NULL,                -- in words: what it was computed from
    updated_at    timestamptz NOT NULL DEFAULT now()
);
