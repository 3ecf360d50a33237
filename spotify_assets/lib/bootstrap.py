"""Bootstrap confidence intervals of a mean difference over paired items.

Paired items are the same held-out memberships, playlists, queries or days scored by two
systems; resampling them with replacement gives the 95% interval of the mean difference.
`blocks` resamples whole groups of items instead (days of a listening history, whose plays
are not independent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

N_BOOT = 1000


@dataclass(frozen=True)
class Interval:
    value: float  # the mean difference (new − old)
    lo: float
    hi: float
    n: int  # items (or blocks) resampled

    def text(self, digits: int = 3) -> str:
        return f"{self.value:+.{digits}f} (95% CI {self.lo:+.{digits}f}..{self.hi:+.{digits}f})"


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
