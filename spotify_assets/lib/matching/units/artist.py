"""Artist: the share of the playlist's members by the song's primary artist (the ranker's;
"put the song where its artist already is" is this signal alone, the same_artist baseline)."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays


def artist_share(codes: np.ndarray, profiles: Profiles) -> np.ndarray:
    """Share of each playlist's members by the song's primary artist: (S,) → (S, P). NaN
    (unknown, not "no share") where the song has no artist or no member of the playlist has
    one: a catalog without an artist column gives NaN throughout."""
    counts = profiles.artist_counts
    out = np.full((len(codes), len(profiles)), np.nan)
    if counts is None:
        return out
    valid = np.nonzero((codes >= 0) & (codes < counts.shape[1]))[0]
    known = np.asarray(counts.sum(axis=1)).ravel() > 0  # playlists with any artist known
    if len(valid):
        shares = counts[:, codes[valid]].toarray().T
        share = shares / np.maximum(profiles.count, 1)[None, :]
        out[valid] = np.where(known[None, :], share, np.nan)
    return out


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    return {"artist": artist_share(songs.artist, profiles)}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    if profiles.artist_counts is None:
        return {}
    codes = songs.artist[rows]
    valid = (codes >= 0) & (codes < profiles.artist_counts.shape[1])
    own = np.zeros(len(rows))
    if valid.any():
        counts = profiles.artist_counts.tocsr()
        own[valid] = np.asarray(counts[cols[valid], codes[valid]]).ravel()
    others_known = np.asarray(profiles.artist_counts.sum(axis=1)).ravel()[cols] - valid
    return {"artist": np.where(valid & (others_known > 0), (own - valid) / n, np.nan)}


UNIT = SignalUnit(("artist",), compute, leave_one_out)
