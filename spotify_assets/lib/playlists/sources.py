"""Where a person's playlists and songs-to-sort come from, as frames ready to store.

Playlists: the generated sample, a privacy export's Playlist1.json, the Spotify Web API
(TidyTuesday's playlists arrive with its catalog file). Candidates: liked songs
(YourLibrary.json or the API), recent plays (an extended streaming-history export or the
API) or a CSV of track ids. Every source returns ids that the caller matches to the catalog.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath

import pandas as pd

from spotify_assets.lib.errors import InputError

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


def export_playlists(path: Path, known: pd.DataFrame, person: str = "") -> PlaylistData:
    """A privacy export's Playlist*.json: every item that names a song is a member, matched to
    a `known` track by id or artist + title, else a new library track (lib/catalog/library.py).
    """
    from spotify_assets.lib.catalog.library import resolve_library
    from spotify_assets.lib.playlists.export import read_playlist_export

    report = read_playlist_export(path, person)
    resolved = resolve_library(report.items, known, source_file=str(path))
    items = report.items.reset_index(drop=True).assign(track_id=resolved.track_ids.to_numpy())
    found = items[items["track_id"].notna()]
    memberships = found[["playlist_id", "track_id", "position"]].drop_duplicates(
        ["playlist_id", "track_id"]
    )
    playlists = report.playlists.assign(source="export")[PLAYLIST_FRAME]
    return PlaylistData(
        playlists,
        memberships.reset_index(drop=True),
        resolved.items - resolved.in_catalog,
        resolved.items,
        resolved.new_tracks,
        resolved.merges,
    )


LIBRARY_FILE = "YourLibrary.json"


@dataclass(frozen=True)
class ExportParts:
    """What a privacy export (folder or zip) holds, by the names Spotify gives its files."""

    playlists: list[str]
    library: str | None  # YourLibrary.json
    history: list[str]

    @property
    def empty(self) -> bool:
        return not (self.playlists or self.library or self.history)


def export_parts(path: Path) -> ExportParts:
    """The playlist, library and streaming-history files of an export folder or zip (or the
    one file `path` is)."""
    from spotify_assets.lib.listening.exports import HISTORY_FILE
    from spotify_assets.lib.playlists.export import PLAYLIST_FILE

    path = Path(path)
    if path.is_dir():
        names = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/"))
    else:
        names = [path.name]
    base = {n: PurePosixPath(n).name for n in names}
    return ExportParts(
        playlists=[n for n, b in base.items() if PLAYLIST_FILE.match(b)],
        library=next((n for n, b in base.items() if b == LIBRARY_FILE), None),
        history=[n for n, b in base.items() if HISTORY_FILE.match(b)],
    )


def _library_text(path: Path) -> tuple[str, str]:
    """(label, text) of YourLibrary.json: the file, or the one in an export folder or zip."""
    if path.is_dir() or zipfile.is_zipfile(path):
        member = export_parts(path).library
        if member is None:
            raise PlaylistSourceError(f"{path}: no {LIBRARY_FILE} in this export")
        if path.is_dir():
            return str(path / member), (path / member).read_text("utf-8")
        with zipfile.ZipFile(path) as archive:
            return f"{path}!{member}", archive.read(member).decode("utf-8")
    return str(path), path.read_text("utf-8")


def liked_items(path: Path) -> pd.DataFrame:
    """YourLibrary.json's liked songs as items (artist, title, album, track_id from the URI);
    `path` is the file, or an export folder or zip holding it."""
    try:
        label, text = _library_text(Path(path))
        path = Path(label)
        tracks = json.loads(text)["tracks"]
        if not isinstance(tracks, list):
            raise TypeError("`tracks` is not a list")
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise PlaylistSourceError(
            f"{path}: not a YourLibrary.json with a `tracks` list ({exc})"
        ) from exc
    rows = []
    for t in tracks:
        if not isinstance(t, dict):
            continue
        uri = str(t.get("uri") or "")
        rows.append({
            "artist": _text(t.get("artist")), "title": _text(t.get("track")),
            "album": _text(t.get("album")),
            "track_id": uri.removeprefix(URI_PREFIX) if uri.startswith(URI_PREFIX) else None,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=list(ITEM_FRAME), dtype=object)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def liked_from_library(path: Path) -> list[str]:
    """Track ids of YourLibrary.json's liked songs (entries without a track URI are skipped)."""
    return [t for t in liked_items(path)["track_id"] if t]


def recent_items(folder: Path, days: int = 14) -> pd.DataFrame:
    """Distinct tracks played (not skipped) in the last `days` days of an extended export, most
    recent first, as items (artist, title, album, track_id)."""
    records: list[dict] = []
    files = sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else [Path(folder)]
    for file in files:
        try:
            records += json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise PlaylistSourceError(f"{file}: not a streaming-history JSON file ({exc})") from exc
    plays = pd.DataFrame(records)
    if plays.empty or "spotify_track_uri" not in plays:
        return pd.DataFrame(columns=list(ITEM_FRAME), dtype=object)
    plays = plays[plays["spotify_track_uri"].fillna("").str.startswith(URI_PREFIX)]
    plays = plays[
        ~plays.get("skipped", pd.Series(False, index=plays.index)).fillna(False).astype(bool)
    ]
    ts = pd.to_datetime(plays["ts"], utc=True)
    recent = plays[ts >= ts.max() - timedelta(days=days)].assign(ts=ts)
    recent = recent.sort_values("ts", ascending=False)
    recent = recent.drop_duplicates("spotify_track_uri")

    def column(name: str) -> list:
        values = recent[name] if name in recent else pd.Series(None, index=recent.index)
        return [_text(v) for v in values]

    return pd.DataFrame(
        {
            "artist": column("master_metadata_album_artist_name"),
            "title": column("master_metadata_track_name"),
            "album": column("master_metadata_album_album_name"),
            "track_id": recent["spotify_track_uri"].str.removeprefix(URI_PREFIX).tolist(),
        },
        dtype=object,
    )


def recent_from_history(folder: Path, days: int = 14) -> list[str]:
    """Distinct tracks played (not skipped) in the last `days` days of an extended export."""
    return recent_items(folder, days)["track_id"].tolist()


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
