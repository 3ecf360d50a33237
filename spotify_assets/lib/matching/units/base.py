"""What a matching signal is: a unit that scores songs against playlists on one kind of
evidence, and scores a playlist's own member against the playlist without it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays

# (songs, profiles) → name → (S, P): every song against every playlist
Compute = Callable[[TrackArrays, Profiles], dict[str, np.ndarray]]
# (songs, profiles, rows, cols, n) → name → (K,): song rows[i] against playlist cols[i] as if
# the song were not among its members; n[i] ≥ 1 is how many members are left
LeaveOneOut = Callable[
    [TrackArrays, Profiles, np.ndarray, np.ndarray, np.ndarray], dict[str, np.ndarray]
]


@dataclass(frozen=True)
class SignalUnit:
    """`names`: the signals it produces, each a value per (song, playlist); NaN where the unit
    knows nothing (the song or the playlist lacks its evidence), never a made-up middle value.
    `leave_one_out` may leave a name out where a member's own presence does not change it."""

    names: tuple[str, ...]
    compute: Compute
    leave_one_out: LeaveOneOut
