"""Has this person's behaviour changed? Last 7 days vs the 30 days before, with honest tests.

An alarm needs all three: a small p-value after Bonferroni over every metric, an effect size
above a floor (so huge histories do not alarm on trivia), and enough data in both windows
(otherwise the metric says "insufficient data" and never alarms).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.sessions import sessionize

FEATURE_METRICS: tuple[str, ...] = (
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "tempo_norm",
)
METRICS: tuple[str, ...] = (
    "session_duration_min",
    "sessions_per_day",
    "tracks_per_day",
    "start_hour_entropy",
    *FEATURE_METRICS,
)
INSUFFICIENT = "insufficient data"
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class DriftConfig:
    """Windows, significance and the floors that keep the detector quiet on noise."""

    recent_days: int = 7
    baseline_days: int = 30
    alpha: float = 0.01  # family-wise, split over METRICS (Bonferroni)
    min_days: int = 5  # days with plays, per window, for every metric
    min_plays: int = 30  # per window, per feature metric
    min_sessions: int = 10  # per window, for session metrics
    ks_floor: float = 0.15  # KS distance D
    rate_floor: float = float(np.log(1.3))  # |log rate ratio|: at least a 30% change
    entropy_floor: float = 0.25  # bits
    permutations: int = 2000  # enough for p down to ~5e-4 (< alpha / 9)
    psi_bins: int = 10
    gap_minutes: float = 30
    seed: int = 0


@dataclass
class DriftMetric:
    """One metric's comparison; `effect` is KS D, log rate ratio or entropy difference (bits)."""

    name: str
    unit: str  # what one observation is: "session", "day" or "play"
    test: str
    status: str  # "drifted" | "no drift" | INSUFFICIENT
    drifted: bool
    recent: dict[str, float]
    baseline: dict[str, float]
    statistic: float | None = None
    p_value: float | None = None
    effect: float | None = None
    effect_floor: float | None = None
    psi: float | None = None


@dataclass
class DriftReport:
    now: pd.Timestamp
    recent_start: pd.Timestamp
    baseline_start: pd.Timestamp
    alpha: float
    alpha_corrected: float
    metrics: list[DriftMetric] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(m.drifted for m in self.metrics)

    @property
    def drifted_metrics(self) -> list[str]:
        return [m.name for m in self.metrics if m.drifted]

    def metric(self, name: str) -> DriftMetric:
        return next(m for m in self.metrics if m.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "recent_start": self.recent_start.isoformat(),
            "baseline_start": self.baseline_start.isoformat(),
            "alpha": self.alpha,
            "alpha_corrected": self.alpha_corrected,
            "drifted": self.drifted,
            "drifted_metrics": self.drifted_metrics,
            "metrics": [asdict(m) for m in self.metrics],
        }


# --- statistics ---------------------------------------------------------------------------------


def _summary(x: np.ndarray) -> dict[str, float]:
    if len(x) == 0:
        return {"n": 0}
    q10, q50, q90 = np.quantile(x, [0.1, 0.5, 0.9])
    return {
        "n": len(x),
        "mean": float(x.mean()),
        "p10": float(q10),
        "median": float(q50),
        "p90": float(q90),
    }


def psi(baseline: np.ndarray, recent: np.ndarray, bins: int = 10) -> float:
    """Population stability index over baseline-quantile bins (0.1 small, 0.25 large)."""
    edges = np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1)[1:-1]))
    b = np.bincount(np.searchsorted(edges, baseline, side="right"), minlength=len(edges) + 1)
    r = np.bincount(np.searchsorted(edges, recent, side="right"), minlength=len(edges) + 1)
    pb = np.clip(b / b.sum(), 1e-4, None)
    pr = np.clip(r / r.sum(), 1e-4, None)
    return float(((pr - pb) * np.log(pr / pb)).sum())


def ks_effective(
    recent: np.ndarray, baseline: np.ndarray, n_eff: tuple[int, int]
) -> tuple[float, float]:
    """KS distance with its p-value from effective sample sizes.

    Plays in one session share a mood, so they are not independent; scoring D as if there were
    only as many observations as sessions keeps the p-value honest (conservative).
    """
    from scipy import stats  # a second to import: only the statistical tests need it

    d = float(stats.ks_2samp(recent, baseline).statistic)
    n1, n2 = n_eff
    lam = d * np.sqrt(n1 * n2 / (n1 + n2))
    return d, float(stats.kstwobign.sf(lam))


def rate_test(recent: np.ndarray, baseline: np.ndarray) -> tuple[float, float, float]:
    """Mann-Whitney U on daily counts: (U, p, log rate ratio).

    Rank-based, so heavy-tailed days (one binge of long sessions) cannot fake a rate change the
    way they do under a Poisson or quasi-Poisson normal approximation; days are the unit, so
    tracks clustered within sessions are not double-counted as evidence.
    """
    from scipy import stats  # a second to import: only the statistical tests need it

    res = stats.mannwhitneyu(recent, baseline, alternative="two-sided", method="asymptotic")
    t1, t2 = len(recent), len(baseline)
    effect = float(np.log((recent.sum() + 0.5) / t1) - np.log((baseline.sum() + 0.5) / t2))
    return float(res.statistic), float(res.pvalue), effect


def _entropy_bits(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy (bits) of each row of a count matrix."""
    total = counts.sum(axis=-1, keepdims=True)
    p = counts / np.where(total > 0, total, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=-1)


def entropy_permutation(
    recent_hours: np.ndarray, baseline_hours: np.ndarray, permutations: int, seed: int
) -> tuple[float, float]:
    """Difference in start-hour entropy and its permutation p-value (vectorized over shuffles).

    Plug-in entropy is biased low for small samples; permuting window labels at fixed sizes
    carries the same bias under the null, so the test stays exact.
    """
    h1 = _entropy_bits(np.bincount(recent_hours, minlength=24))
    h0 = _entropy_bits(np.bincount(baseline_hours, minlength=24))
    observed = float(h1 - h0)
    pooled = np.concatenate([recent_hours, baseline_hours])
    n1 = len(recent_hours)
    rng = np.random.default_rng(seed)
    pick = rng.random((permutations, len(pooled))).argsort(axis=1)[:, :n1]
    rows = np.repeat(np.arange(permutations), n1)
    counts1 = np.bincount(rows * 24 + pooled[pick].ravel(), minlength=permutations * 24)
    counts1 = counts1.reshape(permutations, 24)
    counts0 = np.bincount(pooled, minlength=24)[None, :] - counts1
    diffs = _entropy_bits(counts1) - _entropy_bits(counts0)
    p = (1 + np.count_nonzero(np.abs(diffs) >= abs(observed) - 1e-12)) / (permutations + 1)
    return observed, float(p)


# --- windows ------------------------------------------------------------------------------------


@dataclass
class _Windows:
    plays: pd.DataFrame  # plays in either window, with "day" (0 = last 24 h) and "recent"
    sessions: pd.DataFrame  # one row per session started in either window
    recent_days: int
    baseline_days: int  # shorter than configured when the history starts later
    days_with_plays: tuple[int, int]  # (recent, baseline)


def _windows(plays: pd.DataFrame, now: pd.Timestamp, cfg: DriftConfig) -> _Windows:
    if "session_id" not in plays.columns:
        plays = sessionize(plays, gap_minutes=cfg.gap_minutes)
    span = cfg.recent_days + cfg.baseline_days
    age = (now - plays["played_at"]) / _DAY
    first_age = float(age.max()) if len(age) else 0.0
    baseline_days = int(np.clip(np.floor(first_age) + 1 - cfg.recent_days, 0, cfg.baseline_days))
    inside = (age >= 0) & (age < span)
    p = plays[inside].copy()
    p["day"] = np.floor(age[inside]).astype(int)
    p["recent"] = p["day"] < cfg.recent_days
    s_age = (now - plays["session_start"]) / _DAY
    s = plays[(plays["position"] == 0) & (s_age >= 0) & (s_age < span)].copy()
    s["day"] = np.floor(s_age[s.index]).astype(int)
    s["recent"] = s["day"] < cfg.recent_days
    active = p.groupby("recent")["day"].nunique()
    return _Windows(
        p,
        s,
        cfg.recent_days,
        baseline_days,
        (int(active.get(True, 0)), int(active.get(False, 0))),
    )


def _daily_counts(day: pd.Series, w: _Windows) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(day.to_numpy(), minlength=w.recent_days + w.baseline_days)
    return counts[: w.recent_days], counts[w.recent_days : w.recent_days + w.baseline_days]


# --- metrics ------------------------------------------------------------------------------------


def _decide(metric: DriftMetric, alpha: float, enough: bool) -> DriftMetric:
    if not enough:
        metric.status, metric.drifted = INSUFFICIENT, False
        return metric
    metric.drifted = bool(
        metric.p_value is not None
        and metric.p_value < alpha
        and metric.effect is not None
        and abs(metric.effect) >= (metric.effect_floor or 0.0)
    )
    metric.status = "drifted" if metric.drifted else "no drift"
    return metric


def detect_drift(
    plays: pd.DataFrame, now: pd.Timestamp | None = None, config: DriftConfig | None = None
) -> DriftReport:
    """Compare the last `recent_days` with the `baseline_days` before, relative to `now`.

    `now` defaults to the latest play. Pass one person's plays (sessionized or not); windows are
    half-open, (now - 7 d, now] and (now - 37 d, now - 7 d], and sessions belong to the window
    their start falls in. Start hours are UTC.
    """
    from scipy import stats  # a second to import: only the statistical tests need it

    cfg = config or DriftConfig()
    plays = plays.assign(played_at=pd.to_datetime(plays["played_at"], utc=True))
    now = plays["played_at"].max() if now is None else pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize("UTC")
    w = _windows(plays, now, cfg)
    alpha = cfg.alpha / len(METRICS)
    days_ok = min(w.days_with_plays) >= cfg.min_days
    s_recent, s_base = w.sessions[w.sessions["recent"]], w.sessions[~w.sessions["recent"]]
    sessions_ok = days_ok and min(len(s_recent), len(s_base)) >= cfg.min_sessions
    metrics: list[DriftMetric] = []

    # Session duration: one value per session, independent enough for a plain KS test.
    d1 = s_recent["session_duration_min"].to_numpy(float)
    d0 = s_base["session_duration_min"].to_numpy(float)
    m = DriftMetric(
        "session_duration_min", "session", "ks_2samp", "", False, _summary(d1), _summary(d0)
    )
    if sessions_ok:
        res = stats.ks_2samp(d1, d0)
        m.statistic, m.p_value, m.effect = (
            float(res.statistic),
            float(res.pvalue),
            float(res.statistic),
        )
        m.psi = psi(d0, d1, cfg.psi_bins)
    m.effect_floor = cfg.ks_floor
    metrics.append(_decide(m, alpha, sessions_ok))

    # Daily counts, zero days included, compared by rank.
    for name, day in (("sessions_per_day", w.sessions["day"]), ("tracks_per_day", w.plays["day"])):
        c1, c0 = _daily_counts(day, w)
        m = DriftMetric(
            name, "day", "mann_whitney_u", "", False, _count_summary(c1), _count_summary(c0)
        )
        enough = days_ok and len(c0) >= cfg.min_days
        if enough:
            m.statistic, m.p_value, m.effect = rate_test(c1, c0)
        m.effect_floor = cfg.rate_floor
        metrics.append(_decide(m, alpha, enough))

    # Start-hour entropy: how spread over the day sessions are.
    hours1 = s_recent["session_start"].dt.hour.to_numpy(np.int64)
    hours0 = s_base["session_start"].dt.hour.to_numpy(np.int64)
    m = DriftMetric(
        "start_hour_entropy",
        "session",
        "permutation",
        "",
        False,
        {"n": len(hours1), "entropy_bits": float(_entropy_bits(np.bincount(hours1, minlength=24)))},
        {"n": len(hours0), "entropy_bits": float(_entropy_bits(np.bincount(hours0, minlength=24)))},
    )
    if sessions_ok:
        m.effect, m.p_value = entropy_permutation(hours1, hours0, cfg.permutations, cfg.seed)
        m.statistic = m.effect
    m.effect_floor = cfg.entropy_floor
    metrics.append(_decide(m, alpha, sessions_ok))

    # Audio features per play, KS with sessions as the effective sample size.
    p = w.plays
    if "tempo_norm" not in p.columns and "tempo" in p.columns:
        p = p.assign(tempo_norm=(pd.to_numeric(p["tempo"], errors="coerce") / 250.0).clip(0, 1))
    for name in FEATURE_METRICS:
        col = pd.to_numeric(p[name], errors="coerce") if name in p.columns else None
        known = p[col.notna()] if col is not None else p.iloc[0:0]
        r, b = known[known["recent"]], known[~known["recent"]]
        x1 = pd.to_numeric(r[name]).to_numpy(float) if len(r) else np.empty(0)
        x0 = pd.to_numeric(b[name]).to_numpy(float) if len(b) else np.empty(0)
        m = DriftMetric(name, "play", "ks_2samp_session_n", "", False, _summary(x1), _summary(x0))
        enough = days_ok and min(len(x1), len(x0)) >= cfg.min_plays
        if enough:
            n_eff = (
                min(len(x1), r["session_id"].nunique()),
                min(len(x0), b["session_id"].nunique()),
            )
            m.statistic, m.p_value = ks_effective(x1, x0, n_eff)
            m.effect = m.statistic
            m.psi = psi(x0, x1, cfg.psi_bins)
        m.effect_floor = cfg.ks_floor
        metrics.append(_decide(m, alpha, enough))

    return DriftReport(
        now=now,
        recent_start=now - cfg.recent_days * _DAY,
        baseline_start=now - (cfg.recent_days + cfg.baseline_days) * _DAY,
        alpha=cfg.alpha,
        alpha_corrected=alpha,
        metrics=metrics,
    )


def _count_summary(counts: np.ndarray) -> dict[str, float]:
    if len(counts) == 0:
        return {"days": 0}
    return {
        "days": len(counts),
        "days_with_plays": int(np.count_nonzero(counts)),
        "total": int(counts.sum()),
        "per_day": float(counts.mean()),
        "variance": float(counts.var(ddof=1)) if len(counts) > 1 else 0.0,
    }
