"""Where a person's playlists and songs-to-sort come from, as frames ready to store.

Playlists: the generated sample, a privacy export's Playlist1.json, the Spotify Web API
(TidyTuesday's playlists arrive with its catalog file). Candidates: liked songs
(YourLibrary.json or the API), recent plays (an extended streaming-history export or the
API) or a CSV of track ids. Every source returns ids that the caller matches to the catalog.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pandas as pd

from spotify_assets.lib.errors import InputError
from spotify_assets.lib.export.accounting import FileAccount
from spotify_assets.lib.export.files import Rejected

PLAYLIST_FRAME = ["playlist_id", "name", "description", "source"]
MEMBERSHIP_FRAME = ["playlist_id", "track_id", "position"]
ITEM_FRAME = ("artist", "title", "album", "track_id")  # a song as a library names it
URI_PREFIX = "spotify:track:"


class PlaylistSourceError(InputError):
    """A playlists or songs-to-sort file that cannot be read at all; the message names it."""


@dataclass
class PlaylistData:
    playlists: pd.DataFrame  # PLAYLIST_FRAME
    memberships: pd.DataFrame  # MEMBERSHIP_FRAME, track ids may be unknown to the catalog
    unmatched: int = 0  # export items no catalog file's track matched
    items: int = 0
    new_tracks: pd.DataFrame | None = None  # library tracks to store with the memberships
    merges: dict[str, str] | None = None  # `lib:` ids whose Spotify id appeared → that id
    accounts: list[FileAccount] = field(default_factory=list)  # an export's files' rows
    rejected: list[Rejected] = field(default_factory=list)  # its rows to quarantine

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


KnownFor = Callable[[pd.DataFrame], tuple[pd.DataFrame, Mapping[str, str]]]


def export_playlists(
    path: Path,
    known: pd.DataFrame | KnownFor,
    person: str = "",
    aliases: Mapping[str, str] | None = None,
) -> PlaylistData:
    """A privacy export's Playlist*.json: every item that names a song is a member, resolved
    to its track (lib/catalog/library.py); each file's items are accounted for. `known`: the
    stored tracks, or a function of the items giving the ones they may be and their aliases
    (lib/catalog/known.py), so the whole table is not read."""
    from spotify_assets.lib.catalog.library import resolve_library
    from spotify_assets.lib.export.playlists import read_playlist_export

    report = read_playlist_export(path, person)
    if callable(known):  # the stored tracks these items may be (lib/catalog/known.py)
        known, aliases = known(report.items)
    resolved = resolve_library(report.items, known, str(path), aliases)
    items = report.items.reset_index(drop=True).assign(track_id=resolved.track_ids.to_numpy())
    found = items[items["track_id"].notna()]
    repeated = found.duplicated(["playlist_id", "track_id"])  # one song twice in a playlist
    accounts = {a.file: a for a in report.accounts}
    for file, count in found.loc[repeated, "file"].value_counts().items():
        accounts[file].duplicates += int(count)
    for file, count in found.loc[~repeated, "file"].value_counts().items():
        accounts[file].stored += int(count)
    rejected = list(report.rejected)
    for row in items[items["track_id"].isna()].itertuples():  # only an id the catalog lacks
        account = accounts[row.file]
        rejected.append(Rejected(row.file, account.sha256, account.quarantined,
                                 "a track id no stored track has and no name to add it by",
                                 {"trackUri": None}))  # fmt: skip
        account.quarantined += 1
    memberships = found.loc[~repeated, ["playlist_id", "track_id", "position"]]
    playlists = report.playlists.assign(source="export")[PLAYLIST_FRAME]
    return PlaylistData(
        playlists,
        memberships.reset_index(drop=True),
        resolved.items - resolved.in_catalog,
        resolved.items,
        resolved.new_tracks,
        resolved.merges,
        accounts=list(accounts.values()),
        rejected=rejected,
    )


def liked_items(path: Path) -> pd.DataFrame:
    """YourLibrary.json's liked songs as items (artist, title, album, track_id from the URI,
    and the file); `path` is the file, or an export folder or zip holding it."""
    from spotify_assets.lib.export.library import read_liked

    return read_liked(path).items


def liked_from_library(path: Path) -> list[str]:
    """Track ids of YourLibrary.json's liked songs (entries without a track URI are skipped)."""
    return [t for t in liked_items(path)["track_id"] if t]


def recent_items(path: Path, days: int = 14) -> pd.DataFrame:
    """Distinct songs played (not skipped) in the last `days` days of a history (a file, a
    folder or zip: a whole export works), most recent first, as items (artist, title, album,
    track_id)."""
    from spotify_assets.lib.export.history import read_history

    plays = read_history(path).plays
    if plays.empty:
        return pd.DataFrame(columns=list(ITEM_FRAME), dtype=object)
    plays = plays[~plays["skipped"].astype("boolean").fillna(False).astype(bool)]
    ended = pd.to_datetime(plays["ended_at"], utc=True)
    recent = plays[ended >= ended.max() - timedelta(days=days)].assign(_ended=ended)
    recent = recent.sort_values("_ended", ascending=False).drop_duplicates("play_key")
    by_name = recent["play_key"].str.startswith("name:")
    return pd.DataFrame(
        {
            "artist": recent["artist_name"].tolist(),
            "title": recent["track_name"].tolist(),
            "album": recent["album_name"].tolist(),
            "track_id": recent["track_id"].where(~by_name, None).tolist(),
        },
        dtype=object,
    )


def recent_from_history(path: Path, days: int = 14) -> list[str]:
    """Track ids of the songs `recent_items` finds (songs known by name only are left out)."""
    return [t for t in recent_items(path, days)["track_id"] if isinstance(t, str)]


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
