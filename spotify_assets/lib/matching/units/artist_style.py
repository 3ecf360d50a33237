"""Artist style: the song's ARTIST'S typical sound and genres (lib/catalog/artists) against
those of the playlist members' artists — like with like, so a featureless song by a known
artist is placed by what its artist usually sounds like. A separate, lower-weight part of
stage 1 (never mixed into the song's own acoustic or genre signals); NaN where the song's
artist or every member's is unknown to the catalogs."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import SPREAD_FLOOR, Profiles, TrackArrays


def _sound(values: np.ndarray, total, total_sq, n, global_std) -> np.ndarray:
    """exp(−½ · mean squared z) of artist features against members' artists' (sums given),
    over the features known on both sides; NaN where none is. Broadcasts over leading axes."""
    mean = np.divide(total, n, out=np.full(np.shape(total), np.nan), where=n > 0)
    var = (
        np.divide(total_sq, n, out=np.zeros(np.shape(total)), where=n > 0)
        - np.nan_to_num(mean) ** 2
    )
    std = np.where(n > 1, np.sqrt(np.clip(var, 0, None)), global_std)
    spread = np.maximum(std, SPREAD_FLOOR * global_std)
    z = (values - mean) / spread
    known = np.isfinite(z)
    count = known.sum(axis=-1)
    msd = np.divide(np.where(known, z * z, 0.0).sum(axis=-1), count,
                    out=np.zeros(count.shape), where=count > 0)  # fmt: skip
    return np.where(count > 0, np.exp(-0.5 * msd), np.nan)


def _genre(dist: np.ndarray, total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Chance a genre drawn from the song's artist matches one drawn from a member's artist,
    per pair (dist, total: (K, G); n: (K,)); NaN where either side has none."""
    share = np.divide(total, n[:, None], out=np.zeros(total.shape), where=n[:, None] > 0)
    known = (dist.sum(axis=1) > 0) & (n > 0)
    return np.where(known, (dist * share).sum(axis=1), np.nan)


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    if profiles.art_sum is None:
        nan = np.full((len(songs), len(profiles)), np.nan)
        return {"artist_sound": nan, "artist_genre": nan.copy()}
    sound = _sound(songs.artist_features[:, None, :], profiles.art_sum[None],
                   profiles.art_sumsq[None], profiles.art_n[None], profiles.global_std)  # fmt: skip
    n = profiles.art_genre_n
    share = np.divide(profiles.art_genre_sum, n[:, None],
                      out=np.zeros(profiles.art_genre_sum.shape), where=n[:, None] > 0)  # fmt: skip
    known = (songs.artist_genres.sum(axis=1) > 0)[:, None] & (n > 0)[None, :]
    genre = np.where(known, songs.artist_genres @ share.T, np.nan)
    return {"artist_sound": sound, "artist_genre": genre}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    if profiles.art_sum is None:
        return {}
    x = songs.artist_features[rows]
    known = np.isfinite(x)
    xk = np.where(known, x, 0.0)
    sound = _sound(x, profiles.art_sum[cols] - xk, profiles.art_sumsq[cols] - xk**2,
                   profiles.art_n[cols] - known, profiles.global_std)  # fmt: skip
    dist = songs.artist_genres[rows]
    has = dist.sum(axis=1) > 0
    genre = _genre(dist, profiles.art_genre_sum[cols] - dist, profiles.art_genre_n[cols] - has)
    return {"artist_sound": sound, "artist_genre": genre}


UNIT = SignalUnit(("artist_sound", "artist_genre"), compute, leave_one_out)
