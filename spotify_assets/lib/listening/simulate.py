"""Synthetic listening histories with known truth, to measure the drift detector's error rates.

A stable history is stationary by construction: Poisson session starts from one fixed
hour-of-week rate profile, one session-length law, one mood mixture. Anything the detector flags
on it is a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.drift import DriftConfig, detect_drift

START = pd.Timestamp("2024-01-01", tz="UTC")  # a Monday, so day-of-week is days % 7

# Mood mixture: (weight, valence, energy, danceability, acousticness, instrumentalness, tempo).
MOOD_MIXTURE = np.array(
    [
        [0.35, 0.70, 0.75, 0.70, 0.15, 0.05, 124.0],  # upbeat pop
        [0.25, 0.35, 0.35, 0.45, 0.75, 0.10, 95.0],  # quiet acoustic
        [0.20, 0.30, 0.85, 0.55, 0.05, 0.60, 140.0],  # dark electronic
        [0.20, 0.50, 0.20, 0.30, 0.85, 0.85, 80.0],  # ambient / classical
    ]
)
FEATURE_SD = np.array([0.10, 0.10, 0.10, 0.10, 0.10, 12.0])
FEATURES = ("valence", "energy", "danceability", "acousticness", "instrumentalness", "tempo")


def hour_of_week_profile() -> np.ndarray:
    """Relative session rate for each of the 168 hours of the week (Monday 00:00 first)."""
    day = np.array([0.1] * 7 + [1.0] * 3 + [0.6] * 7 + [1.3] * 6 + [0.4], dtype=float)
    weekend = np.array([0.2] * 9 + [0.8] * 9 + [1.2] * 5 + [0.6], dtype=float)
    return np.concatenate([np.tile(day, 5), np.tile(weekend, 2)])


@dataclass(frozen=True)
class SimConfig:
    # Poisson starts that land within 30 min of the previous session's end merge with it, so the
    # observed session rate saturates; modest rates and short sessions keep a rate change visible.
    sessions_per_day: float = 4.0
    mean_session_tracks: float = 5.0
    skip_rate: float = 0.15
    unknown_rate: float = 0.02  # plays without a track id / audio features
    n_tracks: int = 500


def _history(
    seed: int,
    days: int,
    person: str,
    cfg: SimConfig,
    shift_days: int = 0,
    rate_factor: float = 1.0,
    energy_shift: float = 0.0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    profile = hour_of_week_profile()
    hours = np.arange(days * 24)
    rate = profile[hours % 168] * cfg.sessions_per_day / profile.mean() / 24.0
    shifted_hours = hours >= (days - shift_days) * 24
    rate = np.where(shifted_hours, rate * rate_factor, rate)
    per_hour = rng.poisson(rate)
    start_s = np.repeat(hours * 3600.0, per_hour) + rng.uniform(0, 3600, per_hour.sum())
    start_s.sort()
    n_sessions = len(start_s)

    lengths = rng.geometric(1.0 / cfg.mean_session_tracks, n_sessions)
    session = np.repeat(np.arange(n_sessions), lengths)
    n = len(session)
    skip = rng.random(n) < cfg.skip_rate
    ms = np.where(skip, rng.uniform(3_000, 29_000, n), rng.lognormal(np.log(210_000), 0.3, n))
    step = ms / 1000.0 + rng.uniform(0, 2, n)  # seconds until the next track starts
    # Offset within the session: cumulative steps, restarted at each session boundary.
    cum = np.cumsum(step)
    first = np.r_[0, np.cumsum(lengths)[:-1]]
    offset = cum - step - np.repeat(cum[first] - step[first], lengths)
    played_s = start_s[session] + offset

    component = rng.choice(len(MOOD_MIXTURE), n_sessions, p=MOOD_MIXTURE[:, 0])[session]
    feats = MOOD_MIXTURE[component, 1:] + rng.normal(0, 1, (n, 6)) * FEATURE_SD
    feats[:, :5] = feats[:, :5].clip(0, 1)
    late = played_s >= (days - shift_days) * 86_400.0
    feats[late, 1] = (feats[late, 1] + energy_shift).clip(0, 1)
    unknown = rng.random(n) < cfg.unknown_rate
    feats[unknown] = np.nan

    played_at = START + pd.to_timedelta(played_s, unit="s")
    frame = pd.DataFrame(
        {
            "person": person,
            "played_at": played_at,
            "ended_at": played_at + pd.to_timedelta(ms, unit="ms"),
            "ms_played": ms.astype(np.int64),
            "track_id": pd.Series(
                "t" + pd.Series(rng.integers(0, cfg.n_tracks, n)).astype(str), dtype=object
            ).where(~unknown, None),
        }
    )
    for i, name in enumerate(FEATURES):
        frame[name] = feats[:, i]
    return frame[frame["played_at"] < START + pd.Timedelta(days=days)].reset_index(drop=True)


def stable_history(
    seed: int, days: int = 60, person: str = "sim", config: SimConfig | None = None
) -> pd.DataFrame:
    """A stationary history: nothing about the person changes over `days`."""
    return _history(seed, days, person, config or SimConfig())


def shifted_history(
    seed: int,
    days: int = 60,
    person: str = "sim",
    config: SimConfig | None = None,
    shift_days: int = 7,
    rate_factor: float = 3.0,
    energy_shift: float = 0.4,
) -> pd.DataFrame:
    """Like `stable_history` but the last `shift_days` have more sessions and higher energy.

    The generated session rate triples by default: session merging (see SimConfig) shrinks a
    nominal doubling to ~1.5x observed, which 7 days cannot establish at Bonferroni alpha.
    """
    return _history(
        seed, days, person, config or SimConfig(), shift_days, rate_factor, energy_shift
    )


def false_alarm_rate(
    n: int = 100, seed: int = 0, days: int = 37, config: DriftConfig | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Share of `n` stable histories on which `detect_drift` raises any alarm."""
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, n)
    details = []
    for s in seeds:
        report = detect_drift(stable_history(int(s), days=days), config=config)
        p_values = [m.p_value for m in report.metrics if m.p_value is not None]
        details.append(
            {
                "seed": int(s),
                "drifted_metrics": report.drifted_metrics,
                "min_p": min(p_values) if p_values else None,
            }
        )
    rate = sum(bool(d["drifted_metrics"]) for d in details) / max(n, 1)
    return rate, details
