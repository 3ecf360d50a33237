"""Where a person's playlists and songs-to-sort come from, as frames ready to store.

Playlists: the generated sample, a privacy export's Playlist1.json, the Spotify Web API
(TidyTuesday's playlists arrive with its catalog file). Candidates: liked songs
(YourLibrary.json or the API), recent plays (an extended streaming-history export or the
API) or a CSV of track ids. Every source returns ids that the caller matches to the catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd

from spotify_assets.lib.errors import InputError

PLAYLIST_FRAME = ["playlist_id", "name", "description", "source"]
MEMBERSHIP_FRAME = ["playlist_id", "track_id", "position"]
URI_PREFIX = "spotify:track:"


class PlaylistSourceError(InputError):
    """A playlists or songs-to-sort file that cannot be read at all; the message names it."""


@dataclass
class PlaylistData:
    playlists: pd.DataFrame  # PLAYLIST_FRAME
    memberships: pd.DataFrame  # MEMBERSHIP_FRAME, track ids may be unknown to the catalog
    unmatched: int = 0  # export items no catalog track matched
    items: int = 0

    @property
    def match_rate(self) -> float:
        return (self.items - self.unmatched) / self.items if self.items else 1.0


def sample_playlists(path: Path) -> PlaylistData:
    """The generated sample's playlists.json."""
    try:
        raw = json.loads(Path(path).read_text("utf-8"))["playlists"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlaylistSourceError(f"{path}: not a sample playlists.json ({exc})") from exc
    playlists = pd.DataFrame(
        [
            {"playlist_id": p["playlist_id"], "name": p["name"],
             "description": p.get("description") or "", "source": "sample"}
            for p in raw
        ],
        columns=PLAYLIST_FRAME,
    )  # fmt: skip
    memberships = pd.DataFrame(
        [
            {"playlist_id": p["playlist_id"], "track_id": t, "position": i}
            for p in raw
            for i, t in enumerate(p["tracks"])
        ],
        columns=MEMBERSHIP_FRAME,
    )
    return PlaylistData(playlists, memberships, 0, len(memberships))


def export_playlists(path: Path, catalog: pd.DataFrame) -> PlaylistData:
    """A privacy export's Playlist*.json, items matched to `catalog` by id or artist + title."""
    from spotify_assets.lib.catalog.names import match_by_name
    from spotify_assets.lib.playlists.export import read_playlist_export

    report = read_playlist_export(path)
    items = report.items
    matched = match_by_name(items, catalog) if len(items) else pd.Series(dtype=object)
    items = items.assign(track_id=matched.to_numpy() if len(items) else [])
    found = items[items["track_id"].notna()]
    memberships = found[["playlist_id", "track_id", "position"]].drop_duplicates(
        ["playlist_id", "track_id"]
    )
    playlists = report.playlists.assign(source="export")[PLAYLIST_FRAME]
    return PlaylistData(
        playlists,
        memberships.reset_index(drop=True),
        int(items["track_id"].isna().sum()),
        len(items),
    )


def liked_from_library(path: Path) -> list[str]:
    """Track ids of YourLibrary.json's liked songs (entries without a track URI are skipped)."""
    try:
        tracks = json.loads(Path(path).read_text("utf-8"))["tracks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlaylistSourceError(
            f"{path}: not a YourLibrary.json with a `tracks` list ({exc})"
        ) from exc
    return [
        t["uri"].removeprefix(URI_PREFIX)
        for t in tracks
        if str(t.get("uri", "")).startswith(URI_PREFIX)
    ]


def recent_from_history(folder: Path, days: int = 14) -> list[str]:
    """Distinct tracks played (not skipped) in the last `days` days of an extended export."""
    records: list[dict] = []
    files = sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else [Path(folder)]
    for file in files:
        try:
            records += json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PlaylistSourceError(f"{file}: not a streaming-history JSON file ({exc})") from exc
    plays = pd.DataFrame(records)
    if plays.empty or "spotify_track_uri" not in plays:
        return []
    plays = plays[plays["spotify_track_uri"].fillna("").str.startswith(URI_PREFIX)]
    plays = plays[
        ~plays.get("skipped", pd.Series(False, index=plays.index)).fillna(False).astype(bool)
    ]
    ts = pd.to_datetime(plays["ts"], utc=True)
    recent = plays[ts >= ts.max() - timedelta(days=days)].assign(ts=ts)
    recent = recent.sort_values("ts", ascending=False)
    return list(dict.fromkeys(recent["spotify_track_uri"].str.removeprefix(URI_PREFIX)))


def ids_from_csv(path: Path) -> list[str]:
    """A CSV with a `track_id` column (or one column of ids / Spotify URIs)."""
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as exc:
        raise PlaylistSourceError(f"{path}: cannot read the candidates CSV ({exc})") from exc
    column = "track_id" if "track_id" in frame.columns else frame.columns[0]
    if "track_id" not in frame.columns and len(frame.columns) != 1:
        raise PlaylistSourceError(
            f"{path}: expected a `track_id` column, found {list(frame.columns)}"
        )
    values = frame[column].dropna().str.strip().str.removeprefix(URI_PREFIX)
    return list(dict.fromkeys(v for v in values if v))
