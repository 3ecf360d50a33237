"""Asset check results as numbers plus one sentence.

Every check result carries its numbers as separate numeric metadata entries (value, lower,
upper, threshold, …: the UI plots them over time) and a `description` that says in one
sentence what they mean, e.g. "macro-F1 +0.055 over same as previous, 95% CI [+0.011, +0.128]
lies above 0: the model beats it." A NaN (no estimate) is left out of the metadata rather than
stored as a number that is not one.
"""

from __future__ import annotations

import math
from typing import Any

# The listening modules these names come from import scipy and scikit-learn; they are imported
# where used so that loading the definitions stays fast.


def signed(x: float, digits: int = 3) -> str:
    """+0.055 / −0.053 (a real minus sign), 'n/a' for a missing value."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:+.{digits}f}".replace("-", "−")


def numbers(**values: Any) -> dict[str, float | int]:
    """Numeric metadata: ints stay ints, floats are rounded, None and NaN are left out."""
    out: dict[str, float | int] = {}
    for key, value in values.items():
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int):
            out[key] = value
        elif math.isfinite(float(value)):
            out[key] = round(float(value), 6)
    return out


def difference_metadata(entry: dict, days: int | None = None) -> dict[str, float | int]:
    """Model − best baseline with its 95% CI, as numbers."""
    from spotify_assets.lib.listening.evaluation import MIN_DAYS

    return numbers(
        value=entry.get("value"),
        lower=entry.get("lo"),
        upper=entry.get("hi"),
        threshold=0.0,
        days=days,
        min_days=MIN_DAYS if days is not None else None,
    )


def difference_sentence(metric: str, entry: dict, days: int | None = None) -> str:
    """One sentence on model − best baseline: where its CI lies against 0 and what that means."""
    from spotify_assets.lib.listening.dashboard import METRIC_NAMES, SYSTEM_NAMES
    from spotify_assets.lib.listening.evaluation import MIN_DAYS

    name = METRIC_NAMES.get(metric, metric)
    baseline = SYSTEM_NAMES.get(entry.get("baseline", ""), entry.get("baseline", "the baseline"))
    value, lo, hi = entry.get("value"), entry.get("lo"), entry.get("hi")
    head = f"{name} {signed(value)} over {baseline}"
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{head}, with no confidence interval (too few resamples): no evidence either way."
    ci = f"95% CI [{signed(lo)}, {signed(hi)}]"
    if lo > 0:
        if days is not None and days < MIN_DAYS:
            return (
                f"{head}, {ci} lies above 0, but the test weeks cover only {days} days "
                f"(at least {MIN_DAYS} needed): not yet evidence the model beats {baseline}."
            )
        return f"{head}, {ci} lies above 0: the model beats {baseline}."
    if hi < 0:
        return f"{head}, {ci} lies below 0: the model is worse than {baseline}."
    return f"{head}, {ci} includes 0: no evidence the model beats {baseline}."


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
