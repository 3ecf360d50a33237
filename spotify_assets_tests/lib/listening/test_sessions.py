"""Sessionizing a hand-made history: gap rule at the threshold, skips in and out, two users."""

from __future__ import annotations

import pandas as pd

from spotify_assets.lib.listening.sessions import session_table, sessionize

T0 = pd.Timestamp("2024-03-01 10:00", tz="UTC")


def _play(user: str, start_min: float, minutes: float, track: str | None = "t") -> dict:
    start = T0 + pd.Timedelta(minutes=start_min)
    ms = int(minutes * 60_000)
    return {
        "person": user,
        "played_at": start,
        "ended_at": start + pd.Timedelta(milliseconds=ms),
        "ms_played": ms,
        "track_id": track,
    }


def _history() -> pd.DataFrame:
    rows = [
        # user a: 0-3, 3-6, then a gap of exactly 30 min (same session), then 31 min (new one)
        _play("a", 0, 3),
        _play("a", 3, 3),
        _play("a", 36, 3),  # ends 39
        _play("a", 70, 3),  # gap 31 min -> new session
        # a skip (10 s) that bridges what would otherwise be a 40-min gap
        _play("a", 95, 10 / 60),  # gap 22 min after 73 -> same session; ends ~95.17
        _play("a", 120, 3),  # gap ~24.8 min after the skip; 47 min after the 73 end
        # user b interleaved in time with a
        _play("b", 1, 4),
        _play("b", 50, 4, track=None),  # gap 45 -> new session
        _play("b", 55, 4),
    ]
    # shuffled input: sessionize must sort per user itself
    return pd.DataFrame(rows).sample(frac=1, random_state=3).reset_index(drop=True)


def test_sessions_with_skips():
    out = sessionize(_history())
    a = out[out["person"] == "a"]
    assert (
        a["session_id"].tolist() == ["a-2024-03-01T10:00:00Z"] * 3 + ["a-2024-03-01T11:10:00Z"] * 3
    )
    assert a["position"].tolist() == [0, 1, 2, 0, 1, 2]
    assert a["length_so_far"].tolist() == [1, 2, 3, 1, 2, 3]
    assert a["session_length"].tolist() == [3, 3, 3, 3, 3, 3]
    assert a["is_skip"].tolist() == [False, False, False, False, True, False]
    assert a["minutes_since_session_start"].tolist() == [0, 3, 36, 0, 25, 50]
    assert a["session_duration_min"].tolist() == [39, 39, 39, 53, 53, 53]

    b = out[out["person"] == "b"]
    assert b["session_id"].tolist() == [
        "b-2024-03-01T10:01:00Z",
        "b-2024-03-01T10:50:00Z",
        "b-2024-03-01T10:50:00Z",
    ]
    assert b["position"].tolist() == [0, 0, 1]
    assert b["track_id"].isna().tolist() == [False, True, False]


def test_skips_removed_before_sessionizing():
    out = sessionize(_history(), include_skips=False)
    a = out[out["person"] == "a"]
    assert not a["is_skip"].any()
    # without the bridging skip, 73 -> 120 is a 47-min gap: three sessions for user a
    assert a["session_id"].nunique() == 3
    assert a["position"].tolist() == [0, 1, 2, 0, 0]
    assert a["session_length"].tolist() == [3, 3, 3, 1, 1]


def test_gap_threshold_is_strict_and_configurable():
    out = sessionize(_history(), gap_minutes=31)
    # 31-min gap no longer exceeds the threshold: user a becomes one session
    assert out.loc[out["person"] == "a", "session_id"].nunique() == 1


def test_missing_ended_at_falls_back_to_duration():
    hist = _history().assign(ended_at=pd.NaT)
    assert sessionize(hist)["session_id"].tolist() == sessionize(_history())["session_id"].tolist()


def test_session_table_one_row_per_session():
    table = session_table(sessionize(_history()))
    assert len(table) == 4
    assert table["session_length"].sum() == 9
