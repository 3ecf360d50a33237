"""Reasons a song was suggested for a playlist, from the stored per-signal contributions.

A reason names what sets this playlist apart *for this song*: each stage-1 part is compared
with the song's average over all playlists, and the two largest positive differences speak.
"""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES

# features people recognise, in the order they are worth mentioning
_SPOKEN = {
    "tempo": "tempo",
    "energy": "energy",
    "valence": "mood",
    "danceability": "danceability",
    "acousticness": "acoustic sound",
    "instrumentalness": "instrumental sound",
    "loudness": "loudness",
}


def closest_features(
    song: np.ndarray, mean: np.ndarray, spread: np.ndarray, n: int = 2
) -> list[str]:
    """The spoken features where the song sits closest to the playlist's centre."""
    z = np.abs((song - mean) / spread)
    order = [ACOUSTIC_FEATURES[i] for i in np.argsort(z) if np.isfinite(z[i])]
    return [_SPOKEN[f] for f in order if f in _SPOKEN][:n]


def reason_text(
    playlist: str,
    lift: dict[str, float],
    sem_centroid: float,
    sem_name: float,
    features: list[str],
    song_emotion: str | None,
    song_genre: str | None,
    genre_share: float,
) -> str:
    """`lift`: stage-1 part minus the song's mean of that part over all playlists."""
    reasons = []
    for part, value in sorted(lift.items(), key=lambda kv: -kv[1]):
        if value <= 0 or len(reasons) == 2:
            continue
        if part == "acoustic" and features:
            reasons.append(f"{' and '.join(features)} match '{playlist}'")
        elif part == "semantic":
            reasons.append(
                f"fits the name '{playlist}'"
                if sem_name > sem_centroid
                else f"sounds like the songs in '{playlist}'"
            )
        elif part == "genre" and song_genre and genre_share > 0:
            reasons.append(f"{song_genre}, like {genre_share:.0%} of '{playlist}'")
        elif part == "emotion" and song_emotion:
            reasons.append(f"mood: {song_emotion}")
    if song_emotion and not any(r.startswith("mood:") for r in reasons):
        reasons.append(f"mood: {song_emotion}")
    return "; ".join(reasons) if reasons else f"closest overall to '{playlist}'"
