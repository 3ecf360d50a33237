"""Track embeddings: keep one vector per (track, bundle, content hash) in `track_embeddings`."""
