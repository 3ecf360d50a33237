"""The session-start model of a retrain: does a listening session start in this hour?

One row per hour of the history (`session_dataset`), except the hours of a stretch missing
from the export (`gaps`): those are no hours of silence. XGBoost, early-stopped and calibrated
on the validation weeks, is tested against always-negative and the training weeks'
hour-of-week prior.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.datasets import (
    SESSION_FEATURE_COLUMNS,
    local_times,
    session_dataset,
)
from spotify_assets.lib.listening.evaluation import evaluate_session, hour_of_week_prior
from spotify_assets.lib.listening.gaps import in_gaps
from spotify_assets.lib.listening.models import time_split, train_session
from spotify_assets.lib.listening.results import (
    ModelResult,
    RetrainError,
    RetrainInputs,
)

NAME = "session"
SHOWN = ("pr_auc", "roc_auc", "ece")


def fit_session_start(inputs: RetrainInputs) -> ModelResult:
    """Train on the training weeks' hours, calibrate on the validation weeks', test on the
    rest; every fold holds only hours outside the history's gaps."""
    b1, b2 = inputs.boundaries
    hours = session_dataset(inputs.plays, tz=inputs.timezone)
    hours = hours[~in_gaps(hours["hour_start"], inputs.gaps, pd.Timedelta(hours=1))]
    hours = hours.reset_index(drop=True)
    split = time_split(hours, time_col="hour_start", boundaries=(b1.ceil("h"), b2.ceil("h")))
    if not (split.val.any() and split.test.any()) or hours.loc[split.train, "target"].nunique() < 2:
        raise RetrainError(
            "too few listening sessions in the training weeks to model session starts"
        )
    model = train_session(hours, split, SESSION_FEATURE_COLUMNS)
    test = hours[split.test]
    evaluation = evaluate_session(
        test["target"].to_numpy(), model.predict_proba(test, calibrated=False),
        model.predict_proba(test), hour_of_week_prior(hours[split.train], test),
        test["hour_start"], n_boot=inputs.n_boot, seed=inputs.seed, tz=inputs.timezone,
    )  # fmt: skip
    model.metrics = evaluation.to_dict()
    return ModelResult(
        name=NAME,
        title="Session start per hour",
        decides="pr_auc",
        shown=SHOWN,
        evaluation=evaluation,
        window=model.data_window,
        facts={
            "session_hours": len(hours),
            "folds": folds(inputs.plays, hours, (b1, b2), inputs.timezone),
        },
        trained=model,
    )


def folds(
    plays: pd.DataFrame,
    hours: pd.DataFrame,
    boundaries: tuple[pd.Timestamp, pd.Timestamp],
    tz: str,
) -> dict[str, dict[str, Any]]:
    """Per fold (train, validation, test): first and last play, local weeks with plays and the
    session model's hours, so a reader sees what each fold holds, not only where it starts."""
    b1, b2 = boundaries
    played = pd.to_datetime(plays["played_at"], utc=True)
    local = local_times(played, tz).dt.tz_localize(None).dt.normalize()
    week = (local - pd.to_timedelta(local.dt.day_of_week, unit="D")).to_numpy()
    hour = pd.to_datetime(hours["hour_start"], utc=True)
    out = {}
    for name, lo, hi in (("train", None, b1), ("validation", b1, b2), ("test", b2, None)):
        in_plays = _window_mask(played, lo, hi)
        # the session split's own boundaries: whole hours
        in_hours = _window_mask(hour, lo and lo.ceil("h"), hi and hi.ceil("h"))
        out[name] = {
            "first_play": played[in_plays].min().isoformat() if in_plays.any() else None,
            "last_play": played[in_plays].max().isoformat() if in_plays.any() else None,
            "weeks_with_plays": len(np.unique(week[in_plays.to_numpy()])),
            "session_hours": int(in_hours.sum()),
        }
    return out


def _window_mask(times: pd.Series, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> pd.Series:
    mask = pd.Series(True, index=times.index)
    if lo is not None:
        mask &= times >= lo
    if hi is not None:
        mask &= times < hi
    return mask
