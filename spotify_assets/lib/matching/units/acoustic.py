"""Sound: the song's measured audio features against the playlist's members' (mean and
spread per feature); features either side lacks are skipped."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import SPREAD_FLOOR, Profiles, TrackArrays

# the mean squared distance taken when no feature is known on either side: far, not unknown
# (stage 1 renormalizes songs without features away; see signals.song_knowns)
NOTHING_KNOWN_MSD = 4.0


def acoustic_similarity(features: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """exp(-½ · mean squared distance in units of each playlist's spread), unknown features
    skipped. (S, F) × (P, F) → (S, P)."""
    z = (features[:, None, :] - mean[None, :, :]) / spread[None, :, :]
    known = np.isfinite(z)
    sq = np.where(known, z * z, 0.0).sum(axis=2)
    n = known.sum(axis=2)
    msd = np.divide(sq, n, out=np.full(sq.shape, NOTHING_KNOWN_MSD), where=n > 0)
    return np.exp(-0.5 * msd)


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    return {"acoustic": acoustic_similarity(songs.features, profiles.audio_mean, profiles.spread)}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    x = songs.features[rows]
    known = np.isfinite(x)
    xk = np.where(known, x, 0.0)
    f_n = profiles.feat_n[cols] - known
    f_sum = profiles.feat_sum[cols] - xk
    f_sq = profiles.feat_sumsq[cols] - xk**2
    mean = np.divide(f_sum, f_n, out=np.tile(profiles.global_mean, (len(rows), 1)), where=f_n > 0)
    var = np.divide(f_sq, f_n, out=np.zeros_like(f_sq), where=f_n > 0) - mean**2
    std = np.where(f_n > 1, np.sqrt(np.clip(var, 0, None)), profiles.global_std)
    spread = np.maximum(std, SPREAD_FLOOR * profiles.global_std)
    z = (x - mean) / spread
    fin = np.isfinite(z)
    count = fin.sum(axis=1)
    msd = np.divide(np.where(fin, z * z, 0).sum(axis=1), count,
                    out=np.full(len(rows), NOTHING_KNOWN_MSD), where=count > 0)  # fmt: skip
    return {"acoustic": np.exp(-0.5 * msd)}


UNIT = SignalUnit(("acoustic",), compute, leave_one_out)
