"""Datasets: expected rows on a hand-made history, and no feature moves when the future changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening.datasets import (
    MOOD_FEATURE_COLUMNS,
    SESSION_FEATURE_COLUMNS,
    mood_dataset,
    mood_feature_columns,
    session_dataset,
)
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history

T0 = pd.Timestamp("2024-03-04 10:00", tz="UTC")  # a Monday


def _plays(spec: list[tuple[float, float, int]]) -> pd.DataFrame:
    """(start minute, minutes played, cluster) -> sessionized plays with mood features."""
    rows = []
    for start_min, minutes, cluster in spec:
        start = T0 + pd.Timedelta(minutes=start_min)
        ms = int(minutes * 60_000)
        rows.append(
            {
                "person": "u",
                "played_at": start,
                "ended_at": start + pd.Timedelta(milliseconds=ms),
                "ms_played": ms,
                "valence": 0.1 * (cluster + 2),
                "energy": 0.5,
                "danceability": 0.5,
                "acousticness": 0.5,
                "instrumentalness": 0.1,
                "tempo": 120.0,
                "cluster": cluster,
            }
        )
    return sessionize(pd.DataFrame(rows))


def test_mood_dataset_rows_and_lags():
    # session A: clusters 0, 1, -1, 2; session B (an hour later): 1, 1
    plays = _plays([(0, 3, 0), (3, 3, 1), (6, 3, -1), (9, 3, 2), (60, 3, 1), (63, 3, 1)])
    data = mood_dataset(plays)
    assert len(data) == 3  # A0 -> 1, A2 -> 2, B0 -> 1; A1's next is unknown, A3 and B1 have none
    assert data["target"].tolist() == [1, 2, 1]
    assert data[["cluster_0", "cluster_1", "cluster_2"]].values.tolist() == [
        [0, -1, -1],
        [-1, 1, 0],
        [1, -1, -1],
    ]
    assert data["position"].tolist() == [0, 2, 0]
    assert data["length_so_far"].tolist() == [1, 3, 1]
    assert data["minutes_since_session_start"].tolist() == [0, 6, 0]
    assert data["target_at"].tolist() == [T0 + pd.Timedelta(minutes=m) for m in (3, 9, 63)]
    # window of A2 = plays A0..A2, valence 0.2, 0.3 and 0.1
    row = data.iloc[1]
    assert row["win_mean_valence"] == pytest.approx(0.2)
    assert row["win_std_valence"] == pytest.approx(np.std([0.2, 0.3, 0.1]))
    assert set(MOOD_FEATURE_COLUMNS) <= set(data.columns)
    assert np.isnan(data["cur_loudness"]).all()  # absent column -> NaN, same columns always


def test_session_dataset_rows_and_counts():
    # sessions start at 10:00 on day 0, 10:30 on day 1 (same hour), 14:00 on day 1
    plays = _plays([(0, 3, 0), (3, 3, 0), (24 * 60 + 30, 3, 1), (24 * 60 + 240, 3, 1)])
    data = session_dataset(plays)
    assert len(data) == 24 + 4 + 1  # 10:00 day 0 .. 14:00 day 1, hourly
    assert data["target"].sum() == 3
    assert set(SESSION_FEATURE_COLUMNS) <= set(data.columns)
    day1_10 = data[data["hour_start"] == T0 + pd.Timedelta(hours=24)].iloc[0]
    assert day1_10["target"] == 1
    assert day1_10["starts_same_hour_7d"] == 1 and day1_10["starts_same_hour_30d"] == 1
    assert day1_10["hours_since_last_start"] == 24
    assert day1_10["plays_prev_24h"] == 2  # window [h - 24 h, h): 10:00 and 10:03 of day 0
    first = data.iloc[0]
    assert first["starts_same_hour_7d"] == 0 and np.isnan(first["hours_since_last_start"])
    assert first["plays_prev_24h"] == 0  # the hour's own plays are not features of it
    windowed = session_dataset(plays, start=T0 + pd.Timedelta(hours=20))
    assert len(windowed) == 9
    assert windowed["starts_same_hour_7d"].max() == 1  # history before `start` still counts


def _perturbed_future(history: pd.DataFrame, t: pd.Timestamp) -> pd.DataFrame:
    """Same plays up to t; everything after t replaced by a different listener's plays."""
    other = stable_history(99, days=20)
    other = other[other["played_at"] > t].copy()
    other["valence"] = 1 - other["valence"]
    return pd.concat([history[history["played_at"] <= t], other], ignore_index=True)


def test_no_feature_sees_the_future():
    history = stable_history(1, days=20)
    model = fit_moods(history, k_max=5)
    base = sessionize(history)
    # cut in the middle of a session, right after a play that has more plays after it
    mid = base[(base["position"] == 1) & (base["session_length"] >= 4)]
    t = mid["played_at"].iloc[len(mid) // 2]
    changed = sessionize(_perturbed_future(history, t))
    assert not changed[changed["played_at"] > t].equals(base[base["played_at"] > t])

    datasets = []
    for plays in (base, changed):
        plays = plays.assign(cluster=assign(model, plays))
        datasets.append((mood_dataset(plays, model.k), session_dataset(plays)))
    (mood_a, hours_a), (mood_b, hours_b) = datasets

    past_a = mood_a[mood_a["played_at"] <= t].set_index("played_at")
    past_b = mood_b[mood_b["played_at"] <= t].set_index("played_at")
    common = past_a.index.intersection(past_b.index)
    assert len(common) >= len(past_a) - 1  # only the row at t may lose its next play
    columns = mood_feature_columns(model.k)
    pd.testing.assert_frame_equal(past_a.loc[common, columns], past_b.loc[common, columns])
    assert (mood_a["played_at"] == t).any()  # the cut row itself was compared or dropped

    hours_a = hours_a[hours_a["hour_start"] <= t].reset_index(drop=True)
    hours_b = hours_b[hours_b["hour_start"] <= t].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        hours_a[SESSION_FEATURE_COLUMNS], hours_b[SESSION_FEATURE_COLUMNS]
    )
    # and the future really changed what comes after: targets past t differ
    assert (
        not mood_a[mood_a["played_at"] > t]["target"]
        .reset_index(drop=True)
        .equals(mood_b[mood_b["played_at"] > t]["target"].reset_index(drop=True))
    )


def test_memory_features_on_a_hand_made_history():
    """Session A plays x, y, z; an hour later session B plays x, y, then w (no features), v."""
    spec = [(0, 3, 0, "x"), (3, 3, 1, "y"), (6, 3, 2, "z"),
            (60, 3, 0, "x"), (63, 3, 1, "y"), (66, 3, -1, "w"), (69, 3, 2, "v")]  # fmt: skip
    plays = _plays([s[:3] for s in spec]).assign(play_key=[s[3] for s in spec])
    data = mood_dataset(plays, n_classes=3, keep_all=True).set_index(
        data_index := plays["play_key"] + "@" + plays["played_at"].astype(str)
    )
    a_x, b_x, b_w = data_index.iloc[0], data_index.iloc[3], data_index.iloc[5]

    # what followed x the last time (session A): y's mood 1
    assert data.at[a_x, "successor_last"] == -1 and data.at[a_x, "successor_n"] == 0
    assert data.at[b_x, "successor_last"] == 1 and data.at[b_x, "successor_n"] == 1
    assert data.at[b_x, "successor_share_1"] == 1.0
    # w has no mood: the last known one is y's, held for 2 plays, w is 1 play after it
    assert data.at[b_w, "last_known"] == 1 and data.at[b_w, "last_is_1"] == 1.0
    assert data.at[b_w, "plays_since_known"] == 1 and data.at[b_w, "dwell"] == 2
    # session B so far: moods 0 and 1 once each (w adds nothing)
    assert data.at[b_w, "session_share_0"] == data.at[b_w, "session_share_1"] == 0.5
    # transitions seen before B's x: 0→1 and 1→2 in session A (all in the morning)
    assert data.at[b_x, "transitions_n"] == 1
    assert data.at[b_x, "transition_1"] == pytest.approx((1 + 1 / 3) / 2)
    assert data.at[a_x, "transitions_n"] == 0 and data.at[a_x, "transition_0"] == pytest.approx(
        1 / 3
    )
    assert set(mood_feature_columns(3)) <= set(data.columns)
