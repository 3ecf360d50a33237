"""Drift detection on simulated histories with known truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.drift import INSUFFICIENT, METRICS, detect_drift, psi
from spotify_assets.lib.listening.simulate import false_alarm_rate, shifted_history, stable_history


def test_false_alarm_rate_on_stable_histories():
    rate, details = false_alarm_rate(n=100, seed=0, days=37)
    min_p = sorted(d["min_p"] for d in details)[:3]
    print(f"false-alarm rate on 100 stable histories: {rate:.1%}; smallest p-values {min_p}")
    assert rate <= 0.05


def test_shifted_history_flags_sessions_and_energy():
    report = detect_drift(shifted_history(seed=1, days=37))
    flagged = set(report.drifted_metrics)
    print("flagged:", sorted(flagged))
    assert report.drifted
    assert {"sessions_per_day", "energy"} <= flagged
    # untouched features stay quiet
    assert not flagged & {"valence", "danceability", "acousticness", "tempo_norm"}
    energy = report.metric("energy")
    assert energy.recent["mean"] > energy.baseline["mean"] + 0.2
    assert energy.psi is not None and energy.psi > 0.25
    assert report.metric("sessions_per_day").effect > np.log(1.3)


def test_too_little_data_never_alarms():
    history = shifted_history(seed=2, days=37)
    # keep only three days of the recent window: below the five-day minimum
    now = history["played_at"].max()
    age_days = (now - history["played_at"]).dt.total_seconds() / 86_400
    sparse = history[(age_days >= 7) | (age_days < 3)]
    report = detect_drift(sparse, now=now)
    assert not report.drifted
    assert {m.status for m in report.metrics} == {INSUFFICIENT}


def test_short_history_is_insufficient_not_alarming():
    history = stable_history(seed=3, days=9)  # baseline has only ~2 days
    report = detect_drift(history)
    assert not report.drifted
    assert all(m.status == INSUFFICIENT for m in report.metrics)


def test_report_to_dict_is_json_ready():
    report = detect_drift(stable_history(seed=4, days=37))
    data = json.loads(json.dumps(report.to_dict(), default=str))
    assert [m["name"] for m in data["metrics"]] == list(METRICS)
    assert data["alpha_corrected"] == 0.01 / len(METRICS)
    assert data["drifted"] is False


def test_given_now_moves_the_windows():
    history = stable_history(seed=5, days=37)
    now = history["played_at"].max() + pd.Timedelta(days=3)
    report = detect_drift(history, now=now)
    # three empty recent days are real zeros: the per-day rates drop
    sessions = report.metric("sessions_per_day")
    assert (
        sessions.recent["days_with_plays"] <= 4
        or sessions.recent["per_day"] < (sessions.baseline["per_day"])
    )


def test_psi_zero_for_same_distribution_and_large_for_shift():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5_000)
    assert psi(x, rng.normal(size=5_000)) < 0.02
    assert psi(x, rng.normal(1.0, 1.0, size=5_000)) > 0.25
