"""Bootstrap confidence intervals, one result type (`Interval`) for every caller.

Paired items are the same held-out memberships, playlists, queries or days scored by two
systems; resampling them with replacement gives the 95% interval of the mean difference.
`blocks` resamples whole groups of items instead (days of a listening history, whose plays
are not independent).

A metric that is not a mean of per-item scores (macro-F1, ROC-AUC, ECE) needs the rows
themselves: `resample` draws row indices once (whole blocks at a time) and `interval` scores a
statistic on each draw, so every system compared on the same draws is paired. For a mean
difference the two agree exactly (same seed, same blocks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

N_BOOT = 1000


@dataclass(frozen=True)
class Interval:
    value: float  # the mean difference (new − old)
    lo: float
    hi: float
    n: int  # items (or blocks) resampled

    def text(self, digits: int = 3) -> str:
        return f"{self.value:+.{digits}f} (95% CI {self.lo:+.{digits}f}..{self.hi:+.{digits}f})"

    @property
    def above_zero(self) -> bool:
        """The whole interval lies above 0: the evidence a difference is a gain."""
        return math.isfinite(self.lo) and self.lo > 0

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | float | None) -> Interval:
        """From `to_dict` (missing numbers as None, as JSON keeps NaN); a bare number is a point
        with no interval. Listening documents written before this type spelled the bounds
        `low`/`high`: they are read too."""
        if not isinstance(data, Mapping):
            return cls(_float(data), math.nan, math.nan, 0)
        lo = data["lo"] if "lo" in data else data.get("low")
        hi = data["hi"] if "hi" in data else data.get("high")
        return cls(_float(data.get("value")), _float(lo), _float(hi), int(data.get("n") or 0))


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class Resamples:
    """Bootstrap draws of row indices, made once so that every statistic scored on them is
    paired with every other."""

    rows: int  # rows in the sample (the point value uses all of them)
    units: int  # items or blocks drawn with replacement
    draws: tuple[np.ndarray, ...]


def resample(
    n: int, n_boot: int = N_BOOT, seed: int = 0, blocks: np.ndarray | None = None
) -> Resamples:
    """`n_boot` draws of `n` row indices; with `blocks`, of whole blocks (a draw is as long as
    its blocks make it), drawn in the same order as `paired_difference` draws them."""
    rng = np.random.default_rng(seed)
    if blocks is None:
        return Resamples(n, n, tuple(rng.integers(0, n, n) for _ in range(n_boot)))
    codes, labels = pd.factorize(pd.Series(np.asarray(blocks)), sort=True)
    members = [np.flatnonzero(codes == b) for b in range(len(labels))]
    picks = rng.integers(0, len(members), (n_boot, len(members)))
    draws = tuple(
        np.concatenate([members[b] for b in row]) if len(row) else np.zeros(0, dtype=np.int64)
        for row in picks
    )
    return Resamples(n, len(members), draws)


def interval(statistic: Callable[[np.ndarray], float], resamples: Resamples) -> Interval:
    """The statistic on all rows, with the 2.5/97.5 percentiles of it over the draws.

    The interval is reported as computed, never stretched to hold the point value: a point
    outside its own interval says the statistic is skewed or unstable on this sample, which the
    reader should see. Draws on which the statistic is undefined (NaN) are left out.
    """
    n = resamples.rows
    value = float(statistic(np.arange(n))) if n else math.nan
    boots = np.array([statistic(idx) for idx in resamples.draws], dtype=float)
    boots = boots[~np.isnan(boots)]
    if not len(boots):
        return Interval(value, math.nan, math.nan, resamples.units)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return Interval(value, float(lo), float(hi), resamples.units)


def paired_difference(
    new: np.ndarray,
    old: np.ndarray,
    n_boot: int = N_BOOT,
    seed: int = 0,
    blocks: np.ndarray | None = None,
) -> Interval:
    """Mean of `new − old` over paired items with its bootstrap 95% interval."""
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    if new.shape != old.shape:
        raise ValueError(f"scores are not paired: {new.shape} vs {old.shape}")
    diff = new - old
    if not len(diff):
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    if blocks is None:
        boots = diff[rng.integers(0, len(diff), (n_boot, len(diff)))].mean(axis=1)
        n = len(diff)
    else:
        labels, codes = np.unique(np.asarray(blocks), return_inverse=True)
        sums = np.bincount(codes, weights=diff, minlength=len(labels))
        counts = np.bincount(codes, minlength=len(labels))
        pick = rng.integers(0, len(labels), (n_boot, len(labels)))
        boots = sums[pick].sum(axis=1) / np.maximum(counts[pick].sum(axis=1), 1)
        n = len(labels)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return Interval(float(diff.mean()), float(lo), float(hi), n)


def mean_of_means(groups: Sequence[np.ndarray], n_boot: int = N_BOOT, seed: int = 0) -> Interval:
    """The mean over groups (e.g. people) of each group's mean difference, each group weighing
    the same however many items it has; the interval resamples items within each group (the
    groups are the ones measured, not a sample of groups)."""
    groups = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not groups:
        return Interval(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    boots = np.mean(
        [g[rng.integers(0, len(g), (n_boot, len(g)))].mean(axis=1) for g in groups], axis=0
    )
    lo, hi = np.percentile(boots, [2.5, 97.5])
    value = float(np.mean([g.mean() for g in groups]))
    return Interval(value, float(lo), float(hi), len(groups))
