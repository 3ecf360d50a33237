"""The next-mood policy: a learned predictor serves only when it beats repeating the mood on
validation days it was not chosen on."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.listening.mood_policy import (
    MIN_VALIDATION_ROWS,
    MODEL,
    REPEAT,
    SUCCESSOR,
    MoodPolicy,
    PolicyRows,
    choose_policy,
    split_by_day,
)

K = 4


def _rows(n: int, successor_hit: float, seed: int = 0, proba: bool = False) -> PolicyRows:
    """Next moods where repeating is right 40% of the time and the successor memory is right
    `successor_hit` of the time (otherwise it guesses)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n)
    repeat = np.where(rng.random(n) < 0.4, y, rng.integers(0, K, n))
    successor = np.where(rng.random(n) < successor_hit, y, rng.integers(0, K, n))
    days = np.repeat(np.arange(n // 20 + 1), 20)[:n]
    p = np.full((n, K), 0.1)
    p[np.arange(n), successor] = 0.7
    return PolicyRows(y, {REPEAT: repeat, SUCCESSOR: successor}, p if proba else None, days)


def test_split_by_day_keeps_days_whole_and_in_order():
    days = np.array([3, 1, 1, 2, 4, 4, 2, 5])
    earlier, later = split_by_day(days)
    assert set(days[earlier]) == {1, 2} and set(days[later]) == {3, 4, 5}
    assert not (earlier & later).any() and (earlier | later).all()


def test_too_few_rows_repeat_and_say_why():
    policy = choose_policy(_rows(MIN_VALIDATION_ROWS - 1, 0.9), K, n_boot=50)
    assert policy.kind == REPEAT
    assert "cannot support more than repeating" in policy.reason


def test_a_clearly_better_rule_serves():
    policy = choose_policy(_rows(800, 0.8), K, n_boot=100)
    assert policy.kind == SUCCESSOR
    assert policy.validation["gain"]["lo"] > 0


def test_a_model_can_serve_with_its_stay_bonus():
    policy = choose_policy(_rows(800, 0.8, proba=True), K, n_boot=100)
    assert policy.kind in (SUCCESSOR, MODEL)
    pred, scores = policy.predict({REPEAT: np.array([0]), SUCCESSOR: np.array([2])},
                                  np.array([[0.1, 0.1, 0.7, 0.1]]), K)  # fmt: skip
    assert pred.tolist() == [2] and np.allclose(scores.sum(axis=1), 1)


def test_no_better_than_repeating_falls_back():
    rows = _rows(800, 0.0)  # the successor guess is noise
    policy = choose_policy(rows, K, n_boot=100)
    assert policy.kind == REPEAT and "did not clearly beat" in policy.reason
    pred, _ = policy.predict(rows.rules, None, K)
    assert (pred == rows.rules[REPEAT]).all()


def test_a_gain_only_on_the_choosing_days_does_not_serve():
    """Better than repeating on the earlier days only (what the choice saw): not confirmed."""
    good, bad = _rows(400, 0.9, seed=1), _rows(400, 0.0, seed=2)
    rows = PolicyRows(
        np.r_[good.y, bad.y],
        {k: np.r_[good.rules[k], bad.rules[k]] for k in good.rules},
        None,
        np.r_[good.days, bad.days + 1000],
    )
    policy = choose_policy(rows, K, n_boot=100)
    assert policy.kind == REPEAT
    assert policy.validation["gain"]["policy"] == SUCCESSOR  # it was the choice, then refused


def test_policy_round_trips():
    policy = choose_policy(_rows(800, 0.8), K, n_boot=50)
    assert MoodPolicy.from_dict(policy.to_dict()) == policy


def test_too_few_days_to_confirm_repeat_and_say_why():
    rows = _rows(800, 0.9)
    rows.days = np.repeat(np.arange(4), 200)  # 800 rows on 4 days: 2 days to confirm on
    policy = choose_policy(rows, K, n_boot=50)
    assert policy.kind == REPEAT and "needs 7 of them" in policy.reason
