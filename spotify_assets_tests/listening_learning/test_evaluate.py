"""Metrics agree with sklearn; bootstrap CIs contain the point value and are seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from spotify_assets.lib.listening.evaluate import (
    ece,
    estimate,
    evaluate_mood,
    evaluate_session,
    macro_f1,
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


def test_bootstrap_is_seeded_and_contains_the_point_value():
    y = RNG.random(300) < 0.4
    s = RNG.random(300) + 0.5 * y
    days = np.repeat(np.arange(30), 10)
    a = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(300, days, 200, seed=1))
    b = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(300, days, 200, seed=1))
    c = estimate(lambda i: roc_auc(y[i], s[i]), resample_indices(300, days, 200, seed=2))
    assert a == b and a != c
    assert a["lo"] <= a["value"] <= a["hi"] and a["hi"] - a["lo"] > 0.01
    idx = resample_indices(300, days, 5, seed=0)[0]
    assert len(np.unique(days[idx])) < 30 and np.all(np.bincount(days[idx]) % 10 == 0)  # blocks


def test_evaluations_flag_a_clearly_better_model():
    n = 24 * 40
    hours = pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"))
    y = (RNG.random(n) < 0.2).astype(int)
    p = np.clip(0.15 + 0.6 * y + RNG.normal(0, 0.1, n), 0, 1)
    result = evaluate_session(y, p, p, np.full(n, 0.2), hours, n_boot=100)
    assert result["beats_baseline"]["pr_auc"] and result["beats_baseline"]["roc_auc"]
    assert set(result["by_daypart"]) == {"night", "morning", "afternoon", "evening"}
    for scores in result["scores"].values():
        for e in scores.values():
            assert e["lo"] <= e["value"] <= e["hi"]

    k, yk = 3, RNG.integers(0, 3, n)
    proba = np.eye(k)[yk] * 0.7 + 0.1
    mood = evaluate_mood(yk, proba, np.full(n, -1), 0, hours, n_boot=100)
    assert all(mood["beats_baseline"].values())
    assert mood["difference"]["macro_f1"]["baseline"] in {"majority", "same_as_previous"}
