"""Leak-free supervised datasets built from sessionized plays.

Every feature of a row is computed from plays that started at or before the row's decision time
(the current play's start for moods, the hour's start for sessions, strictly before it there).
Final session lengths and durations from `sessionize` are never used: they are known only once
the session is over.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from spotify_assets.lib.listening.moods import MOOD_FEATURES, mood_matrix

WINDOW = 3  # current play + the 2 before it in the session
EXTRA_TRACK_FEATURES: tuple[str, ...] = ("loudness", "speechiness", "liveness", "mode")
CALENDAR_COLUMNS = ["hour_sin", "hour_cos", "dow_sin", "dow_cos", "is_weekend"]

MOOD_FEATURE_COLUMNS: list[str] = [
    "cluster_0",  # current play's cluster
    "cluster_1",  # previous play in the session (-1: none or unknown)
    "cluster_2",
    *[f"win_mean_{f}" for f in MOOD_FEATURES],
    *[f"win_std_{f}" for f in MOOD_FEATURES],
    *[f"cur_{f}" for f in (*MOOD_FEATURES, *EXTRA_TRACK_FEATURES)],
    *CALENDAR_COLUMNS,
    "position",
    "length_so_far",
    "minutes_since_session_start",
]
SESSION_FEATURE_COLUMNS: list[str] = [
    *CALENDAR_COLUMNS,
    "starts_same_hour_7d",
    "starts_same_hour_30d",
    "hours_since_last_start",
    "hours_since_last_play",
    "plays_prev_24h",
]
FEATURE_COLUMNS: dict[str, list[str]] = {
    "mood": MOOD_FEATURE_COLUMNS,
    "session": SESSION_FEATURE_COLUMNS,
}


def calendar_features(times: pd.Series, tz: str = "UTC") -> pd.DataFrame:
    """Cyclical hour/day-of-week and a weekend flag, so 23:00 sits next to 00:00."""
    local = pd.to_datetime(times, utc=True).dt.tz_convert(tz)
    hour = local.dt.hour + local.dt.minute / 60.0
    dow = local.dt.day_of_week
    return pd.DataFrame(
        {
            "hour_sin": np.sin(2 * np.pi * hour / 24),
            "hour_cos": np.cos(2 * np.pi * hour / 24),
            "dow_sin": np.sin(2 * np.pi * dow / 7),
            "dow_cos": np.cos(2 * np.pi * dow / 7),
            "is_weekend": (dow >= 5).astype(np.int64),
        },
        index=times.index,
    )


def mood_dataset(
    plays: pd.DataFrame, cluster_col: str = "cluster", tz: str = "UTC"
) -> pd.DataFrame:
    """One row per play whose next play in the same session has a known cluster (target).

    `plays` is `sessionize` output with a cluster per play (-1 when unknown). Besides
    MOOD_FEATURE_COLUMNS the frame carries `played_at` (decision time, for splits), `target_at`
    (the next play's start, for purging split boundaries), `session_id`, `user_id` and `target`.
    """
    df = plays.sort_values(["user_id", "played_at"], kind="mergesort").reset_index(drop=True)
    session = df["session_id"]
    cluster = df[cluster_col].fillna(-1).astype(np.int64)

    out = pd.DataFrame(index=df.index)
    out["cluster_0"] = cluster
    for lag in (1, 2):
        out[f"cluster_{lag}"] = cluster.groupby(session, sort=False).shift(lag).fillna(-1)
        out[f"cluster_{lag}"] = out[f"cluster_{lag}"].astype(np.int64)

    X, _ = mood_matrix(df)  # NaN where a feature is unknown
    feats = pd.DataFrame(X, columns=list(MOOD_FEATURES), index=df.index)
    lags = [feats] + [feats.groupby(session, sort=False).shift(k) for k in range(1, WINDOW)]
    stack = np.stack([lag.to_numpy(dtype=float) for lag in lags])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        win_mean, win_std = np.nanmean(stack, axis=0), np.nanstd(stack, axis=0)
    for j, name in enumerate(MOOD_FEATURES):
        out[f"win_mean_{name}"] = win_mean[:, j]
        out[f"win_std_{name}"] = win_std[:, j]
    for name in MOOD_FEATURES:
        out[f"cur_{name}"] = feats[name]
    for name in EXTRA_TRACK_FEATURES:
        values = df[name] if name in df.columns else pd.Series(np.nan, index=df.index)
        out[f"cur_{name}"] = pd.to_numeric(values, errors="coerce")

    out = out.join(calendar_features(df["played_at"], tz))
    out["position"] = df["position"].astype(np.int64)
    out["length_so_far"] = df["length_so_far"].astype(np.int64)
    out["minutes_since_session_start"] = df["minutes_since_session_start"].astype(float)

    next_session = session.shift(-1)
    out["target"] = cluster.shift(-1).fillna(-1).astype(np.int64)
    out["target_at"] = df["played_at"].shift(-1)
    out["played_at"] = df["played_at"]
    out["session_id"] = session
    out["user_id"] = df["user_id"]
    keep = next_session.eq(session) & out["target"].ge(0)
    return out[keep].reset_index(drop=True)


def _same_hour_counts(starts_per_hour: np.ndarray, days: int) -> np.ndarray:
    """Sessions started in the same hour-of-day on each of the previous `days` days."""
    total = np.zeros_like(starts_per_hour)
    for d in range(1, days + 1):
        lag = 24 * d
        if lag < len(starts_per_hour):
            total[lag:] += starts_per_hour[:-lag]
    return total


def _hours_since(events: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Hours from the last event strictly before each hour start (NaN when there is none)."""
    i = np.searchsorted(events, hours, side="left") - 1
    out = np.full(len(hours), np.nan)
    ok = i >= 0
    out[ok] = (hours[ok] - events[i[ok]]) / np.timedelta64(1, "h")
    return out


def _user_hours(starts: pd.Series, played: pd.Series | None, start, end, tz: str) -> pd.DataFrame:
    starts_v = np.sort(starts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]"))
    events = (
        starts_v
        if played is None
        else np.sort(played.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]"))
    )
    origin = pd.Timestamp(min(starts_v[0], events[0])).floor("h")
    last = pd.Timestamp(max(starts_v[-1], events[-1])).floor("h")
    if end is not None:  # hours after the history (predicting the coming day) are rows too
        future = pd.Timestamp(end)
        future = future.tz_convert("UTC").tz_localize(None) if future.tzinfo else future
        last = max(last, (future - pd.Timedelta(hours=1)).floor("h"))
    grid = pd.date_range(origin, last, freq="h").to_numpy("datetime64[ns]")
    idx = ((starts_v - grid[0]) // np.timedelta64(1, "h")).astype(np.int64)
    per_hour = np.bincount(idx, minlength=len(grid)).astype(np.int64)

    out = pd.DataFrame({"hour_start": pd.DatetimeIndex(grid).tz_localize("UTC")})
    out = out.join(calendar_features(out["hour_start"], tz))
    out["starts_same_hour_7d"] = _same_hour_counts(per_hour, 7)
    out["starts_same_hour_30d"] = _same_hour_counts(per_hour, 30)
    out["hours_since_last_start"] = _hours_since(starts_v, grid)
    if played is None:
        out["hours_since_last_play"] = np.nan
        out["plays_prev_24h"] = np.nan
    else:
        out["hours_since_last_play"] = _hours_since(events, grid)
        lo = np.searchsorted(events, grid - np.timedelta64(24, "h"), side="left")
        out["plays_prev_24h"] = np.searchsorted(events, grid, side="left") - lo
    local = out["hour_start"].dt.tz_convert(tz)
    out["hour_of_week"] = local.dt.day_of_week * 24 + local.dt.hour
    out["sessions_started"] = per_hour
    out["target"] = (per_hour > 0).astype(np.int64)
    window = pd.Series(True, index=out.index)
    if start is not None:
        window &= out["hour_start"] >= pd.Timestamp(start).tz_convert("UTC").floor("h")
    if end is not None:
        window &= out["hour_start"] < pd.Timestamp(end).tz_convert("UTC")
    return out[window]


def session_dataset(
    plays: pd.DataFrame,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """One row per UTC hour in [start, end): did a session start in it (`target`)?

    `plays` is `sessionize` output or a `session_table` (then the play-count features are NaN,
    since a session table holds only final lengths). History before `start` still feeds the
    rolling features. Extra columns: `hour_start`, `hour_of_week` (for the prior baseline),
    `sessions_started`, `user_id`.
    """
    has_plays = "played_at" in plays.columns
    frames = []
    for user, group in plays.groupby("user_id", sort=True):
        if has_plays:
            played = pd.to_datetime(group["played_at"], utc=True)
            starts = played[group["position"] == 0]
        else:
            played, starts = None, pd.to_datetime(group["session_start"], utc=True)
        if starts.empty:
            continue
        frame = _user_hours(starts, played, start, end, tz)
        frame.insert(0, "user_id", user)
        frames.append(frame)
    if not frames:
        raise ValueError("no sessions to build an hourly dataset from")
    return pd.concat(frames, ignore_index=True)
