"""Metrics agree with sklearn; bootstrap estimates are honest whatever the resample lengths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from spotify_assets.lib.bootstrap import Interval, Resamples, interval, paired_difference, resample
from spotify_assets.lib.listening.evaluation import (
    ece,
    evaluate_mood,
    evaluate_session,
    macro_f1,
    mood_baselines,
    ovr_roc_auc,
    pr_auc,
    roc_auc,
)
from spotify_assets.lib.listening.mood_policy import REPEAT, SUCCESSOR, PolicyRows, choose_policy

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
        resamples = Resamples(n, n, (first, RNG.integers(0, n, n)))
        result = interval(lambda idx: float(values[idx].mean()), resamples)
        assert result.value == mean


def test_interval_is_the_percentile_interval_never_widened():
    """A statistic whose resamples all lie below the point value: the interval must say so."""
    y = np.r_[np.zeros(50), 1.0]
    resamples = Resamples(51, 51, (np.arange(50),) * 20)  # never draws the one positive row
    result = interval(lambda idx: float(y[idx].max()), resamples)
    assert result.value == 1.0
    assert result.lo == result.hi == 0.0  # the point value lies outside: shown as it is


def test_day_blocks_vary_in_length_and_the_bootstrap_is_seeded():
    rows_per_day = RNG.integers(1, 30, 40)
    days = np.repeat(np.arange(40), rows_per_day)
    n = len(days)
    draws = resample(n, 50, seed=3, blocks=days).draws
    assert len({len(d) for d in draws}) > 10  # lengths differ from the fold and each other
    assert any(len(d) > n for d in draws) and any(len(d) < n for d in draws)
    y = RNG.random(n) < 0.4
    s = RNG.random(n) + 0.5 * y
    a = interval(lambda i: roc_auc(y[i], s[i]), resample(n, 200, seed=1, blocks=days))
    b = interval(lambda i: roc_auc(y[i], s[i]), resample(n, 200, seed=1, blocks=days))
    c = interval(lambda i: roc_auc(y[i], s[i]), resample(n, 200, seed=2, blocks=days))
    assert a == b and a != c
    assert a.value == roc_auc(y, s) and a.n == 40
    idx = draws[0]
    counts = np.bincount(days[idx], minlength=40)
    assert np.all((counts == 0) | (counts % rows_per_day == 0))  # whole days only


def test_evaluations_flag_a_clearly_better_model():
    n = 24 * 40
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = (RNG.random(n) < 0.2).astype(int)
    p = np.clip(0.15 + 0.6 * y + RNG.normal(0, 0.1, n), 0, 1)
    result = evaluate_session(y, p, p, np.full(n, 0.2), hours, n_boot=100)
    assert result.differences["pr_auc"].beats and result.differences["roc_auc"].beats
    assert set(result.details["by_daypart"]) == {"night", "morning", "afternoon", "evening"}

    k, yk = 3, RNG.integers(0, 3, n)
    scores = np.eye(k)[yk] * 0.7 + 0.1
    baselines = mood_baselines(np.full(n, -1), np.roll(yk, 1), 0)
    mood = evaluate_mood(yk, yk, scores, baselines, hours, n_boot=100)
    assert all(d.beats for d in mood.differences.values())
    assert set(mood.scores["macro_f1"]) == {"model", "majority", "same_as_previous", "last_known_mood"}
    assert mood.differences["macro_f1"].baseline == "last_known_mood"  # the strongest


def test_a_served_baseline_ties_its_baseline_exactly():
    n = 24 * 20
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = RNG.integers(0, 4, n)
    last = np.where(RNG.random(n) < 0.7, y, RNG.integers(0, 4, n))
    baselines = mood_baselines(np.full(n, -1), last, 0)
    served = baselines["last_known_mood"]
    result = evaluate_mood(y, served, np.eye(4)[served], baselines, hours, n_boot=50)
    d = result.differences["macro_f1"]
    assert d.baseline == "last_known_mood" and d.interval.value == d.interval.lo == d.interval.hi == 0.0
    assert not d.beats


def test_no_win_is_claimed_over_too_few_days():
    """Three days give an interval over three day-blocks: not evidence of anything."""
    n = 72
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))  # 3 days
    y = (RNG.random(n) < 0.3).astype(int)
    p = np.clip(0.1 + 0.8 * y, 0, 1)
    result = evaluate_session(y, p, p, np.full(n, 0.3), hours, n_boot=100)
    assert result.differences["pr_auc"].interval.lo > 0  # looks like a win
    assert result.days == 3 and not result.differences["pr_auc"].beats


def test_one_bootstrap_a_mean_difference_over_days_is_the_same_either_way():
    """Listening's metric bootstrap (row indices of whole days, any statistic) and the paired
    bootstrap of a mean difference are one method: the same seed and days give the same
    interval."""
    rows_per_day = RNG.integers(1, 25, 30)
    days = np.repeat(pd.date_range("2024-01-01", periods=30).date, rows_per_day)
    new, old = RNG.random(len(days)) + 0.05, RNG.random(len(days))
    by_rows = interval(lambda i: float(np.mean(new[i] - old[i])), resample(len(days), 300, 7, days))
    by_sums = paired_difference(new, old, n_boot=300, seed=7, blocks=days)
    assert by_rows.n == by_sums.n == 30
    assert by_rows.value == pytest.approx(by_sums.value, abs=1e-12)
    assert (by_rows.lo, by_rows.hi) == pytest.approx((by_sums.lo, by_sums.hi), abs=1e-12)


def test_listening_intervals_are_what_they_were_before_the_one_bootstrap():
    """Numbers the listening evaluation gave with its own bootstrap (dicts spelled value/lo/hi),
    now from lib/bootstrap, with the day blocks drawn (n) alongside."""
    rng = np.random.default_rng(42)
    n = 24 * 30
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = (rng.random(n) < 0.2).astype(int)
    p = np.clip(0.15 + 0.3 * y + rng.normal(0, 0.2, n), 0, 1)
    s = evaluate_session(y, p, np.clip(p * 0.9, 0, 1), np.full(n, 0.2), hours, n_boot=80, seed=1)
    yk = rng.integers(0, 3, n)
    served = np.where(rng.random(n) < 0.6, yk, rng.integers(0, 3, n))
    base = mood_baselines(np.full(n, -1), np.roll(yk, 1), 0)
    m = evaluate_mood(yk, served, np.eye(3)[served], base, hours, n_boot=80, seed=2)
    rows = PolicyRows(yk, {REPEAT: np.roll(yk, 1), SUCCESSOR: served}, None, hours.dt.date.to_numpy())
    gain = choose_policy(rows, 3, n_boot=80, seed=3).validation["gain"]
    before = {  # printed by the evaluation before it used lib/bootstrap
        "session pr_auc": (s.differences["pr_auc"].to_dict(), (0.44979341441065357, 0.3700740289884876, 0.5197264902060196)),
        "session ece after": (s.scores["ece"]["after_calibration"].to_dict(), (0.0704637561127046, 0.05249014042697119, 0.09151199918998906)),
        "mood macro_f1": (m.differences["macro_f1"].to_dict(), (0.4081543094837261, 0.37524077072592343, 0.4435770038763156)),
        "mood accuracy": (m.scores["accuracy"]["model"].to_dict(), (0.7444444444444445, 0.7151388888888889, 0.7723958333333333)),
        "mood vs majority": (m.details["macro_f1_vs_each"]["majority"], (0.578336423058265, 0.5472176498522838, 0.6143338841741888)),
        "policy gain": (gain, (0.4158800893814451, 0.3701628724458616, 0.4620506407666095)),
    }  # fmt: skip
    for name, (entry, (value, lo, hi)) in before.items():
        assert (entry["value"], entry["lo"], entry["hi"]) == pytest.approx((value, lo, hi), abs=1e-12), name
        assert entry["n"] == (30 if name != "policy gain" else 15), name  # days drawn


def test_an_interval_reads_the_older_low_high_spelling_and_bare_values():
    assert Interval.from_dict({"value": 0.4, "low": 0.3, "high": 0.5}) == Interval(0.4, 0.3, 0.5, 0)
    bare = Interval.from_dict(0.36)
    assert bare.value == 0.36 and np.isnan(bare.lo) and not bare.above_zero
    assert Interval.from_dict(Interval(0.1, 0.02, 0.2, 9).to_dict()) == Interval(0.1, 0.02, 0.2, 9)
    assert Interval(0.1, 0.02, 0.2, 9).above_zero and not Interval(0.1, -0.02, 0.2, 9).above_zero
