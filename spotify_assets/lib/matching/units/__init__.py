"""Matching signals, one small unit per kind of evidence (see `base.SignalUnit`).

`UNITS` is the registry: stage 1, the ranker and the harness compute and leave out signals
only through it, and spotify_assets_tests/lib/matching/test_units.py checks every unit's
leave-one-out against the playlist's profile rebuilt without the song. A new signal is one
new module here plus one line below.
"""

from __future__ import annotations

from spotify_assets.lib.matching.units import (
    acoustic,
    artist,
    artist_style,
    colisten,
    context,
    emotion,
    genre,
    semantic,
)
from spotify_assets.lib.matching.units.base import SignalUnit

UNITS: tuple[SignalUnit, ...] = (
    semantic.UNIT,
    acoustic.UNIT,
    emotion.UNIT,
    genre.UNIT,
    colisten.UNIT,
    artist.UNIT,
    artist_style.UNIT,
    context.UNIT,
)
SIGNAL_NAMES: tuple[str, ...] = tuple(name for unit in UNITS for name in unit.names)

__all__ = ["SIGNAL_NAMES", "UNITS", "SignalUnit"]
