"""The Spotify audio features every catalog format carries, in one place."""

AUDIO_FEATURES = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
)
# What a play needs for a mood: a track "has features" when all of these are known. One
# definition for the catalog join, fetched features, coverage figures and the clustering.
MOOD_FEATURES_NEEDED = (
    "valence", "energy", "danceability", "acousticness", "instrumentalness", "tempo",
)  # fmt: skip
# The features that describe how a song sounds, for distances (a playlist's acoustic
# similarity, an artist's typical sound): key and mode are categorical, duration and popularity
# say little about fit.
ACOUSTIC_FEATURES = tuple(f for f in AUDIO_FEATURES if f not in ("key", "mode"))
