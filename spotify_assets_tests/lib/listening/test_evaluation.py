"""Metrics agree with sklearn; bootstrap estimates are honest whatever the resample lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from spotify_assets.lib.listening.evaluation import (
    ece,
    estimate,
    evaluate_mood,
    evaluate_session,
    macro_f1,
    mood_baselines,
    ovr_roc_auc,
    pr_auc,
    resample_indices,
    roc_auc,
)

RNG = np.random.default_rng(0)


def test_metrics_match_sklearn():
    y = RNG.random(500) < 0.3
    s = np.round(RNG.random(500) + 0.3 * y, 2)  # with ties
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s))
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    yk, pk = RNG.integers(0, 4, 500), RNG.integers(0, 4, 500)
    assert macro_f1(yk, pk, 5) == pytest.approx(f1_score(yk, pk, average="macro"))
    scores = RNG.dirichlet(np.ones(4), 500)
    assert ovr_roc_auc(yk, scores) == pytest.approx(roc_auc_score(yk, scores, multi_class="ovr"))
    assert ece(np.array([1, 0, 1, 0]), np.array([0.95, 0.95, 0.05, 0.05])) == pytest.approx(0.45)


def test_point_value_uses_every_row_whatever_the_resample_lengths():
    """Day blocks make resamples longer or shorter than the fold; neither may leak into the
    point value (longer used to crash with IndexError, shorter used a prefix of the fold)."""
    n = 120
    values = np.arange(n, dtype=float)
    mean = float(values.mean())
    longer = np.concatenate([np.arange(n), np.arange(40)])  # 160 rows
    shorter = np.arange(30)  # 30 rows
    for first in (longer, shorter):
        resamples = [first, RNG.integers(0, n, n)]
        result = estimate(lambda idx: float(values[idx].mean()), resamples, n)
        assert result["value"] == mean


def test_interval_is_the_percentile_interval_never_widened():
    """A statistic whose resamples all lie below the point value: the interval must say so."""
    y = np.r_[np.zeros(50), 1.0]
    resamples = [np.arange(50)] * 20  # never draws the one positive row
    result = estimate(lambda idx: float(y[idx].max()), resamples, 51)
    assert result["value"] == 1.0
    assert result["lo"] == result["hi"] == 0.0  # the point value lies outside: shown as it is


def test_day_blocks_vary_in_length_and_the_bootstrap_is_seeded():
    rows_per_day = RNG.integers(1, 30, 40)
    days = np.repeat(np.arange(40), rows_per_day)
    n = len(days)
    draws = resample_indices(n, days, 50, seed=3)
    assert len({len(d) for d in draws}) > 10  # lengths differ from the fold and each other
    assert any(len(d) > n for d in draws) and any(len(d) < n for d in draws)
    y = RNG.random(n) < 0.4
    s = RNG.random(n) + 0.5 * y
    a = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(n, days, 200, seed=1), n)
    b = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(n, days, 200, seed=1), n)
    c = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(n, days, 200, seed=2), n)
    assert a == b and a != c
    assert a["value"] == roc_auc(y, s)
    idx = draws[0]
    counts = np.bincount(days[idx], minlength=40)
    assert np.all((counts == 0) | (counts % rows_per_day == 0))  # whole days only


def test_evaluations_flag_a_clearly_better_model():
    n = 24 * 40
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = (RNG.random(n) < 0.2).astype(int)
    p = np.clip(0.15 + 0.6 * y + RNG.normal(0, 0.1, n), 0, 1)
    result = evaluate_session(y, p, p, np.full(n, 0.2), hours, n_boot=100)
    assert result["beats_baseline"]["pr_auc"] and result["beats_baseline"]["roc_auc"]
    assert set(result["by_daypart"]) == {"night", "morning", "afternoon", "evening"}

    k, yk = 3, RNG.integers(0, 3, n)
    scores = np.eye(k)[yk] * 0.7 + 0.1
    baselines = mood_baselines(np.full(n, -1), np.roll(yk, 1), 0)
    mood = evaluate_mood(yk, yk, scores, baselines, hours, n_boot=100)
    assert all(mood["beats_baseline"].values())
    assert set(mood["scores"]) == {"model", "majority", "same_as_previous", "last_known_mood"}
    assert mood["difference"]["macro_f1"]["baseline"] == "last_known_mood"  # the strongest


def test_a_served_baseline_ties_its_baseline_exactly():
    n = 24 * 20
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = RNG.integers(0, 4, n)
    last = np.where(RNG.random(n) < 0.7, y, RNG.integers(0, 4, n))
    baselines = mood_baselines(np.full(n, -1), last, 0)
    served = baselines["last_known_mood"]
    result = evaluate_mood(y, served, np.eye(4)[served], baselines, hours, n_boot=50)
    d = result["difference"]["macro_f1"]
    assert d["baseline"] == "last_known_mood" and d["value"] == d["lo"] == d["hi"] == 0.0
    assert not result["beats_baseline"]["macro_f1"]


def test_no_win_is_claimed_over_too_few_days():
    """Three days give an interval over three day-blocks: not evidence of anything."""
    n = 72
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))  # 3 days
    y = (RNG.random(n) < 0.3).astype(int)
    p = np.clip(0.1 + 0.8 * y, 0, 1)
    result = evaluate_session(y, p, p, np.full(n, 0.3), hours, n_boot=100)
    assert result["difference"]["pr_auc"]["lo"] > 0  # looks like a win
    assert result["days"] == 3 and not result["beats_baseline"]["pr_auc"]
