"""Mood clustering: K found on separated blobs, readable distinct names, assignment, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening.moods import (
    MoodModel,
    assign,
    choose_k,
    cluster_labels,
    fit_moods,
    label_cluster,
    mood_matrix,
)

# valence, energy, danceability, acousticness, instrumentalness, tempo (BPM)
BLOBS = np.array(
    [
        [0.80, 0.85, 0.80, 0.10, 0.05, 128],  # high energy, positive, electronic
        [0.20, 0.20, 0.30, 0.85, 0.30, 80],  # low energy, negative, acoustic
        [0.50, 0.50, 0.50, 0.70, 0.80, 100],  # medium energy, neutral, acoustic
        [0.20, 0.90, 0.50, 0.05, 0.70, 150],  # high energy, negative, electronic
        [0.75, 0.25, 0.60, 0.80, 0.05, 110],  # low energy, positive, acoustic
        [0.25, 0.50, 0.70, 0.20, 0.10, 175],  # medium energy, negative, electronic
    ]
)
NAMES = ("valence", "energy", "danceability", "acousticness", "instrumentalness", "tempo")


def _plays(k: int, per_blob: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centers = np.repeat(BLOBS[:k], per_blob, axis=0)
    noise = rng.normal(0, 1, centers.shape) * np.array([0.03] * 5 + [5.0])
    X = centers + noise
    X[:, :5] = X[:, :5].clip(0, 1)
    return pd.DataFrame(X, columns=list(NAMES)).assign(blob=np.repeat(np.arange(k), per_blob))


@pytest.mark.parametrize("k", [4, 6])
def test_fit_finds_true_k_with_distinct_readable_labels(k):
    plays = _plays(k)
    model = fit_moods(plays, seed=0)
    print(f"k={k}: chose {model.k} by {model.rule}; silhouettes", model.silhouettes)
    assert model.k == k
    assert model.rule == "silhouette"
    assert len(set(model.labels)) == k
    assert all("energy" in label and "," in label for label in model.labels)
    # every blob lands in one cluster, and clusters are not shared
    got = assign(model, plays)
    mapping = pd.crosstab(plays["blob"], got)
    assert ((mapping > 0).sum(axis=1) == 1).all()
    assert ((mapping > 0).sum(axis=0) == 1).all()
    assert sorted(model.sizes) == [150] * k


def test_label_thresholds():
    assert label_cluster([0.7, 0.7, 0.5, 0.2, 0.0, 0.5]) == "high energy, positive, electronic"
    assert label_cluster([0.5, 0.4, 0.5, 0.5, 0.0, 0.5]) == "medium energy, neutral, acoustic"
    assert label_cluster({"valence": 0.1, "energy": 0.1, "acousticness": 0.9}) == (
        "low energy, negative, acoustic"
    )


def test_duplicate_labels_are_disambiguated():
    raw = np.array([[0.7, 0.7, 0.9, 0.1, 0.0, 0.5], [0.7, 0.7, 0.2, 0.1, 0.0, 0.5]])
    std = np.array([[0.0, 0.0, 1.5, 0.0, 0.0, 0.0], [0.0, 0.0, -1.5, 0.0, 0.0, 0.0]])
    labels = cluster_labels(raw, std)
    assert labels == [
        "high energy, positive, electronic, danceable",
        "high energy, positive, electronic, less danceable",
    ]
    same = cluster_labels(np.vstack([raw[0], raw[0]]), np.zeros((2, 6)))
    assert len(set(same)) == 2 and not any("#" in label for label in same)


def test_labels_stay_distinct_and_in_words_for_many_similar_clusters():
    rng = np.random.default_rng(3)
    raw = np.tile([0.8, 0.8, 0.5, 0.1, 0.0, 0.5], (14, 1)) + rng.normal(0, 0.02, (14, 6))
    std = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    labels = cluster_labels(raw, std)
    assert len(set(labels)) == 14
    assert all(label.startswith("high energy, positive, electronic") for label in labels)
    assert not any("#" in label or label[-1].isdigit() for label in labels)


@pytest.fixture(scope="module")
def model4() -> MoodModel:
    return fit_moods(_plays(4), seed=0, k_max=6)


def test_assign_matches_nearest_centroid_and_skips_missing(model4):
    model = model4
    new = _plays(4, per_blob=20, seed=7)
    new.loc[[0, 5], "energy"] = np.nan
    got = assign(model, new)
    X_raw, ok = mood_matrix(new)
    X = (X_raw[ok] - model.mean) / model.scale
    brute = np.array([np.argmin(((model.centroids_std - x) ** 2).sum(axis=1)) for x in X])
    assert (got[ok] == brute).all()
    assert (got[~ok] == -1).all() and (~ok).sum() == 2


def test_missing_features_not_used_for_fitting():
    plays = _plays(4)
    plays.loc[:9, "tempo"] = np.nan
    model = fit_moods(plays, seed=0, k_min=4, k_max=4)
    assert model.n_fit == len(plays) - 10


def test_round_trip_through_json(model4):
    model = model4
    back = MoodModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back.k == model.k and back.labels == model.labels
    assert back.silhouettes == model.silhouettes
    np.testing.assert_allclose(back.centroids_std, model.centroids_std)
    np.testing.assert_allclose(back.centroids_raw, model.centroids_raw)
    new = _plays(4, per_blob=10, seed=3)
    assert (assign(back, new) == assign(model, new)).all()


def test_choose_k_falls_back_to_elbow_without_structure():
    X = np.random.default_rng(0).uniform(size=(200, 6))
    choice = choose_k(X, k_max=7, seed=0)
    assert choice.rule in {"silhouette", "elbow"}
    if max(choice.silhouettes.values()) < 0.1:
        assert choice.rule == "elbow"
    small = choose_k(np.random.default_rng(1).normal(size=(20, 6)), seed=0)
    assert small.rule in {"elbow", "minimum"} and small.silhouettes == {}
    assert 1 <= small.k <= 19
