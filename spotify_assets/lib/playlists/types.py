"""Playlist type detection and the semantic/acoustic weight of each type.

A workout playlist is defined by how it sounds (tempo, energy), an emotional one by what it
says, so the two similarities are blended per type. The weights are the seed plan's
heuristic table; they are the default `MatchConfig.type_weights` and part of its hash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# type → (semantic weight, acoustic weight)
TYPE_WEIGHTS: dict[str, tuple[float, float]] = {
    "workout": (0.3, 0.7),
    "chill": (0.6, 0.4),
    "emotional": (0.8, 0.2),
    "party": (0.4, 0.6),
    "focus": (0.4, 0.6),
    "nostalgic": (0.7, 0.3),
    "romantic": (0.7, 0.3),
    "energetic": (0.3, 0.7),
    "melancholic": (0.8, 0.2),
    "default": (0.5, 0.5),
}
PLAYLIST_TYPES = tuple(TYPE_WEIGHTS)

# Words in a playlist's name or description that say its type (checked in this order).
NAME_KEYWORDS: dict[str, tuple[str, ...]] = {
    "workout": ("workout", "gym", "run", "running", "cardio", "training", "fitness", "beast mode",
                "lifting", "pump", "sweat", "hiit", "spin"),
    "focus": ("focus", "study", "studying", "concentration", "coding", "reading", "deep work",
              "productivity", "work"),
    "party": ("party", "club", "bangers", "friday night", "saturday night", "fiesta", "pregame",
              "dance floor", "dancefloor", "rave"),
    "romantic": ("romantic", "romance", "love songs", "date night", "valentine", "candlelight",
                 "in love", "sexy", "slow jams"),
    "melancholic": ("sad", "melancholy", "melancholic", "heartbreak", "rainy", "lonely", "blues",
                    "tears", "crying", "broken"),
    "emotional": ("emotional", "feels", "feelings", "soul", "healing", "deep"),
    "nostalgic": ("throwback", "nostalgia", "nostalgic", "oldies", "classics", "retro", "70s",
                  "80s", "90s", "00s", "memories", "old school", "vintage"),
    "chill": ("chill", "relax", "relaxing", "calm", "lounge", "mellow", "lazy", "sunday",
              "sleep", "ambient", "cozy", "lofi", "lo-fi", "café", "cafe", "acoustic"),
    "energetic": ("energy", "hype", "pump up", "power", "anthems", "adrenaline", "bangers",
                  "heavy", "loud", "hard"),
}  # fmt: skip


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w&'-]+", " ", text.casefold()).strip() + " "


def type_from_name(name: str, description: str = "") -> str | None:
    """The first type whose keyword appears as whole words in the name, then the description."""
    for text in (name, description):
        padded = _words(text or "")
        for kind, keywords in NAME_KEYWORDS.items():
            if any(f" {keyword} " in padded for keyword in keywords):
                return kind
    return None


def type_from_profile(audio_mean: Mapping[str, float]) -> str | None:
    """Types that audio features alone make clear (raw, unstandardized feature means)."""
    energy = audio_mean.get("energy", 0.5)
    valence = audio_mean.get("valence", 0.5)
    dance = audio_mean.get("danceability", 0.5)
    tempo = audio_mean.get("tempo", 110.0)
    instrumental = audio_mean.get("instrumentalness", 0.0)
    speech = audio_mean.get("speechiness", 0.0)
    if instrumental > 0.5 and speech < 0.1:
        return "focus"
    if energy > 0.78 and tempo > 125:
        return "workout" if dance < 0.6 else "energetic"
    if dance > 0.7 and energy > 0.65 and valence > 0.5:
        return "party"
    if valence < 0.3 and energy < 0.5:
        return "melancholic"
    if energy < 0.4:
        return "chill"
    return None


def detect_type(name: str, description: str, audio_mean: Mapping[str, float]) -> tuple[str, str]:
    """(type, where it came from: name | profile | default). The name wins: people name
    playlists after their purpose, and features only separate the extremes reliably."""
    if kind := type_from_name(name, description):
        return kind, "name"
    if kind := type_from_profile(audio_mean):
        return kind, "profile"
    return "default", "default"
