"""Genre: the share of the playlist's members (with a genre) in the song's genre, and the
same for subgenres; 0 for a song without one (stage 1 renormalizes it away)."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays


def code_overlap(codes: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Share of the playlist's members in the song's genre: (S,) codes × (P, G) → (S, P)."""
    out = np.zeros((len(codes), dist.shape[0]))
    valid = codes >= 0
    if dist.shape[1]:
        out[valid] = dist[:, codes[valid]].T
    return out


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    return {
        "genre": code_overlap(songs.genre, profiles.genre_dist),
        "subgenre": code_overlap(songs.subgenre, profiles.subgenre_dist),
    }


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    out = {}
    for name, codes, counts in (
        ("genre", songs.genre[rows], profiles.genre_counts),
        ("subgenre", songs.subgenre[rows], profiles.subgenre_counts),
    ):
        valid = codes >= 0
        own = np.zeros(len(rows))
        own[valid] = counts[cols[valid], codes[valid]]
        total = counts[cols].sum(axis=1) - valid
        share = np.divide(own - valid, total, out=np.zeros(len(rows)), where=total > 0)
        out[name] = np.where(valid, share, 0.0)
    return out


UNIT = SignalUnit(("genre", "subgenre"), compute, leave_one_out)
