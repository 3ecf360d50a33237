"""Fit a person's co-listening vectors, choosing the method on their own playlists.

`fit_colistening` holds back a fifth of the members of every playlist with enough of them,
trains each method on the rest (and on all liked songs and sessions), and asks each one how
close the held-back songs land to their own playlists (mean reciprocal rank among the person's
playlists, a song's other playlists left out). The better method is trained again on
everything and serves; the figures say why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.colistening.contexts import build_contexts
from spotify_assets.lib.colistening.inputs import ColisteningInputs
from spotify_assets.lib.colistening.methods import DIMS, METHODS
from spotify_assets.lib.hashing import stable_hash

COLISTENING_VERSION = 1  # bump when contexts or methods change: stored vectors are rebuilt
HOLD_BACK = 0.2
MIN_MEMBERS = 5  # playlists with fewer members are kept whole for training


@dataclass
class CoListening:
    method: str
    vocab: list[str]
    vectors: np.ndarray  # (len(vocab), dims) unit rows, NaN: nothing learned
    report: dict = field(default_factory=dict)

    @property
    def dims(self) -> int:
        return self.vectors.shape[1]

    def for_tracks(self, track_ids: Sequence[str]) -> np.ndarray:
        """(len(track_ids), dims) float32; NaN rows for songs it knows nothing about."""
        index = {t: i for i, t in enumerate(self.vocab)}
        out = np.full((len(track_ids), self.dims), np.nan, dtype=np.float32)
        rows = [(k, index[t]) for k, t in enumerate(track_ids) if t in index]
        if rows:
            mine, theirs = zip(*rows, strict=True)
            out[list(mine)] = self.vectors[list(theirs)]
        return out

    @property
    def known(self) -> int:
        return int(np.isfinite(self.vectors).all(axis=1).sum())


def data_hash(
    playlists: Mapping[str, Sequence[str]], liked: Sequence[str], sessions: Sequence[Sequence[str]]
) -> str:
    """What the vectors are learned from, hashed: the same data gives the same hash."""
    return stable_hash(
        "cl",
        {
            "version": COLISTENING_VERSION,
            "playlists": {p: list(m) for p, m in sorted(playlists.items())},
            "liked": list(liked),
            "sessions": [list(s) for s in sessions],
        },
    )


def _centroids(vectors: np.ndarray, members: list[np.ndarray]) -> np.ndarray:
    out = np.full((len(members), vectors.shape[1]), np.nan)
    for p, rows in enumerate(members):
        known = vectors[rows]
        known = known[np.isfinite(known).all(axis=1)]
        if len(known):
            mean = known.mean(axis=0)
            norm = np.linalg.norm(mean)
            if norm > 0:
                out[p] = mean / norm
    return out


def placement_mrr(
    vectors: np.ndarray, members: list[np.ndarray], held: list[np.ndarray]
) -> tuple[float, float]:
    """(MRR of each held-back song's own playlist among all playlists by cosine to their
    member centroids, share of held-back songs with a vector). A song without a vector ranks
    in the middle; a song's other playlists are left out of its ranking."""
    centroids = _centroids(vectors, members)
    usable = np.isfinite(centroids).all(axis=1)
    member_of: dict[int, set[int]] = {}
    for p, rows in enumerate(members):
        for r in rows.tolist():
            member_of.setdefault(r, set()).add(p)
    reciprocal, covered = [], 0
    n = len(members)
    for p, rows in enumerate(held):
        for r in rows.tolist():
            v = vectors[r]
            if not np.isfinite(v).all() or not usable[p]:
                reciprocal.append(2.0 / (n + 1))
                continue
            covered += 1
            scores = np.where(usable, np.nan_to_num(centroids) @ v, -np.inf)
            others = [q for q in member_of.get(r, ()) if q != p]
            scores[others] = -np.inf
            reciprocal.append(1.0 / (1 + int((scores > scores[p]).sum())))
    if not reciprocal:
        return 0.0, 0.0
    return float(np.mean(reciprocal)), covered / len(reciprocal)


def fit_colistening(
    playlists: Mapping[str, Sequence[str]],
    liked: Sequence[str] = (),
    sessions: Sequence[Sequence[str]] = (),
    seed: int = 42,
    methods: Sequence[str] = tuple(METHODS),
    dims: int = DIMS,
) -> CoListening:
    """Vectors for every song in the person's playlists, liked songs and sessions, by the
    method that placed held-back playlist members best (see the module docstring)."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    train: dict[str, list[str]] = {}
    held: dict[str, list[str]] = {}
    for pid, songs in playlists.items():
        songs = list(dict.fromkeys(songs))
        if len(songs) >= MIN_MEMBERS:
            back = set(rng.choice(len(songs), max(1, int(len(songs) * HOLD_BACK)), replace=False))
            held[pid] = [s for i, s in enumerate(songs) if i in back]
            train[pid] = [s for i, s in enumerate(songs) if i not in back]
        else:
            train[pid] = songs
    sessions = [list(s) for s in sessions]
    scores: dict[str, dict] = {}
    if held and len(methods) > 1:
        contexts = build_contexts(train, liked, sessions)
        index = contexts.index
        pids = list(playlists)
        members = [np.array([index[s] for s in train[p] if s in index], dtype=np.int64)
                   for p in pids]  # fmt: skip
        held_rows = [np.array([index[s] for s in held.get(p, []) if s in index], dtype=np.int64)
                     for p in pids]  # fmt: skip
        for name in methods:
            t0 = time.perf_counter()
            vectors = METHODS[name](contexts, dims=dims, seed=seed)
            mrr, covered = placement_mrr(vectors, members, held_rows)
            scores[name] = {
                "validation_mrr": round(mrr, 4),  # held-back songs in any other context
                "covered": round(covered, 4),
                "seconds": round(time.perf_counter() - t0, 2),
            }
        chosen = max(scores, key=lambda m: (scores[m]["validation_mrr"], m == methods[0]))
    else:
        chosen = methods[0]
    contexts = build_contexts(playlists, liked, sessions)
    vectors = METHODS[chosen](contexts, dims=dims, seed=seed)
    result = CoListening(chosen, contexts.vocab, vectors)
    result.report = {
        "method": chosen,
        "validation": scores,
        "contexts": contexts.counts(),
        "tokens": contexts.tokens,
        "songs": len(contexts.vocab),
        "songs_with_vector": result.known,
        "seconds": round(time.perf_counter() - started, 2),
        "version": COLISTENING_VERSION,
    }
    return result


def empty_colistening(dims: int = DIMS) -> CoListening:
    """Nothing to learn from (no playlists, no plays): every song unknown."""
    return CoListening("none", [], np.zeros((0, dims), dtype=np.float32), {"method": "none"})



def refitter(
    inputs: ColisteningInputs, track_ids: Sequence[str], method: str, seed: int = 42
) -> Callable[[Mapping[str, set[str]]], np.ndarray]:
    """A function giving the vectors of `track_ids` (row-aligned, NaN rows unknown) learned by
    `method` without some playlist memberships: a ranker's validation songs must not teach the
    vectors where they belong, as the harness's held-out songs do not."""

    def refit(held: Mapping[str, set[str]]) -> np.ndarray:
        source = inputs.without(dict(held))
        methods = (method,) if method in METHODS else tuple(METHODS)
        model = fit_colistening(source.playlists, source.liked, source.sessions, seed=seed,
                                methods=methods)  # fmt: skip
        return model.for_tracks(list(track_ids))

    return refit
