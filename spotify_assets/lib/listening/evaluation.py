"""Score models against baselines on the same test fold, with block-bootstrap confidence intervals.

A model only "beats" a baseline when the 95% CI of the paired difference (same resamples) lies
above 0. Resampling whole days keeps the within-day correlation of plays and hours in the CIs;
the bootstrap is the project's one (`lib/bootstrap.py`: `resample`, `interval`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from spotify_assets.lib.bootstrap import Interval, Resamples, interval, resample
from spotify_assets.lib.listening.datasets import DAY_PARTS, day_part_index, local_times
from spotify_assets.lib.listening.results import MODEL, Difference, Evaluation

N_BOOT = 500
# Fewer distinct days than this and day-block resamples are too few to tell anything: an
# interval over 3 days is 3 points wide. No "beats" is claimed below it.
MIN_DAYS = 7
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)

# -- metrics (plain numpy: they run thousands of times inside the bootstrap) -----------------


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    if len(y) == 0:
        return float("nan")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    count = np.bincount(idx, minlength=bins)
    gap = np.abs(np.bincount(idx, p, bins) - np.bincount(idx, y, bins))
    return float(gap.sum() / len(y)) if count.sum() else float("nan")


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half; NaN when one class is absent."""
    y = np.asarray(y, dtype=bool)
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    from scipy.stats import rankdata  # seconds to import: only scoring needs it

    ranks = rankdata(s)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def pr_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Average precision (step interpolation, tied scores as one threshold), like sklearn's."""
    y = np.asarray(y, dtype=float)
    pos = y.sum()
    if pos == 0:
        return float("nan")
    order = np.argsort(-np.asarray(s, dtype=float), kind="mergesort")
    s_sorted, y_sorted = np.asarray(s, dtype=float)[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted)), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last]
    precision = tp / (last + 1)
    recall = tp / pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def f1_binary(y: np.ndarray, pred: np.ndarray) -> float:
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    tp = np.sum(y & pred)
    denom = 2 * tp + np.sum(~y & pred) + np.sum(y & ~pred)
    return float(2 * tp / denom) if denom else 0.0


def macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Mean F1 over classes seen in y or pred (sklearn's macro average)."""
    tp = np.bincount(y[y == pred], minlength=n_classes)
    n_true = np.bincount(y, minlength=n_classes)
    n_pred = np.bincount(pred, minlength=n_classes)
    seen = (n_true + n_pred) > 0
    f1 = 2 * tp[seen] / (n_true[seen] + n_pred[seen])
    return float(f1.mean()) if seen.any() else float("nan")


def ovr_roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Macro one-vs-rest ROC-AUC over the classes that have positives and negatives in y."""
    aucs = [roc_auc(y == c, scores[:, c]) for c in np.unique(y)]
    aucs = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(aucs)) if aucs else float("nan")


# -- comparison ----------------------------------------------------------------------------


def _compare(
    scorers: dict[str, Callable[[str, np.ndarray], float]],
    metrics: Sequence[str],
    resamples: Resamples,
    higher_is_better: Sequence[str],
    days: int,
) -> Evaluation:
    """Every metric x scorer with CIs, then model − best baseline per metric (paired).

    "Beats" needs the difference's CI above 0 over at least MIN_DAYS distinct days."""
    scores = {
        m: {name: interval(lambda idx, f=f, m=m: f(m, idx), resamples) for name, f in scorers.items()}
        for m in metrics
    }  # fmt: skip
    model, baselines = scorers[MODEL], [s for s in scorers if s != MODEL]
    differences = {}
    for m in higher_is_better:
        best = max(baselines, key=lambda b: np.nan_to_num(scores[m][b].value, nan=-np.inf))
        base = scorers[best]
        diff = interval(lambda idx, m=m, base=base: model(m, idx) - base(m, idx), resamples)
        differences[m] = Difference(best, diff, diff.above_zero and days >= MIN_DAYS)
    return Evaluation(scores, differences, days, resamples.rows)


def day_part(hours: pd.Series | np.ndarray) -> np.ndarray:
    """Day-part names ("night", …) of local hours."""
    return np.array(list(DAY_PARTS), dtype=object)[day_part_index(np.asarray(hours))]


# -- mood ----------------------------------------------------------------------------------

MOOD_METRICS = ("accuracy", "macro_f1", "roc_auc")


def mood_baselines(
    current: np.ndarray, last_known: np.ndarray, majority: int
) -> dict[str, np.ndarray]:
    """Baseline predictions: the training fold's majority mood, the previous track's mood
    (majority when it has none) and the last mood known in the session (majority when none).

    "Same as previous" is what the issue's baseline says; "last known mood" is the stronger
    simple rule when most tracks have no features, so the model is held to both.
    """
    current, last_known = np.asarray(current), np.asarray(last_known)
    return {
        "majority": np.full(len(current), majority, dtype=np.int64),
        "same_as_previous": np.where(current >= 0, current, majority).astype(np.int64),
        "last_known_mood": np.where(last_known >= 0, last_known, majority).astype(np.int64),
    }


def evaluate_mood(
    y: np.ndarray,
    served: np.ndarray,
    served_scores: np.ndarray,
    baselines: dict[str, np.ndarray],
    played_at: pd.Series,
    n_boot: int = N_BOOT,
    seed: int = 0,
    tz: str = "UTC",
) -> Evaluation:
    """The served next-mood predictor ("model") vs each baseline on one test fold.

    `served` are its predicted moods and `served_scores` its (n, K) scores (ROC-AUC); baselines
    are scored as one-hot predictions. Details: macro-F1 against every baseline (not only the
    best) and the point values by part of day.
    """
    y = np.asarray(y, dtype=int)
    n_classes = np.asarray(served_scores).shape[1]
    eye = np.eye(n_classes)
    preds = {MODEL: np.asarray(served, dtype=int), **baselines}
    scores = {MODEL: np.asarray(served_scores), **{b: eye[p] for b, p in baselines.items()}}

    def scorer(name: str) -> Callable[[str, np.ndarray], float]:
        def score(metric: str, idx: np.ndarray) -> float:
            yt, pr = y[idx], preds[name][idx]
            if metric == "accuracy":
                return float(np.mean(yt == pr)) if len(yt) else float("nan")
            if metric == "macro_f1":
                return macro_f1(yt, pr, n_classes) if len(yt) else float("nan")
            return ovr_roc_auc(yt, scores[name][idx])

        return score

    local = local_times(played_at, tz)
    days = local.dt.date.to_numpy()
    resamples = resample(len(y), n_boot, seed, blocks=days)
    scorers = {name: scorer(name) for name in preds}
    result = _compare(scorers, MOOD_METRICS, resamples, MOOD_METRICS, len(set(days)))
    model = scorers[MODEL]
    result.details["macro_f1_vs_each"] = {  # paired, against every baseline, not only the best
        b: interval(lambda idx, f=scorers[b]: model("macro_f1", idx) - f("macro_f1", idx),
                    resamples).to_dict()
        for b in baselines
    }  # fmt: skip
    parts = day_part(local.dt.hour.to_numpy())
    result.details["by_daypart"] = {
        part: {
            "n": int((parts == part).sum()),
            **{
                name: {m: f(m, np.flatnonzero(parts == part)) for m in MOOD_METRICS}
                for name, f in scorers.items()
            },
        }
        for part in DAY_PARTS
    }
    result.details["n_classes"] = n_classes
    return result


# -- session -------------------------------------------------------------------------------


def hour_of_week_prior(train: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    """P(session start) per hour-of-week, from the training fold only (overall rate if unseen)."""
    rates = train.groupby("hour_of_week")["target"].mean()
    overall = float(train["target"].mean())
    return test["hour_of_week"].map(rates).fillna(overall).to_numpy(dtype=float)


def evaluate_session(
    y: np.ndarray,
    p_raw: np.ndarray,
    p_cal: np.ndarray,
    prior: np.ndarray,
    hour_start: pd.Series,
    thresholds: Sequence[float] = THRESHOLDS,
    n_boot: int = N_BOOT,
    seed: int = 0,
    tz: str = "UTC",
) -> Evaluation:
    """Model vs always-negative and the training hour-of-week prior, hourly test fold.

    Ranking metrics use the raw scores (calibration need not be strictly monotone); F1 at
    thresholds and ECE use probabilities: calibrated for the model, raw rates for the prior.
    The `ece` scores are the model's before and after calibration, and the prior's.
    """
    y = np.asarray(y, dtype=int)
    rank = {
        MODEL: np.asarray(p_raw),
        "always_negative": np.zeros(len(y)),
        "hour_of_week_prior": prior,
    }
    prob = {
        MODEL: np.asarray(p_cal),
        "always_negative": np.zeros(len(y)),
        "hour_of_week_prior": prior,
    }
    f1_names = [f"f1@{t:g}" for t in thresholds]

    def scorer(name: str) -> Callable[[str, np.ndarray], float]:
        def score(metric: str, idx: np.ndarray) -> float:
            yt = y[idx]
            if metric == "pr_auc":
                return pr_auc(yt, rank[name][idx])
            if metric == "roc_auc":
                return roc_auc(yt, rank[name][idx])
            return f1_binary(yt, prob[name][idx] >= float(metric[3:]))

        return score

    local = local_times(hour_start, tz)
    days = local.dt.date.to_numpy()
    resamples = resample(len(y), n_boot, seed, blocks=days)
    scorers = {name: scorer(name) for name in rank}
    metrics = ["pr_auc", "roc_auc", *f1_names]
    result = _compare(scorers, metrics, resamples, metrics, len(set(days)))
    raw, cal = np.asarray(p_raw), np.asarray(p_cal)
    # ECE is the model's calibration: before and after, next to the prior's own rates
    result.scores["ece"] = {
        "before_calibration": interval(lambda idx: ece(y[idx], raw[idx]), resamples),
        "after_calibration": interval(lambda idx: ece(y[idx], cal[idx]), resamples),
        "hour_of_week_prior": interval(lambda idx: ece(y[idx], prior[idx]), resamples),
    }
    parts = day_part(local.dt.hour.to_numpy())
    result.details["by_daypart"] = {
        part: {
            "n": int((parts == part).sum()),
            "positives": int(y[parts == part].sum()),
            **{
                name: {m: f(m, np.flatnonzero(parts == part)) for m in ("pr_auc", "roc_auc")}
                for name, f in scorers.items()
            },
        }
        for part in DAY_PARTS
    }
    result.details["positives"] = int(y.sum())
    return result


# -- report --------------------------------------------------------------------------------


def _fmt(e: Interval | None) -> str:
    return "–" if e is None else f"{e.value:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


def format_report(mood: Evaluation | None, session: Evaluation) -> str:
    """Plain-text table: each metric with CI for the model next to each baseline."""
    lines = []
    if mood is not None:
        lines.append(f"mood (test n={mood.n}, K={mood.details.get('n_classes')})")
        for m in MOOD_METRICS:
            cells = "  ".join(f"{name}={_fmt(iv)}" for name, iv in mood.scores[m].items())
            d = mood.differences[m]
            lines.append(f"  {m:9s} {cells}  diff vs {d.baseline}={_fmt(d.interval)}")
    positives = session.details.get("positives")
    lines.append(f"session (test hours={session.n}, starts={positives})")
    for m in ("pr_auc", "roc_auc", "f1@0.3"):
        cells = "  ".join(f"{name}={_fmt(iv)}" for name, iv in session.scores[m].items())
        d = session.differences[m]
        lines.append(f"  {m:9s} {cells}  diff vs {d.baseline}={_fmt(d.interval)}")
    e = session.scores["ece"]
    lines.append(
        f"  ECE before={_fmt(e['before_calibration'])}  after={_fmt(e['after_calibration'])}  "
        f"prior={_fmt(e['hour_of_week_prior'])}"
    )
    return "\n".join(lines)
