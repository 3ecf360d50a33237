"""Track analyses: audio features + metadata → words (the extractor) and the update that keeps
`track_analyses` in step with `tracks`."""
