"""Stretches missing from a history: read as absent data, never as silence.

A privacy export can lack whole months or years (one real listener's lacked a year). Counted as
silence, such a stretch becomes thousands of hours in which "no session started", which the
session model is trained and scored on, and a year of empty weeks in the dashboard.

The rule: between a person's first and last play, a stretch of at least `GAP_DAYS` (four weeks)
without a single play is a gap. Someone who listens at all rarely goes a month without a play,
while a week or two away (a holiday) is real silence and stays in the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

GAP_DAYS = 28
_INSTANT = pd.Timedelta(0)


@dataclass(frozen=True)
class Gap:
    """No plays after `last_before` until `first_after` (both plays, UTC)."""

    last_before: pd.Timestamp
    first_after: pd.Timestamp

    @property
    def weeks(self) -> int:
        """Whole weeks without a play."""
        return int((self.first_after - self.last_before) / pd.Timedelta(weeks=1))

    def covers(self, starts: pd.Series, width: pd.Timedelta = _INSTANT) -> np.ndarray:
        """Which intervals [start, start + width) lie wholly inside the gap (the hours holding
        the plays on either side do not)."""
        t = pd.to_datetime(pd.Series(starts), utc=True)
        return ((t > self.last_before) & (t + width <= self.first_after)).to_numpy()

    def describe(self, tz: str = "UTC") -> str:
        start, end = (t.tz_convert(tz).strftime("%Y-%m-%d") for t in (self.last_before, self.first_after))
        return f"no plays from {start} to {end} ({self.weeks} weeks)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_before": self.last_before.isoformat(),
            "first_after": self.first_after.isoformat(),
            "weeks": self.weeks,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Gap:
        return cls(_utc(data["last_before"]), _utc(data["first_after"]))


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def find_gaps(played_at: pd.Series, min_days: float = GAP_DAYS) -> list[Gap]:
    """Every stretch of at least `min_days` between consecutive plays, oldest first."""
    t = pd.to_datetime(pd.Series(played_at), utc=True).dropna().sort_values()
    if len(t) < 2:
        return []
    step = t.diff()
    long = np.flatnonzero((step >= pd.Timedelta(days=min_days)).to_numpy())
    return [Gap(t.iloc[i - 1], t.iloc[i]) for i in long]


def in_gaps(
    starts: pd.Series, gaps: Sequence[Gap], width: pd.Timedelta = _INSTANT
) -> np.ndarray:
    """Which intervals [start, start + width) lie wholly inside one of `gaps`."""
    mask = np.zeros(len(starts), dtype=bool)
    for gap in gaps:
        mask |= gap.covers(starts, width)
    return mask


def describe_gaps(gaps: Sequence[Gap], tz: str = "UTC") -> str:
    """One sentence for summaries and logs; "" when the history has no gap."""
    if not gaps:
        return ""
    stretches = "; ".join(g.describe(tz) for g in gaps)
    return (
        f"the history has {'a gap' if len(gaps) == 1 else f'{len(gaps)} gaps'} ({stretches}): "
        "missing from the export, not silence, so left out of the session model's weeks"
    )
