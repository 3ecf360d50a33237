"""Leak-free supervised datasets built from sessionized plays.

Every feature of a row is computed from plays that started at or before the row's decision time
(the current play's start for moods, the hour's start for sessions, strictly before it there).
Final session lengths and durations from `sessionize` are never used: they are known only once
the session is over.

A mood row is decided as the current play ends (its length and whether it was skipped are
known then, the next play has not started). Besides the current and recent moods, it carries what "same mood as before" cannot
know: how long the current mood has lasted, the person's own mood-to-mood transition rates by
part of day (counted over earlier plays only), skips, the session's mood mix so far, and what
followed this very track the earlier times the person played it (people replay playlists and
albums in order). Most real plays have no audio features, so "the current mood" is the last
mood known in the session.
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
SKIP_MS = 30_000  # Spotify counts a play under 30 s as a skip
SKIP_WINDOW = 5
DAY_PARTS = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}
MEMORY_COLUMNS: list[str] = [
    "last_known",  # the last mood known in the session, the current play included (-1: none)
    "plays_since_known",
    "dwell",  # plays in a row with the current mood
    "minutes_in_mood",
    "is_skip",
    "skip_rate_window",
    "successor_last",  # the mood that followed this track the last time it was played (-1)
    "successor_n",  # earlier plays of this track with a known next mood
    "transitions_n",  # earlier transitions counted for (last mood, part of day)
]


def mood_feature_columns(n_classes: int) -> list[str]:
    """Every mood feature: the base columns, memory columns and per-mood columns."""
    per_mood = [
        f"{prefix}_{j}" for prefix in ("last_is", "session_share", "successor_share", "transition")
        for j in range(n_classes)
    ]  # fmt: skip
    return [*MOOD_FEATURE_COLUMNS, *MEMORY_COLUMNS, *per_mood]


SESSION_FEATURE_COLUMNS: list[str] = [
    *CALENDAR_COLUMNS,
    "starts_same_hour_7d",
    "starts_same_hour_30d",
    "hours_since_last_start",
    "hours_since_last_play",
    "plays_prev_24h",
]


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
    plays: pd.DataFrame,
    n_classes: int | None = None,
    cluster_col: str = "cluster",
    tz: str = "UTC",
    keep_all: bool = False,
) -> pd.DataFrame:
    """One row per play whose next play in the same session has a known cluster (target).

    `plays` is `sessionize` output with a cluster per play (-1 when unknown); `n_classes` is the
    clustering's K (default: the largest cluster + 1). Besides `mood_feature_columns(K)` the
    frame carries `played_at` (decision time, for splits), `target_at` (the next play's start,
    for purging split boundaries), `session_id`, `person` and `target`. With `keep_all`, every
    play is a row (target -1 where unknown): the latest play is what a prediction starts from.
    """
    df = plays.sort_values(["person", "played_at"], kind="mergesort").reset_index(drop=True)
    session = df["session_id"]
    cluster = df[cluster_col].fillna(-1).astype(np.int64)
    k = int(n_classes if n_classes is not None else max(int(cluster.max()) + 1, 1))

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

    same_session_next = session.shift(-1).eq(session)
    target = cluster.shift(-1).where(same_session_next, -1).fillna(-1).astype(np.int64)
    local_hour = pd.to_datetime(df["played_at"], utc=True).dt.tz_convert(tz).dt.hour
    out = out.join(_memory_features(df, cluster, target, local_hour.to_numpy(), k))

    out["target"] = target
    out["target_at"] = df["played_at"].shift(-1)
    out["played_at"] = df["played_at"]
    out["session_id"] = session
    out["person"] = df["person"]
    if keep_all:
        return out
    return out[out["target"].ge(0)].reset_index(drop=True)


def _track_keys(df: pd.DataFrame) -> pd.Series:
    """What identifies a track across plays: the play key, else the track id, else the names."""
    if "play_key" in df.columns:
        return df["play_key"].astype(object)
    if "track_id" in df.columns:
        names = [
            f"{a}|{t}"
            for a, t in zip(
                df.get("artist_name", df.index), df.get("track_name", df.index), strict=True
            )
        ]
        return (
            df["track_id"]
            .astype(object)
            .where(df["track_id"].notna(), pd.Series(names, index=df.index))
        )
    return pd.Series(np.arange(len(df)), index=df.index).astype(object)  # no identity known


def _one_hot(codes: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((len(codes), k))
    known = (codes >= 0) & (codes < k)
    out[np.flatnonzero(known), codes[known]] = 1.0
    return out


def _memory_features(
    df: pd.DataFrame, cluster: pd.Series, target: pd.Series, hour: np.ndarray, k: int
) -> pd.DataFrame:
    """Per play: what the person's own past says about the next mood, from earlier plays only."""
    session = df["session_id"]
    out = pd.DataFrame(index=df.index)
    known_cluster = cluster.where(cluster >= 0)
    last_known = known_cluster.groupby(session, sort=False).ffill().fillna(-1).astype(np.int64)
    out["last_known"] = last_known
    seen = known_cluster.notna().astype(np.int64).groupby(session, sort=False).cumsum()
    since = df.groupby([session, seen], sort=False).cumcount()
    out["plays_since_known"] = np.where(last_known >= 0, since, -1)
    run = (last_known != last_known.groupby(session, sort=False).shift(1)).cumsum()
    out["dwell"] = np.where(last_known >= 0, df.groupby(run, sort=False).cumcount() + 1, 0)
    run_start = df.groupby(run, sort=False)["played_at"].transform("min")
    minutes = (df["played_at"] - run_start).dt.total_seconds() / 60.0
    out["minutes_in_mood"] = np.where(last_known >= 0, minutes, np.nan)

    ms = pd.to_numeric(df["ms_played"], errors="coerce")
    skip = (ms < SKIP_MS).astype(float).where(ms.notna())
    out["is_skip"] = skip
    out["skip_rate_window"] = skip.groupby(session, sort=False).transform(
        lambda s: s.rolling(SKIP_WINDOW, min_periods=1).mean()
    )

    lk = last_known.to_numpy()
    for j, column in enumerate(_one_hot(lk, k).T):
        out[f"last_is_{j}"] = column
    counts = pd.DataFrame(_one_hot(cluster.to_numpy(), k), index=df.index)
    so_far = counts.groupby(session.to_numpy(), sort=False).cumsum().to_numpy()
    total = so_far.sum(axis=1, keepdims=True)
    shares = np.divide(so_far, total, out=np.zeros_like(so_far), where=total > 0)
    for j in range(k):
        out[f"session_share_{j}"] = shares[:, j]

    # what followed this track before: successor moods of its earlier plays (all in the past,
    # since an earlier play's next play started no later than this one), per person
    keys = (df["person"].astype(str) + "\x1f" + _track_keys(df).astype(str)).to_numpy()
    nxt = target.to_numpy()
    followed = pd.DataFrame(_one_hot(nxt, k), index=df.index)
    earlier = followed.groupby(keys, sort=False).cumsum().to_numpy() - followed.to_numpy()
    n_earlier = earlier.sum(axis=1, keepdims=True)
    successor_share = np.divide(earlier, n_earlier, out=np.zeros_like(earlier), where=n_earlier > 0)
    for j in range(k):
        out[f"successor_share_{j}"] = successor_share[:, j]
    out["successor_n"] = n_earlier[:, 0]
    last_next = pd.Series(np.where(nxt >= 0, nxt, np.nan), index=df.index)
    previous = last_next.groupby(keys, sort=False).shift(1)
    out["successor_last"] = previous.groupby(keys, sort=False).ffill().fillna(-1).astype(np.int64)

    rates, counted = _online_transitions(
        lk, nxt, day_part_index(hour), session.to_numpy(), df["person"].to_numpy(), k
    )
    for j in range(k):
        out[f"transition_{j}"] = rates[:, j]
    out["transitions_n"] = counted
    return out


def day_part_index(hour: np.ndarray) -> np.ndarray:
    """0 night, 1 morning, 2 afternoon, 3 evening (DAY_PARTS), from local hours."""
    part = np.zeros(len(hour), dtype=np.int64)
    for i, (lo, hi) in enumerate(DAY_PARTS.values()):
        part[(np.asarray(hour) >= lo) & (np.asarray(hour) < hi)] = i
    return part


def local_times(times: pd.Series | np.ndarray, tz: str) -> pd.Series:
    """Timestamps (UTC or aware) in the person's zone, with a fresh index."""
    return pd.to_datetime(pd.Series(times).reset_index(drop=True), utc=True).dt.tz_convert(tz)


def _online_transitions(
    last_known: np.ndarray,
    nxt: np.ndarray,
    part: np.ndarray,
    session: np.ndarray,
    person: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray]:
    """P(next mood | last mood, part of day) from the person's transitions completed before
    each play.

    Play i's transition (its last mood → the next play's mood) is known once play i+1 starts,
    so it is counted from row i+1 on. A uniform prior of weight 1 smooths sparse cells.
    """
    counts: dict[tuple[object, int, int], np.ndarray] = {}
    rates = np.empty((len(nxt), k))
    counted = np.zeros(len(nxt))
    prior = np.full(k, 1.0 / k)
    for i in range(len(nxt)):
        if i > 0 and nxt[i - 1] >= 0 and session[i - 1] == session[i]:
            key = (person[i - 1], int(last_known[i - 1]), int(part[i - 1]))
            cell = counts.setdefault(key, np.zeros(k))
            cell[nxt[i - 1]] += 1.0
        cell = counts.get((person[i], int(last_known[i]), int(part[i])))
        if cell is None:
            rates[i] = prior
        else:
            n = cell.sum()
            rates[i] = (cell + prior) / (n + 1.0)
            counted[i] = n
    return rates, counted


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
    `sessions_started`, `person`.
    """
    has_plays = "played_at" in plays.columns
    frames = []
    for person, group in plays.groupby("person", sort=True):
        if has_plays:
            played = pd.to_datetime(group["played_at"], utc=True)
            starts = played[group["position"] == 0]
        else:
            played, starts = None, pd.to_datetime(group["session_start"], utc=True)
        if starts.empty:
            continue
        frame = _user_hours(starts, played, start, end, tz)
        frame.insert(0, "person", person)
        frames.append(frame)
    if not frames:
        raise ValueError("no sessions to build an hourly dataset from")
    return pd.concat(frames, ignore_index=True)
