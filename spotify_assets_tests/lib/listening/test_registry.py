"""A third listening model is one registration: a `ListeningModel` whose fit returns a
`ModelResult`. The retrain fits it beside the others, and its summary, its `model_runs` row,
its document and the dashboard show it with no other change (the README's "Where to change
what: a new listening model")."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from spotify_assets.lib.bootstrap import interval, resample
from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.listening.dashboard import build_dashboard, plot_svgs, render_html
from spotify_assets.lib.listening.datasets import local_times
from spotify_assets.lib.listening.evaluation import MIN_DAYS, roc_auc
from spotify_assets.lib.listening.models import time_boundaries
from spotify_assets.lib.listening.registry import MODELS, ListeningModel
from spotify_assets.lib.listening.results import (
    Difference,
    Evaluation,
    ModelResult,
    RetrainInputs,
)
from spotify_assets.lib.listening.retrain import Clustering, Retrain, retrain
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history


def fit_skip(inputs: RetrainInputs) -> ModelResult:
    """Is a play skipped? The training weeks' skip rate at that local hour, against the
    training weeks' overall rate: a small model, but a real one on the retrain's split."""
    plays = inputs.plays
    b1, b2 = inputs.boundaries
    skipped = plays["is_skip"].to_numpy(dtype=int)
    local = local_times(plays["played_at"], inputs.timezone)
    hour = local.dt.hour.to_numpy()
    train = (plays["played_at"] < b1).to_numpy()
    test = (plays["played_at"] >= b2).to_numpy()
    by_hour = pd.Series(skipped[train]).groupby(hour[train]).mean()
    overall = float(skipped[train].mean())
    y = skipped[test]
    systems = {
        "model": pd.Series(hour[test]).map(by_hour).fillna(overall).to_numpy(),
        "overall_rate": np.full(len(y), overall),
    }
    days = local.dt.date.to_numpy()[test]
    draws = resample(len(y), inputs.n_boot, inputs.seed, blocks=days)
    scores = {"roc_auc": {s: interval(lambda i, p=p: roc_auc(y[i], p[i]), draws) for s, p in systems.items()}}
    gain = interval(lambda i: roc_auc(y[i], systems["model"][i]) - roc_auc(y[i], systems["overall_rate"][i]), draws)
    n_days = len(set(days))
    evaluation = Evaluation(
        scores, {"roc_auc": Difference("overall_rate", gain, gain.above_zero and n_days >= MIN_DAYS)},
        n_days, len(y),
    )  # fmt: skip
    return ModelResult(
        "skip", "Skipped songs", decides="roc_auc", shown=("roc_auc",), evaluation=evaluation,
        window={"train": int(train.sum()), "test": int(test.sum())},
        labels={"overall_rate": "overall skip rate"},
    )  # fmt: skip


SKIP = ListeningModel(
    "skip", "Skipped songs", check="ROC-AUC above the overall skip rate.", fit=fit_skip
)


def test_a_third_model_registered_in_one_place_shows_everywhere():
    plays = sessionize(stable_history(5, days=60))
    plays["has_features"] = plays["valence"].notna()
    plays["play_key"] = plays["track_id"].fillna("unknown")
    clustering = Clustering(time_boundaries(plays["played_at"]), None, "not this test's subject")
    run = retrain(plays, clustering, "toy", n_boot=50, models=(*MODELS, SKIP))

    assert [m.name for m in run.models] == ["mood", "session", "skip"]
    skip = run.model("skip")
    assert skip.evaluation.n > 0 and skip.score("roc_auc").value == skip.score("roc_auc").value
    # the summary: the retrain's record and its one line
    assert run.summary["models"] == ["mood", "session", "skip"]
    assert "skipped songs: ROC-AUC 0." in run.describe()
    assert "vs overall skip rate" in run.describe()
    # the model_runs rows and the document the other assets read, through JSON and back
    assert [r["model"] for r in run.model_runs({})] == ["mood", "session", "skip"]
    document = json.loads(json.dumps(to_jsonable(run.to_dict({}))))
    again = Retrain.from_dict(document)
    assert again.model("skip").score("roc_auc") == skip.score("roc_auc")
    assert again.model("skip").headline == skip.headline

    # the dashboard: its own panel, its own words, next to the registered models
    board = build_dashboard(plays, None, None, again.models, None, "2024-03-01T00:00:00Z")
    assert [m["name"] for m in board["models"]] == ["mood", "session", "skip"]
    svgs = plot_svgs(board)
    assert "skip_model_vs_baselines" in svgs and "empty-reason" not in svgs["skip_model_vs_baselines"]
    page = render_html(board)
    assert "<h3>Skipped songs</h3>" in page and "overall skip rate" in page
    assert "overall_rate" not in page  # named in words, never by its identifier
