"""Context: how close the song's release year and popularity are to the playlist members'
(exp(−½ z²) each); NaN where the song's value or every member's is unknown."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import SPREAD_FLOOR, Profiles, TrackArrays

NAMES = ("year", "popularity")  # CONTEXT_FEATURES, in order


def closeness(values: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """exp(-½ z²) per context feature; NaN where the song's value or the playlist's is
    unknown (never a middling 0.5 that looks like a real closeness). (S, C) × (P, C) →
    (S, P, C)."""
    z = (values[:, None, :] - mean[None, :, :]) / spread[None, :, :]
    return np.where(np.isfinite(z), np.exp(-0.5 * np.nan_to_num(z) ** 2), np.nan)


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    close = closeness(songs.context, profiles.ctx_mean, profiles.ctx_spread)
    return {name: close[:, :, i] for i, name in enumerate(NAMES)}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    if profiles.ctx_sum is None:
        return {}
    c = songs.context[rows]
    c_known = np.isfinite(c)
    ck = np.where(c_known, c, 0.0)
    c_n = profiles.ctx_n[cols] - c_known
    c_mean = np.divide(profiles.ctx_sum[cols] - ck, c_n, out=np.full_like(ck, np.nan),
                       where=c_n > 0)  # fmt: skip
    c_sq = np.divide(profiles.ctx_sumsq[cols] - ck**2, c_n, out=np.zeros_like(ck), where=c_n > 0)
    c_std = np.where(c_n > 1, np.sqrt(np.clip(c_sq - c_mean**2, 0, None)), profiles.ctx_global_std)
    c_spread = np.maximum(np.nan_to_num(c_std, nan=1.0), SPREAD_FLOOR * profiles.ctx_global_std)
    z = (c - c_mean) / c_spread
    close = np.where(np.isfinite(z), np.exp(-0.5 * np.nan_to_num(z) ** 2), np.nan)
    return {name: close[:, i] for i, name in enumerate(NAMES)}


UNIT = SignalUnit(NAMES, compute, leave_one_out)
