"""Next mood from the songs a person plays together: the successor memory widened to a song's
co-listening neighbours (lib/colistening).

The successor memory remembers what followed *this* song; most songs are played a few times,
so most rows have nothing to remember. Songs the person puts and plays with it (its nearest
co-listening vectors) widen that memory: the next mood that most often followed the song or
its neighbours before, weighted by closeness. Only earlier plays count, and the vectors must be
learned from data before the weeks the rule is judged on (the caller's duty).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

NEIGHBOURS = 10  # per song
MIN_CLOSENESS = 0.5  # cosine below which a song is no neighbour


def nearest(
    keys: Sequence[Hashable], vectors: np.ndarray, n: int = NEIGHBOURS
) -> dict[Hashable, list[tuple[Hashable, float]]]:
    """Each key's closest other keys by cosine (unit rows; NaN rows have none), at least
    MIN_CLOSENESS close."""
    known = np.isfinite(vectors).all(axis=1)
    rows = np.flatnonzero(known)
    out: dict[Hashable, list[tuple[Hashable, float]]] = {}
    if len(rows) < 2:
        return out
    unit = vectors[rows] / np.maximum(np.linalg.norm(vectors[rows], axis=1, keepdims=True), 1e-9)
    for start in range(0, len(rows), 2048):
        sims = unit[start : start + 2048] @ unit.T
        sims[np.arange(len(sims)), np.arange(start, start + len(sims))] = -np.inf
        top = np.argsort(-sims, axis=1)[:, :n]
        for i, (cols, row) in enumerate(zip(top, sims, strict=True)):
            close = [(keys[rows[c]], float(row[c])) for c in cols if row[c] >= MIN_CLOSENESS]
            if close:
                out[keys[rows[start + i]]] = close
    return out


def neighbour_successor(
    keys: Sequence[Hashable],
    targets: np.ndarray,
    neighbours: Mapping[Hashable, Sequence[tuple[Hashable, float]]],
    k: int,
) -> np.ndarray:
    """Per play, in time order (`targets`: the next play's mood, -1 unknown): the mood that
    most often followed this song (weight 1) and its neighbours (weight: closeness) on earlier
    plays; -1 where none of them has followed by a known mood yet."""
    index = {key: i for i, key in enumerate(dict.fromkeys(keys))}
    counts = np.zeros((len(index), k))
    links = {
        index[key]: [(index[n], w) for n, w in near if n in index]
        for key, near in neighbours.items()
        if key in index
    }
    out = np.full(len(keys), -1, dtype=np.int64)
    for i, key in enumerate(keys):
        row = index[key]
        total = counts[row].copy()
        for j, weight in links.get(row, ()):
            total += weight * counts[j]
        if total.any():
            out[i] = int(total.argmax())
        if 0 <= targets[i] < k:
            counts[row, targets[i]] += 1
    return out
