"""Spotify API objects → frames shaped like the catalog's playlists, memberships and tracks.

Functions accept either bare track objects or `{added_at, track}` items, as the client returns
them, so callers can pass endpoint results straight through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

PLAYLIST_COLUMNS = ["playlist_id", "name", "description", "person", "snapshot_id", "source"]
MEMBERSHIP_COLUMNS = ["playlist_id", "track_id", "position"]
TRACK_COLUMNS = [
    "track_id", "name", "artists", "album_name", "album_id", "release_date", "release_year",
    "popularity", "duration_ms", "explicit",
]  # fmt: skip


def _track(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The track object of an item, or the object itself when it already is one."""
    if obj is None:
        return None
    return obj.get("track", obj)


def playlists_frame(playlists: Iterable[Mapping[str, Any]], person: str) -> pd.DataFrame:
    rows = [
        {
            "playlist_id": p["id"],
            "name": p.get("name") or p["id"],
            "description": p.get("description") or None,  # Spotify sends "" for none
            "person": person,
            "snapshot_id": p.get("snapshot_id"),
            "source": "spotify",
        }
        for p in playlists
    ]
    return pd.DataFrame(rows, columns=PLAYLIST_COLUMNS)


def memberships_frame(playlist_id: str, tracks: Iterable[Mapping[str, Any] | None]) -> pd.DataFrame:
    """Ordered memberships, 0-based; a track listed twice keeps its first position only.

    (playlist_id, track_id) is the table's key, so repeats cannot be stored; tracks without
    an id (local files) are dropped and positions stay contiguous.
    """
    seen: set[str] = set()
    ids = []
    for obj in tracks:
        track = _track(obj)
        track_id = track.get("id") if track else None
        if track_id and track_id not in seen:
            seen.add(track_id)
            ids.append(track_id)
    return pd.DataFrame(
        {"playlist_id": [playlist_id] * len(ids), "track_id": ids, "position": range(len(ids))},
        columns=MEMBERSHIP_COLUMNS,
    )


def tracks_frame(track_objects: Iterable[Mapping[str, Any] | None]) -> pd.DataFrame:
    """One row per distinct track id (first wins); objects without an id are dropped."""
    rows = []
    seen: set[str] = set()
    for obj in track_objects:
        track = _track(obj)
        if not track or not track.get("id") or track["id"] in seen:
            continue
        seen.add(track["id"])
        album = track.get("album") or {}
        release_date = album.get("release_date") or None
        rows.append(
            {
                "track_id": track["id"],
                "name": track.get("name") or "",
                "artists": [a["name"] for a in track.get("artists") or [] if a.get("name")],
                "album_name": album.get("name") or None,
                "album_id": album.get("id") or None,
                "release_date": release_date,
                "release_year": release_year(release_date),
                "popularity": track.get("popularity"),
                "duration_ms": track.get("duration_ms"),
                "explicit": track.get("explicit"),
            }
        )
    frame = pd.DataFrame(rows, columns=TRACK_COLUMNS)
    for name in ("release_year", "popularity", "duration_ms"):
        frame[name] = frame[name].astype("Int64")
    frame["explicit"] = frame["explicit"].astype("boolean")
    return frame


def release_year(release_date: str | None) -> int | None:
    """Spotify dates are "YYYY", "YYYY-MM" or "YYYY-MM-DD" (release_date_precision)."""
    head = (release_date or "")[:4]
    return int(head) if len(head) == 4 and head.isdigit() else None
