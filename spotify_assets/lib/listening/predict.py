"""Predictions between retrains, always with the retrain's own clustering and policy.

A mood id means what the retrain that assigned it meant; the document names that retrain, so a
label is never read against another clustering.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.datasets import mood_dataset, session_dataset
from spotify_assets.lib.listening.models import TrainedModel
from spotify_assets.lib.listening.mood_policy import MODEL, MoodPolicy, rule_predictions
from spotify_assets.lib.listening.moods import MoodModel, assign


def predict(
    plays: pd.DataFrame,
    run: dict[str, Any],
    models: dict[str, dict[str, Any]],
    hours: int = 24,
) -> dict[str, Any]:
    """Session-start probabilities for the hours after the latest play, and the next mood.

    `plays` are sessionized; `run` is the retrain document (`listening_models`' output) and
    `models` its stored model documents by name ("session", optionally "mood").
    """
    tz = run["timezone"]
    clustering = run["clustering"]
    moods = MoodModel.from_dict(clustering["moods"]) if clustering.get("moods") else None
    plays = plays.copy()
    plays["cluster"] = assign(moods, plays) if moods else np.full(len(plays), -1)
    now = plays["played_at"].max().ceil("h")  # the history's present: live, that is about now

    session = TrainedModel.from_dict(models["session"])
    frame = session_dataset(plays, start=now, end=now + pd.Timedelta(hours=hours), tz=tz)
    probability = session.predict_proba(frame)
    next_hours = [
        {"hour_start": h.isoformat(), "probability": round(float(p), 4)}
        for h, p in zip(frame["hour_start"], probability, strict=True)
    ]

    next_mood, reason = None, ""
    if moods is None:
        reason = "no mood clustering in this retrain"
    else:
        next_mood = _next_mood(plays, moods, run, models, tz)
    return {
        "retrain_id": run["retrain_id"],
        "generated_at": now.isoformat(),
        "timezone": tz,
        "labels": moods.labels if moods else [],
        "plays_with_mood": int((plays["cluster"] >= 0).sum()),
        "next_hours": next_hours,
        "next_mood": next_mood,
        "next_mood_reason": reason,
    }


def _next_mood(
    plays: pd.DataFrame,
    moods: MoodModel,
    run: dict[str, Any],
    models: dict[str, dict[str, Any]],
    tz: str,
) -> dict[str, Any]:
    """The served policy applied to the latest play (its features use only the past)."""
    policy = MoodPolicy.from_dict(run["policy"])
    latest = mood_dataset(plays, moods.k, tz=tz, keep_all=True).tail(1).reset_index(drop=True)
    majority = int(run["summary"].get("majority_mood", -1))
    if majority < 0:
        majority = int(np.argmax(moods.sizes))
    rules = rule_predictions(latest, majority)
    proba = None
    if policy.kind == MODEL:
        proba = TrainedModel.from_dict(models["mood"]).predict_proba(latest)
    pred, scores = policy.predict(rules, proba, moods.k)
    cluster = int(pred[0])
    return {
        "cluster": cluster,
        "label": moods.labels[cluster],
        # a rule has no probability: only the model's (with its stay bonus) is one
        "probability": round(float(scores[0, cluster]), 4) if policy.kind == MODEL else None,
        "policy": policy.kind,
    }
