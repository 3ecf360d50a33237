"""The next-mood model of a retrain: which mood the next song in a session has.

A policy serves it, chosen on the validation weeks (`mood_policy`): repeating the last known
mood unless a learned alternative clearly beats it. The test weeks then score whatever serves
against majority, "same as previous" and "last known mood". Without a clustering (too few plays
with audio features) there is nothing to predict: the result says why and repeating "serves".
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from spotify_assets.lib.listening.datasets import local_times, mood_dataset, mood_feature_columns
from spotify_assets.lib.listening.evaluation import evaluate_mood, mood_baselines
from spotify_assets.lib.listening.models import TrainedModel, time_split, train_mood
from spotify_assets.lib.listening.mood_policy import (
    MODEL,
    REPEAT,
    MoodPolicy,
    PolicyRows,
    choose_policy,
    rule_predictions,
    split_by_day,
)
from spotify_assets.lib.listening.results import (
    Evaluation,
    ModelResult,
    RetrainInputs,
)

NAME = "mood"
MIN_MODEL_ROWS = 100  # training transitions needed to fit the next-mood model
SHOWN = ("macro_f1", "accuracy", "roc_auc")


def fit_next_mood(inputs: RetrainInputs) -> ModelResult:
    """Train, choose the serving policy on the validation weeks, test it on the test weeks."""
    moods = inputs.clustering.moods
    if moods is None:
        policy = MoodPolicy(REPEAT, reason=f"no mood clustering: {inputs.clustering.reason}")
        return _result(policy, None, majority=-1)
    k, tz = moods.k, inputs.timezone
    data = mood_dataset(inputs.plays, k, tz=tz)
    split = time_split(data, boundaries=inputs.boundaries, target_time_col="target_at")
    y = data["target"].to_numpy(dtype=int)
    train_y = y[split.train]
    majority = int(np.bincount(train_y if len(train_y) else y, minlength=k).argmax())
    rules = rule_predictions(data, majority)

    local_days = local_times(data["played_at"], tz).dt.date.to_numpy()
    val = split.val
    earlier = np.zeros(len(data), dtype=bool)
    earlier[np.flatnonzero(val)] = split_by_day(local_days[val])[0]
    model, note = None, ""
    if split.train.sum() >= MIN_MODEL_ROWS and earlier.any():
        # early stopping sees only the earlier validation days: the later ones confirm
        model = train_mood(data, replace(split, val=earlier), k, mood_feature_columns(k))
    elif split.train.sum() < MIN_MODEL_ROWS:
        note = f"{int(split.train.sum())} training transitions (the model needs {MIN_MODEL_ROWS})"
    else:
        note = "no validation transitions to early-stop on"
    rows = PolicyRows(
        y[val], {name: r[val] for name, r in rules.items()},
        model.predict_proba(data[val]) if model is not None and val.any() else None,
        local_days[val],
    )  # fmt: skip
    policy = choose_policy(rows, k, n_boot=inputs.n_boot, seed=inputs.seed, model_note=note)
    counts = {"train": int(split.train.sum()), "val": int(val.sum()), "test": int(split.test.sum())}
    serving = model if policy.kind == MODEL else None
    test = split.test
    if not test.any():
        return _result(policy, None, majority, counts, serving)
    proba = model.predict_proba(data[test]) if model is not None else None
    served, scores = policy.predict({n: r[test] for n, r in rules.items()}, proba, k)
    baselines = mood_baselines(
        data.loc[test, "cluster_0"].to_numpy(), data.loc[test, "last_known"].to_numpy(), majority
    )
    evaluation = evaluate_mood(
        y[test], served, scores, baselines, data.loc[test, "played_at"], n_boot=inputs.n_boot,
        seed=inputs.seed, tz=tz,
    )  # fmt: skip
    return _result(policy, evaluation, majority, counts, serving)


def _result(
    policy: MoodPolicy,
    evaluation: Evaluation | None,
    majority: int,
    counts: dict[str, int] | None = None,
    serving: TrainedModel | None = None,
) -> ModelResult:
    counts = counts or {}
    reason = policy.reason
    if evaluation is None and counts:
        reason += "; the test weeks hold no transition to score it on"
    return ModelResult(
        name=NAME,
        title="Next mood",
        decides="macro_f1",
        shown=SHOWN,
        evaluation=evaluation,
        serves=policy.kind,
        reason=reason,
        window=counts,
        details={"policy": policy.to_dict()},
        facts={
            "mood_rows": counts or 0,
            "mood_policy": policy.kind,
            "mood_policy_reason": policy.reason,
            "majority_mood": majority,
        },
        trained=serving,
    )
