"""Split a play history into listening sessions, vectorized per person.

Features computed from sessions must not peek at the future: `length_so_far` is what a model may
use; `session_length` and `session_duration_min` are final values kept for reporting only.
"""

from __future__ import annotations

import pandas as pd

SESSION_COLUMNS = (
    "session_id",
    "position",
    "session_length",
    "length_so_far",
    "session_start",
    "minutes_since_session_start",
    "session_duration_min",
    "is_skip",
)


def _end_times(plays: pd.DataFrame) -> pd.Series:
    """`ended_at`, falling back to `played_at + ms_played` where it is missing."""
    fallback = plays["played_at"] + pd.to_timedelta(plays["ms_played"].fillna(0), unit="ms")
    if "ended_at" not in plays.columns:
        return fallback
    ended = pd.to_datetime(plays["ended_at"], utc=True)
    return ended.fillna(fallback)


def sessionize(
    plays: pd.DataFrame,
    gap_minutes: float = 30,
    skip_ms: int = 30_000,
    include_skips: bool = True,
) -> pd.DataFrame:
    """Return `plays` sorted by (person, played_at) with session columns added.

    Gap rule: for consecutive plays of one person, gap = this play's `played_at` minus the previous
    play's `ended_at` (or `played_at + ms_played` when `ended_at` is missing). A new session starts
    when gap > `gap_minutes` (strictly): a gap of exactly `gap_minutes` stays in the session, and
    overlapping plays (negative gap) always do. A person's first play starts a session.

    `is_skip` is `ms_played < skip_ms`. With `include_skips=False` skips are dropped *before*
    sessionizing, so they can neither bridge two sessions nor count towards positions.

    `session_id` is "<person>-<session start, ISO 8601 UTC to the second>": stable across reruns
    and unique, since a person's sessions start more than `gap_minutes` apart.
    """
    out = plays.copy()
    out["played_at"] = pd.to_datetime(out["played_at"], utc=True)
    out["is_skip"] = out["ms_played"].fillna(0) < skip_ms
    if not include_skips:
        out = out[~out["is_skip"]]
    out = out.sort_values(["person", "played_at"], kind="mergesort").reset_index(drop=True)

    ended = _end_times(out)
    person = out["person"]
    prev_end = ended.groupby(person, sort=False).shift(1)
    gap = out["played_at"] - prev_end
    new_session = prev_end.isna() | (gap > pd.Timedelta(minutes=gap_minutes))
    session_no = new_session.astype("int64").cumsum()  # global counter, unique across users

    grouped = out.groupby(session_no, sort=False)
    out["position"] = grouped.cumcount().astype("int64")
    out["length_so_far"] = out["position"] + 1
    out["session_length"] = grouped["played_at"].transform("size").astype("int64")
    out["session_start"] = grouped["played_at"].transform("min")
    session_end = ended.groupby(session_no, sort=False).transform("max")
    out["minutes_since_session_start"] = (
        out["played_at"] - out["session_start"]
    ).dt.total_seconds() / 60.0
    out["session_duration_min"] = (session_end - out["session_start"]).dt.total_seconds() / 60.0
    start_iso = out["session_start"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out["session_id"] = person.astype(str) + "-" + start_iso
    return out


def session_table(sessionized: pd.DataFrame) -> pd.DataFrame:
    """One row per session (person, start, final length and duration), for reporting and drift."""
    first = sessionized[sessionized["position"] == 0]
    return first[
        ["session_id", "person", "session_start", "session_length", "session_duration_min"]
    ].reset_index(drop=True)
