-- Enrichment from the Web API (lib/catalog/enrich.py): when each source last answered for a
-- track. A track Spotify or ReccoBeats answered for but that still lacks a field (an artist
-- without genres, a song ReccoBeats does not know) is not asked again on every run; a batch
-- that failed leaves these NULL, so the next run retries it.
ALTER TABLE tracks ADD COLUMN spotify_checked_at timestamptz;
ALTER TABLE tracks ADD COLUMN features_checked_at timestamptz;
