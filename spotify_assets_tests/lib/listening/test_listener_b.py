"""Listener B end to end through the real import (final.csv: a basic export converted to CSV
with audio features): one clustering on the training weeks, the next-mood policy chosen on the
validation weeks, both models against their baselines on the test weeks.

Prints the comparison; asserts what must hold whatever the numbers are, not that models win.
"""

from __future__ import annotations

import numpy as np
import pytest

from spotify_assets.lib.listening.evaluation import format_report
from spotify_assets.lib.listening.ingest import import_history, refresh_joins
from spotify_assets.lib.listening.mood_policy import REPEAT
from spotify_assets.lib.listening.retrain import cluster_training_weeks, retrain
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.store.listening import PlayRepository


@pytest.mark.slow
@pytest.mark.shared_data
def test_listener_b_retrain(db, shared_data):
    path = shared_data / "histories" / "listener_b_basic_export" / "final.csv"
    report = import_history(db, path, "listener_b")
    coverage = refresh_joins(db, "listener_b")  # no catalog: the file's own features serve
    assert coverage.with_features == coverage.plays == report.plays
    with db.connect() as conn:
        plays = sessionize(PlayRepository(conn).load("listener_b"))

    clustering = cluster_training_weeks(plays)
    b1, _ = clustering.boundaries
    assert clustering.moods is not None
    assert clustering.fitted_on == int((plays["played_at"] < b1).sum())  # training weeks only
    labels = clustering.moods.labels
    assert len(set(labels)) == len(labels) and not any("#" in label for label in labels)

    run = retrain(plays, clustering, "listener_b", n_boot=200)
    print()
    print(f"K={clustering.moods.k}; policy {run.policy.kind}: {run.policy.reason}")
    mood, session = run.model("mood"), run.model("session")
    print(format_report(mood.evaluation, session.evaluation))

    assert mood.evaluation.n == mood.window["test"] > 0
    for metric in ("accuracy", "macro_f1", "roc_auc"):
        assert 0 <= mood.score(metric).value <= 1
    gain = run.policy.validation.get("gain")
    if run.policy.kind == REPEAT:
        d = mood.evaluation.details["macro_f1_vs_each"]["last_known_mood"]
        assert d["value"] == d["lo"] == d["hi"] == 0.0  # it is that baseline
    else:  # a learned policy serves only with a validation gain whose CI is above 0
        assert gain["lo"] > 0 and gain["policy"] == run.policy.kind
    s = session.evaluation
    assert 0 < s.details["positives"] < s.n
    ece = s.scores["ece"]
    assert np.isfinite(ece["after_calibration"].value) and np.isfinite(ece["before_calibration"].value)
