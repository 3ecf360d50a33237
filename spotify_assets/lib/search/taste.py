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


@dataclass(frozen=True)
class Spread:
    """Mean and standard deviation of a score over a candidate set."""

    mean: float
    std: float

    @classmethod
    def of(cls, values: np.ndarray) -> Spread:
        return cls(float(values.mean()), float(values.std())) if len(values) else cls(0.0, 0.0)


@dataclass(frozen=True)
class Population:
    """The spreads of every track the style selected, when only some of them are scored: each
    score is z-scored against the whole set, as if all had been (see `preselect`)."""

    closeness: Spread  # estimated from a sample
    style: Spread
    popularity: Spread  # of the popularity with unknown values filled by the known mean
    popularity_mean: float  # the known mean, which fills a candidate's unknown popularity


def _z(values: np.ndarray, spread: Spread | None = None) -> np.ndarray:
    spread = spread or Spread.of(values)
    if spread.std <= 1e-12:
        return np.zeros_like(values)
    return (values - spread.mean) / spread.std


def nearest_mean(candidates: np.ndarray, references: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean cosine of each candidate's k nearest references, the nearest one's index)."""
    sims = candidates @ references.T  # n×m cosine (unit vectors)
    k = max(1, min(k, references.shape[0]))
    top = np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:] if k < sims.shape[1] else sims
    return top.mean(axis=1), sims.argmax(axis=1)


def filled_popularity(popularity: np.ndarray, mean: float | None = None) -> tuple[np.ndarray, float]:
    """Popularity with unknown values set to the known mean (given, or of these values)."""
    known = ~np.isnan(popularity)
    if mean is None:
        mean = float(popularity[known].mean()) if known.any() else 0.0
    return np.where(known, popularity, mean), mean


def taste_scores(
    candidates: np.ndarray,
    style: np.ndarray,
    references: np.ndarray,
    config: TasteConfig = DEFAULT_CONFIG,
    candidate_audio: np.ndarray | None = None,
    reference_audio: np.ndarray | None = None,
    popularity: np.ndarray | None = None,
    population: Population | None = None,
) -> TasteScores:
    """Scores of `candidates` (n×d unit vectors) given their style scores (n) and the reference
    songs' vectors (m×d). Audio: standardised feature rows (NaN where unknown); a candidate
    without features gets the mean audio closeness (neither helped nor hurt), and one without
    a popularity the mean popularity. `population`: z-score against a larger set these
    candidates were chosen from instead of against themselves."""
    closeness, nearest = nearest_mean(candidates, references, config.k)
    pop = population
    parts = config.profile_weight * _z(closeness, pop and pop.closeness) + (
        1 - config.profile_weight
    ) * _z(style, pop and pop.style)
    if config.audio_weight and candidate_audio is not None and reference_audio is not None:
        parts = parts + config.audio_weight * _z(audio_closeness(candidate_audio, reference_audio))
    if config.popularity_weight and popularity is not None:
        filled, _ = filled_popularity(popularity, pop and pop.popularity_mean)
        parts = parts + config.popularity_weight * _z(filled, pop and pop.popularity)
    return TasteScores(parts, closeness, nearest)


def centroids(vectors: np.ndarray, count: int, iterations: int = 8, seed: int = 0) -> np.ndarray:
    """`count` unit centroids of unit `vectors` (spherical k-means; deterministic), or the
    vectors themselves when there are no more of them."""
    if len(vectors) <= count:
        return np.asarray(vectors, dtype=np.float32)
    rng = np.random.default_rng(seed)
    centers = vectors[rng.choice(len(vectors), size=count, replace=False)].astype(np.float32)
    for _ in range(iterations):
        assigned = (vectors @ centers.T).argmax(axis=1)
        for c in range(count):
            members = vectors[assigned == c]
            if len(members):
                centers[c] = members.sum(axis=0)
        centers /= np.maximum(np.linalg.norm(centers, axis=1, keepdims=True), 1e-12)
    return centers


def clustered_closeness(
    candidates: np.ndarray,
    references: np.ndarray,
    reference_centroids: np.ndarray,
    k: int,
    probes: int = 2,
) -> np.ndarray:
    """Each candidate's mean cosine to its k nearest references among those nearest the
    candidate's `probes` nearest centroids (an inverted file): a fraction of the products, and
    near the exact closeness for the candidates that have close references, which are the ones
    that rank high (one probe missed one of the top 10 in a few synthetic worlds; two none)."""
    probes = max(1, min(probes, len(reference_centroids)))
    home = (references @ reference_centroids.T).argmax(axis=1)
    near = np.argsort(-(candidates @ reference_centroids.T), axis=1)[:, :probes]
    tops = np.full((len(candidates), probes * k), -1.0, dtype=np.float32)
    for p in range(probes):
        nearest = near[:, p]
        order = np.argsort(nearest, kind="stable")
        bounds = np.searchsorted(nearest[order], np.arange(len(reference_centroids) + 1))
        for c in range(len(reference_centroids)):
            rows = order[bounds[c] : bounds[c + 1]]
            members = references[home == c]
            if not len(rows) or not len(members):
                continue
            sims = candidates[rows] @ members.T
            kept = min(k, sims.shape[1])
            tops[rows, p * k : p * k + kept] = np.partition(sims, sims.shape[1] - kept, axis=1)[
                :, -kept:
            ]
    k = max(1, min(k, len(references)))
    found = np.partition(tops, tops.shape[1] - k, axis=1)[:, -k:]
    return np.where(found > -1.0, found, 0.0).mean(axis=1)


def preselect(
    candidates: np.ndarray,
    style: np.ndarray,
    popularity: np.ndarray,
    references: np.ndarray,
    reference_centroids: np.ndarray,
    config: TasteConfig,
    keep: int,
    sample: int,
    shortlist: int | None = None,
) -> tuple[np.ndarray, Population]:
    """(the indices of the `keep` candidates worth scoring, the whole set's spreads) for a
    candidate set too large to score against every reference song (a genre's thousands of
    tracks × a person's thousands of liked songs: the products took seconds).

    Candidates are ranked by the same blend with `clustered_closeness` standing in for the
    closeness (the k nearest references among those of the candidate's nearest centroid: a
    tenth of the products), and the best `keep` are scored exactly. With `shortlist`, only
    that many are given the clustered closeness: those ranked best by the blend with each
    candidate's cosine to its nearest centroid (one product with the centroids), since the
    clustered pass over 20,000 candidates was most of a search. The closeness spread is
    estimated on `sample` candidates spread over the set (exactly scored); the style and
    popularity spreads are the set's own."""
    n = len(candidates)
    filled, known_mean = filled_popularity(popularity)
    chosen = np.unique(np.linspace(0, n - 1, min(n, sample)).round().astype(int))
    sampled, _ = nearest_mean(candidates[chosen], references, config.k)
    population = Population(Spread.of(sampled), Spread.of(style), Spread.of(filled), known_mean)
    if n <= keep:
        return np.arange(n), population
    style_z, popularity_z = _z(style), _z(filled)

    def blend(closeness: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        approx = config.profile_weight * closeness + (1 - config.profile_weight) * style_z[rows]
        if config.popularity_weight:
            approx = approx + config.popularity_weight * popularity_z[rows]
        return approx

    rows = np.arange(n)
    if shortlist is not None and n > shortlist > keep:
        coarse = (candidates @ reference_centroids.T).max(axis=1)
        rows = np.sort(np.argpartition(-blend(_z(coarse), rows), shortlist - 1)[:shortlist])
    rough = clustered_closeness(candidates[rows], references, reference_centroids, config.k)
    # z-scored as over the whole set: the shortlist's own spread is not the population's
    spread = population.closeness if len(rows) < n else None
    approx = blend(_z(rough, spread), rows)
    best = rows[np.argpartition(-approx, keep - 1)[:keep]]
    return np.sort(best), population


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
