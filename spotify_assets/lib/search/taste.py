"""Search relative to a person's library: "emo songs I like", "techno like my Gym playlist".

A query names a **reference set** (liked songs, most played, one of the person's playlists)
and a **target style** (the rest of the words, read by the normal query understanding). The
style selects candidates; they are re-ranked by closeness to the reference songs, blended with
the style score. Closeness is per candidate: the mean cosine of its `k` nearest reference songs
(a person's library is several tastes, so one mean vector would sit between them), plus,
optionally, how near its audio features are to the references' feature centroid.

Parsing and scoring here are pure (no SQL, no model): lib/search/taste_service.py wires them
to the store and the embedder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

LIKED = "liked"
MOST_PLAYED = "most played"
PLAYLIST = "playlist"

_SONGS = r"(?:songs?|tracks?|music|stuff|tunes)"
# (kind, pattern); the first that matches wins, so longer phrasings come first
_PHRASES: list[tuple[str, str]] = [
    (PLAYLIST, r"\b(?:from|in|on|like|of)\s+my\s+playlist\s+(?P<name>\"[^\"]+\"|'[^']+'|.+?)\s*$"),
    (PLAYLIST, r"\b(?:from|in|on|like|of)\s+my\s+(?P<name>\"[^\"]+\"|'[^']+'|.+?)\s+playlist\b"),
    (MOST_PLAYED, r"\b(?:(?:that|which)\s+)?i\s+(?:play|listen\s+to|stream)\s+(?:the\s+)?most\b"),
    (MOST_PLAYED, rf"\b(?:like\s+|from\s+|of\s+)?my\s+(?:most[\s-]played|top)\s+{_SONGS}\b"),
    (MOST_PLAYED, r"\b(?:like\s+|from\s+|of\s+)?my\s+most[\s-]played\b"),
    (LIKED, rf"\b(?:like\s+|from\s+|of\s+|among\s+|in\s+)?my\s+(?:liked|saved|favou?rite)\s+{_SONGS}\b"),
    (LIKED, r"\b(?:like\s+|from\s+|of\s+|among\s+|in\s+)?my\s+(?:likes|favou?rites)\b"),
    (LIKED, r"\b(?:(?:that|which)\s+)?i\s+(?:like|love|liked|saved)\b"),
]  # fmt: skip
_FILLER = re.compile(
    r"^(?:(?:give|show|find|play)\s+me\s+|(?:some|any|but|as|in)\s+)*"
    r"|\s+(?:of|from|like|among|but|as|in)\s*$",
    re.I,
)


@dataclass(frozen=True)
class ReferenceQuery:
    """What a query asks relative to a person's library."""

    kind: str  # liked | most played | playlist
    style: str  # the rest of the query: the target style ("emo songs"), maybe ""
    phrase: str  # the words that named the reference set, as written
    playlist: str | None = None  # the playlist's name, for kind == playlist

    def describe(self) -> str:
        return (
            f"your playlist '{self.playlist}'"
            if self.kind == PLAYLIST
            else f"your {self.kind} songs"
        )


def parse_reference(query: str) -> ReferenceQuery | None:
    """The reference set a query names and its style text; None when it names none."""
    for kind, pattern in _PHRASES:
        match = re.search(pattern, query, re.I)
        if not match:
            continue
        name = None
        if kind == PLAYLIST:
            name = match["name"].strip().strip("\"'").strip()
            if not name:
                continue
        rest = f"{query[: match.start()]} {query[match.end() :]}"
        style = _FILLER.sub("", " ".join(rest.split())).strip(" ,.;:")
        return ReferenceQuery(kind, style, match.group(0).strip(), name)
    return None


@dataclass(frozen=True)
class TasteConfig:
    """How the profile and the style blend; chosen on validation data (benchmarks/taste_search.py)."""

    # Validation (benchmarks/taste_search.py, users e and f, seeds 7 and 42) chose k = 3 and
    # popularity 0.6 every time; profile weight (0.5 to 1.0) and audio (0 or 0.3) varied.
    k: int = 3  # reference songs averaged per candidate (1 = max-sim)
    profile_weight: float = 0.85  # of the z-scored profile closeness vs the z-scored style score
    audio_weight: float = 0.0  # of the z-scored audio closeness, where both sides have features
    popularity_weight: float = 0.6  # of the z-scored popularity (people like popular songs)


DEFAULT_CONFIG = TasteConfig()


@dataclass
class TasteScores:
    score: np.ndarray  # per candidate, higher is better
    closeness: np.ndarray  # mean cosine of the k nearest reference songs
    nearest: np.ndarray  # index of each candidate's nearest reference song


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def taste_scores(
    candidates: np.ndarray,
    style: np.ndarray,
    references: np.ndarray,
    config: TasteConfig = DEFAULT_CONFIG,
    candidate_audio: np.ndarray | None = None,
    reference_audio: np.ndarray | None = None,
    popularity: np.ndarray | None = None,
) -> TasteScores:
    """Scores of `candidates` (n×d unit vectors) given their style scores (n) and the reference
    songs' vectors (m×d). Audio: standardised feature rows (NaN where unknown); a candidate
    without features gets the mean audio closeness (neither helped nor hurt), and one without
    a popularity the mean popularity."""
    sims = candidates @ references.T  # n×m cosine (unit vectors)
    k = max(1, min(config.k, references.shape[0]))
    top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:] if k < sims.shape[1] else sims
    closeness = top.mean(axis=1)
    parts = config.profile_weight * _z(closeness) + (1 - config.profile_weight) * _z(style)
    if config.audio_weight and candidate_audio is not None and reference_audio is not None:
        parts = parts + config.audio_weight * _z(audio_closeness(candidate_audio, reference_audio))
    if config.popularity_weight and popularity is not None:
        known = ~np.isnan(popularity)
        filled = np.where(known, popularity, popularity[known].mean() if known.any() else 0.0)
        parts = parts + config.popularity_weight * _z(filled)
    return TasteScores(parts, closeness, sims.argmax(axis=1))


def audio_closeness(candidates: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Minus the distance of each candidate's (standardised) features to the references'
    feature centroid, over the features both know; the mean where that is nothing."""
    known = ~np.isnan(references).all(axis=0)
    if not known.any():
        return np.zeros(len(candidates))
    centroid = np.nanmean(references[:, known], axis=0)
    diff = candidates[:, known] - centroid
    counted = (~np.isnan(diff)).sum(axis=1)
    distance = np.sqrt(np.nansum(diff**2, axis=1) / np.maximum(counted, 1))
    closeness = -distance
    missing = counted == 0
    if missing.all():
        return np.zeros(len(candidates))
    closeness[missing] = closeness[~missing].mean()
    return closeness
