"""Listener B end to end: moods fitted on the training weeks only, both models vs baselines.

Prints the comparison table; asserts only what must hold, not that the models win.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening.datasets import (
    MOOD_FEATURE_COLUMNS,
    SESSION_FEATURE_COLUMNS,
    mood_dataset,
    session_dataset,
)
from spotify_assets.lib.listening.evaluate import (
    evaluate_mood_bundle,
    evaluate_session_bundle,
    format_report,
)
from spotify_assets.lib.listening.models import (
    time_boundaries,
    time_split,
    train_mood,
    train_session,
)
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.sessions import sessionize


def _listener_b(shared_data) -> pd.DataFrame:
    raw = pd.read_csv(shared_data / "histories" / "listener_b_basic_export" / "final.csv")
    ended = pd.to_datetime(raw["endTime"], format="%Y-%m-%d %H:%M", utc=True)
    return raw.assign(
        user_id="listener_b",
        ended_at=ended,
        ms_played=raw["msPlayed"].astype("int64"),
        played_at=ended - pd.to_timedelta(raw["msPlayed"], unit="ms"),  # end is what is logged
        track_id=raw["id"],
    )


def _check(result: dict) -> None:
    for scores in result["scores"].values():
        for e in scores.values():
            if not np.isnan(e["value"]):
                assert e["lo"] <= e["value"] <= e["hi"]
    for d in result["difference"].values():
        assert d["lo"] <= d["value"] <= d["hi"]


@pytest.mark.shared_data
def test_listener_b_models_vs_baselines(shared_data):
    plays = sessionize(_listener_b(shared_data))
    assert len(plays) == 9_977
    b1, b2 = time_boundaries(plays["played_at"])
    # Clusters are fitted on the training weeks only: the label space must not see the test.
    moods = fit_moods(plays[plays["played_at"] < b1], seed=0)
    plays["cluster"] = assign(moods, plays)

    mood = mood_dataset(plays)
    mood_split = time_split(mood, boundaries=(b1, b2), target_time_col="target_at")
    mood_model = train_mood(mood, mood_split, moods.k, MOOD_FEATURE_COLUMNS)
    mood_result = evaluate_mood_bundle(mood_model, mood, mood_split)

    hours = session_dataset(plays)
    hour_split = time_split(hours, time_col="hour_start", boundaries=(b1.ceil("h"), b2.ceil("h")))
    session_model = train_session(hours, hour_split, SESSION_FEATURE_COLUMNS)
    session_result = evaluate_session_bundle(session_model, hours, hour_split)

    print()
    print(f"split: val from {b1}, test from {b2}; moods K={moods.k} ({moods.rule})")
    print(f"session calibration: {session_model.calibrator.kind}")
    print(format_report(mood_result, session_result))
    print("mood beats best baseline:", mood_result["beats_baseline"])
    print("session beats best baseline:", session_result["beats_baseline"])

    for metric in ("accuracy", "macro_f1", "roc_auc"):
        assert 0 <= mood_result["scores"]["model"][metric]["value"] <= 1
    for metric in ("pr_auc", "roc_auc"):
        assert 0 <= session_result["scores"]["model"][metric]["value"] <= 1
    _check(mood_result)
    _check(session_result)
    before, after = session_result["ece_before"]["value"], session_result["ece_after"]["value"]
    assert after <= before + 0.02
