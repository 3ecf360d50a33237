"""Time splits, calibration and training on a simulated history."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.datasets import (
    MOOD_FEATURE_COLUMNS,
    SESSION_FEATURE_COLUMNS,
    mood_dataset,
    session_dataset,
)
from spotify_assets.lib.listening.evaluation import ece
from spotify_assets.lib.listening.models import (
    TrainedModel,
    fit_calibrator,
    rolling_origin,
    time_boundaries,
    time_split,
    train_mood,
    train_session,
)
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history


def _times(n: int, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    minutes = rng.integers(0, 60 * 24 * 90, n)  # unordered, with ties
    return pd.Series(pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(minutes, unit="min"))


def test_time_split_never_puts_later_rows_in_train():
    t = _times(2_000)
    frame = pd.DataFrame({"played_at": t, "target_at": t + pd.Timedelta(minutes=30)})
    split = time_split(frame, target_time_col="target_at")
    train, val, test = (frame.loc[m, "played_at"] for m in (split.train, split.val, split.test))
    assert train.max() < val.min() and val.max() < test.min()
    assert frame.loc[split.train, "target_at"].max() < split.boundaries[0]  # purged
    assert frame.loc[split.val, "target_at"].max() < split.boundaries[1]
    assert not (split.train & split.val).any() and not (split.val & split.test).any()
    assert 0.55 < split.train.mean() < 0.61 and 0.18 < split.test.mean() < 0.22
    assert time_boundaries(t) == split.boundaries


def test_rolling_origin_trains_on_the_past_only():
    t = _times(1_000)
    folds = rolling_origin(t, n_folds=3)
    assert len(folds) == 3
    for train, test in folds:
        assert train.any() and test.any()
        assert t[train].max() < t[test].min()
    assert sum(test.sum() for _, test in folds) >= 0.45 * len(t)


def test_calibration_lowers_ece_on_an_overconfident_model():
    rng = np.random.default_rng(0)
    p_true = rng.uniform(0, 1, 6_000) ** 2
    y = rng.random(6_000) < p_true
    raw = np.sqrt(p_true)  # systematically too high
    fit, held = slice(0, 3_000), slice(3_000, None)
    for kind in ("platt", "isotonic"):
        cal = fit_calibrator(raw[fit], y[fit], kind)
        assert cal.kind == kind
        assert ece(y[held], cal(raw[held])) < 0.5 * ece(y[held], raw[held])
    assert fit_calibrator(raw[:100], y[:100]).kind == "platt"  # small fold: Platt


def test_models_train_on_a_simulated_history(tmp_path):
    plays = sessionize(stable_history(3, days=45))
    b1, b2 = time_boundaries(plays["played_at"])
    moods = fit_moods(plays[plays["played_at"] < b1], k_max=5)
    plays["cluster"] = assign(moods, plays)

    mood = mood_dataset(plays)
    mood_split = time_split(mood, boundaries=(b1, b2), target_time_col="target_at")
    mood_model = train_mood(mood, mood_split, moods.k, MOOD_FEATURE_COLUMNS)
    proba = mood_model.predict_proba(mood[mood_split.test])
    assert proba.shape == (mood_split.test.sum(), moods.k)
    assert np.allclose(proba.sum(axis=1), 1, atol=1e-5)

    hours = session_dataset(plays)
    hour_split = time_split(hours, time_col="hour_start", boundaries=(b1.ceil("h"), b2.ceil("h")))
    session_model = train_session(hours, hour_split, SESSION_FEATURE_COLUMNS)
    p = session_model.predict_proba(hours[hour_split.test])
    assert ((p >= 0) & (p <= 1)).all() and session_model.calibrator is not None

    for bundle, frame in ((mood_model, mood), (session_model, hours)):
        loaded = TrainedModel.load(bundle.save(tmp_path / f"{bundle.task}.json"))
        assert loaded.to_dict()["params"] == bundle.to_dict()["params"]
        assert bundle.to_dict()["booster_json"].startswith("{")
        np.testing.assert_allclose(loaded.predict_proba(frame), bundle.predict_proba(frame))
        assert set(bundle.data_window) == {"train", "val", "test"}
