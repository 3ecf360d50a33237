"""Every algorithm version in one place.

Bumping a version changes every hash that depends on it, so stored artifacts produced by the
old version are recomputed instead of being silently reused.
"""

# Description text / structured analysis synthesized from audio features + metadata.
EXTRACTOR_VERSION = 1
# Normalized catalog row (which fields, how they are parsed) behind tracks.row_hash.
CATALOG_SCHEMA_VERSION = 1
# Version of the hashing scheme itself (canonical JSON layout); part of every prefix.
HASH_SCHEME_VERSION = 1
# Layout of stored embeddings (text formatting, normalization) behind track_embeddings.
EMBEDDING_SCHEMA_VERSION = 1
# Playlist matching (stage 1 signals, learned ranker, blending); part of every bundle hash so
# bundles compare like for like, and of every match context.
MATCHING_ALGO_VERSION = 1
# How a playlist profile is built from its members (centroids, distributions, type detection).
PLAYLIST_PROFILE_VERSION = 1
# Listening models: mood features, the next-mood policy and the session model; part of every
# retrain id, so runs of different versions are never confused.
LISTENING_MODELS_VERSION = 2
