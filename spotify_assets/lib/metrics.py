"""Ranking metrics with binary relevance: the one place they are defined.

Lists (`precision_at_k`, `recall_at_k`, `ndcg_at_k`) for search results; matrices (songs ×
playlists, vectorized) for matching: `filtered_reciprocal_ranks` / `filtered_mrr` (each true
pair's playlist among the song's playlists, its other true ones left out) and
`playlist_ndcgs` / `playlist_ndcg` (each playlist's own songs among the songs given).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

_CHUNK = 2048
# non-members each playlist's held-out songs are ranked among, in the harness and in validation
PLAYLIST_NEGATIVES = 50


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k if k else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def filtered_reciprocal_ranks(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1 / rank of each true (song, playlist) among the playlists that are not the song's
    other true ones (songs × playlists; vectorized over the true pairs, in np.nonzero order)."""
    rows, cols = np.nonzero(truth)
    reciprocal = np.empty(len(rows))
    for start in range(0, len(rows), _CHUNK):
        r, c = rows[start : start + _CHUNK], cols[start : start + _CHUNK]
        target = scores[r, c][:, None]
        better = ((scores[r] > target) & ~truth[r]).sum(axis=1)
        reciprocal[start : start + _CHUNK] = 1.0 / (1 + better)
    return reciprocal


def filtered_mrr(scores: np.ndarray, truth: np.ndarray) -> float:
    """The mean of `filtered_reciprocal_ranks` (0 without a true pair)."""
    reciprocal = filtered_reciprocal_ranks(scores, truth)
    return float(reciprocal.mean()) if len(reciprocal) else 0.0


def playlist_ndcgs(scores: np.ndarray, truth: np.ndarray, k: int = 10) -> np.ndarray:
    """NDCG@k of each playlist's own songs when the given songs are ranked for it by score
    (songs × playlists; playlists without a true song left out): the other view of the same
    scores, the one a playlist's suggestions are read in. Vectorized over playlists."""
    keep = truth.any(axis=0)
    if not keep.any():
        return np.zeros(0)
    scores, truth = scores[:, keep], truth[:, keep]
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1, axis=0)[:k]  # (k, P) the k best, unordered
    order = np.argsort(-np.take_along_axis(scores, top, axis=0), axis=0, kind="stable")
    top = np.take_along_axis(top, order, axis=0)
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (np.take_along_axis(truth, top, axis=0) * discount[:, None]).sum(axis=0)
    ideal = np.cumsum(discount)[np.minimum(truth.sum(axis=0), k) - 1]
    return dcg / ideal


def playlist_ndcg(scores: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """The mean of `playlist_ndcgs` (0 without a playlist that has a true song)."""
    values = playlist_ndcgs(scores, truth, k)
    return float(values.mean()) if len(values) else 0.0


def sampled_candidates(
    member: np.ndarray, truth: np.ndarray, negatives: int, rng: np.random.Generator
) -> np.ndarray:
    """songs × playlists: what each playlist's NDCG ranks, its true songs and `negatives`
    songs not in it (`member`), drawn at random; `playlist_ndcgs` reads it with the other
    scores set to −inf. Ranked among every other song, NDCG@10 reads the very top of
    thousands, a regime the harness (50 sampled non-members) never measures."""
    pool = truth.copy()
    for p in np.nonzero(truth.any(axis=0))[0]:
        outside = np.nonzero(~member[:, p])[0]
        take = min(negatives, len(outside))
        pool[rng.choice(outside, take, replace=False), p] = True
    return pool
