"""Meaning: the song's embedding against the playlist's member centroid and its name."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.matching.units.base import SignalUnit
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays


def compute(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    emb = songs.embeddings
    return {"sem_centroid": emb @ profiles.centroid.T, "sem_name": emb @ profiles.name_vectors.T}


def leave_one_out(songs, profiles, rows, cols, n) -> dict[str, np.ndarray]:
    emb = songs.embeddings[rows].astype(np.float64)
    rest = profiles.emb_sum[cols] - emb
    norms = np.linalg.norm(rest, axis=1)
    return {"sem_centroid": np.einsum("ij,ij->i", emb, rest) / np.maximum(norms, 1e-9)}


UNIT = SignalUnit(("sem_centroid", "sem_name"), compute, leave_one_out)
