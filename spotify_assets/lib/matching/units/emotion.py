"""Emotion: the song's emotion-bucket distribution against the playlist members' pooled one."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays


def js_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 − Jensen-Shannon divergence (base 2) of distributions along the last axis."""
    eps = 1e-9
    a, b = a + eps, b + eps
    m = 0.5 * (a + b)
    js = 0.5 * (a * np.log(a / m)).sum(axis=-1) + 0.5 * (b * np.log(b / m)).sum(axis=-1)
    return 1.0 - np.clip(js / np.log(2.0), 0.0, 1.0)


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    return {"emotion": js_similarity(songs.emotions[:, None, :], profiles.emotion_dist[None])}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    b = songs.emotions[rows]
    rest = profiles.emotion_sum[cols] - b
    total = rest.sum(axis=1, keepdims=True)
    dist = np.divide(rest, total, out=np.full_like(rest, 1 / b.shape[1]), where=total > 0)
    return {"emotion": js_similarity(b, dist)}


UNIT = SignalUnit(("emotion",), compute, leave_one_out)
