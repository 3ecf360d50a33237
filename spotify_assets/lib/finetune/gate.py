"""Promote a fine-tuned bundle only when it is clearly better on both suites.

Paired per-item scores (the same held-out songs, the same search queries) for the base and
the fine-tuned bundle; the mean difference must exceed `margin` AND its bootstrap 95% CI
must lie above 0, on the matching harness and on the search suite alike. Otherwise the base
stays active and the decision says which suite failed and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.bootstrap import N_BOOT, paired_difference

MARGIN = 0.01


@dataclass(frozen=True)
class SuiteVerdict:
    suite: str
    difference: float
    lo: float
    hi: float
    items: int
    passed: bool
    why: str


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    verdicts: list[SuiteVerdict] = field(default_factory=list)

    @property
    def reason(self) -> str:
        failed = [v for v in self.verdicts if not v.passed]
        if not failed:
            return "promoted: " + "; ".join(v.why for v in self.verdicts)
        return "base kept: " + "; ".join(v.why for v in failed)


def compare(
    suite: str,
    base: np.ndarray,
    tuned: np.ndarray,
    margin: float = MARGIN,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> SuiteVerdict:
    """Paired bootstrap of mean(tuned − base) over items."""
    base, tuned = np.asarray(base, float), np.asarray(tuned, float)
    if base.shape != tuned.shape:
        raise ValueError(f"{suite}: scores are not paired ({base.shape} vs {tuned.shape})")
    if not len(base):
        return SuiteVerdict(suite, float("nan"), float("nan"), float("nan"), 0, False,
                            f"{suite}: nothing to compare")  # fmt: skip
    diff = paired_difference(tuned, base, n_boot=n_boot, seed=seed)
    mean, lo, hi = diff.value, diff.lo, diff.hi
    passed = mean > margin and lo > 0
    why = f"{suite} {mean:+.3f} (95% CI {lo:+.3f}..{hi:+.3f}, {diff.n} items)" + (
        "" if passed else f", needs > {margin:+.3f} with the CI above 0"
    )
    return SuiteVerdict(suite, mean, lo, hi, diff.n, passed, why)


def decide(
    suites: Mapping[str, tuple[np.ndarray, np.ndarray]], margin: float = MARGIN, seed: int = 0
) -> GateDecision:
    """Promote only if every suite (e.g. "matching", "search") passes `compare`."""
    verdicts = [compare(name, b, t, margin, seed=seed) for name, (b, t) in suites.items()]
    return GateDecision(bool(verdicts) and all(v.passed for v in verdicts), verdicts)


def paired(base: Mapping[str, float], tuned: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the items both runs have (held-out memberships, search queries), aligned."""
    common = sorted(set(base) & set(tuned))
    return (
        np.array([base[k] for k in common], dtype=float),
        np.array([tuned[k] for k in common], dtype=float),
    )
