"""Co-listening: the song's vector from the person's own playlists, likes and sessions
(lib/colistening) against the playlist members' unit mean; NaN where either is unknown."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays


def colisten_similarity(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each song's co-listening vector to each playlist's member centroid; NaN where
    either is unknown. (S, k) × (P, k) → (S, P)."""
    if not vectors.shape[1] or not centroids.shape[1]:
        return np.full((len(vectors), len(centroids)), np.nan)
    out = np.nan_to_num(vectors) @ np.nan_to_num(centroids).T
    unknown = ~np.isfinite(vectors).all(axis=1)[:, None] | ~np.isfinite(centroids).all(axis=1)
    return np.where(unknown, np.nan, out)


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    return {"colisten": colisten_similarity(songs.colisten, profiles.col_centroid)}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    if profiles.col_sum is None or not profiles.col_sum.shape[1]:
        return {}
    vec = songs.colisten[rows].astype(np.float64)
    own = np.isfinite(vec).all(axis=1)
    rest = profiles.col_sum[cols] - np.where(own[:, None], vec, 0.0)
    rest_n = profiles.col_n[cols] - own
    norms = np.linalg.norm(rest, axis=1)
    cos = np.einsum("ij,ij->i", np.nan_to_num(vec), rest) / np.maximum(norms, 1e-9)
    return {"colisten": np.where(own & (rest_n > 0) & (norms > 0), cos, np.nan)}


UNIT = SignalUnit(("colisten",), compute, leave_one_out)
