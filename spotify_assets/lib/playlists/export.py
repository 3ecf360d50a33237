"""Read the playlists of a Spotify privacy export (Playlist1.json, ...).

The export is what people without API credentials have. Its rows name songs (artist, title,
album) and, in newer exports, carry a `spotify:track:` URI; rows are matched to the catalog
later (`catalog.names.match_by_name`). Everything is parsed before anything is returned, so a
bad file fails the whole read with an `ExportError` rather than giving a partial library.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from spotify_assets.lib.errors import InputError
from spotify_assets.lib.hashing import stable_hash

PLAYLIST_FILE = re.compile(r"^Playlist(\d*)\.json$", re.IGNORECASE)
TRACK_URI = re.compile(r"^(?:spotify:track:|https://open\.spotify\.com/track/)([0-9A-Za-z]{22})")
PLAYLIST_COLUMNS = ["playlist_id", "name", "description", "source"]
ITEM_COLUMNS = ["playlist_id", "position", "artist", "title", "album", "track_id"]
ID_HEX_CHARS = 16


class ExportError(InputError):
    """An export that cannot be read at all; the message names the file and what is wrong."""


@dataclass
class ExportReport:
    playlists: pd.DataFrame  # PLAYLIST_COLUMNS
    items: pd.DataFrame  # ITEM_COLUMNS; position is 0-based among the playlist's tracks
    files: list[str]
    skipped_episodes: int = 0
    skipped_local: int = 0
    skipped_audiobooks: int = 0
    skipped_other: int = 0  # items with neither a track nor anything recognizable

    @property
    def skipped(self) -> int:
        return sum(
            (self.skipped_episodes, self.skipped_local, self.skipped_audiobooks, self.skipped_other)
        )

    def as_dict(self) -> dict:
        return {
            "files": list(self.files),
            "playlists": len(self.playlists),
            "tracks": len(self.items),
            "with_track_id": int(self.items["track_id"].notna().sum()),
            "skipped_episodes": self.skipped_episodes,
            "skipped_local": self.skipped_local,
            "skipped_audiobooks": self.skipped_audiobooks,
            "skipped_other": self.skipped_other,
        }


def export_playlist_id(name: str, occurrence: int = 0, person: str = "") -> str:
    """Stable id from the person and the name (two people's "Chill" are two playlists); a
    second playlist of the same name gets occurrence 1, ..."""
    payload: dict[str, Any] = {"export_playlist": name}
    if occurrence:
        payload["occurrence"] = occurrence
    if person:
        payload["person"] = person
    digest = stable_hash("pl", payload).rsplit("_", 1)[1]
    return f"export:{digest[:ID_HEX_CHARS]}"


def read_playlist_export(path: str | Path, person: str = "") -> ExportReport:
    """Playlists and their track rows from a Playlist*.json file, a folder of them, or a zip;
    `person` (whose export it is) is part of every playlist id."""
    sources = _sources(Path(path))
    report = ExportReport(pd.DataFrame(), pd.DataFrame(), [label for label, _ in sources])
    playlists: list[dict] = []
    items: list[dict] = []
    occurrences: dict[str, int] = {}
    for label, data in sources:
        for index, playlist in enumerate(_playlists(label, data)):
            where = f"{label}: playlist {index} ({playlist.get('name')!r})"
            name = playlist.get("name")
            if not isinstance(name, str):
                raise ExportError(f"{where}: 'name' must be a string")
            raw_items = playlist.get("items", [])
            if not isinstance(raw_items, list):
                raise ExportError(f"{where}: 'items' must be a list")
            playlist_id = export_playlist_id(name, occurrences.get(name, 0), person)
            occurrences[name] = occurrences.get(name, 0) + 1
            playlists.append(
                {
                    "playlist_id": playlist_id,
                    "name": name,
                    "description": playlist.get("description") or None,
                    "source": "export",
                }
            )
            rows = _items(report, where, playlist_id, raw_items)
            items.extend(rows)
    report.playlists = _frame(playlists, PLAYLIST_COLUMNS, nullable=("description",))
    report.items = _frame(items, ITEM_COLUMNS, nullable=("album", "track_id"))
    report.items["position"] = report.items["position"].astype("int64")
    return report


def _frame(rows: list[dict], columns: list[str], nullable: tuple[str, ...]) -> pd.DataFrame:
    """Rows as a frame whose `nullable` columns hold None, not NaN, for missing values."""
    frame = pd.DataFrame(rows, columns=columns)
    for name in nullable:
        frame[name] = pd.Series([r[name] for r in rows], index=frame.index, dtype=object)
    return frame


def _items(report: ExportReport, where: str, playlist_id: str, raw: list) -> list[dict]:
    rows: list[dict] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ExportError(f"{where}, item {i}: expected an object, got {type(item).__name__}")
        track = item.get("track")
        if track is None:
            if item.get("episode") is not None:
                report.skipped_episodes += 1
            elif item.get("audiobook") is not None:
                report.skipped_audiobooks += 1
            elif item.get("localTrack") is not None:
                report.skipped_local += 1
            else:
                report.skipped_other += 1
            continue
        if not isinstance(track, dict):
            raise ExportError(f"{where}, item {i}: 'track' must be an object or null")
        title, artist = track.get("trackName"), track.get("artistName")
        if not isinstance(title, str) or not isinstance(artist, str):
            raise ExportError(
                f"{where}, item {i}: track needs 'trackName' and 'artistName' strings, "
                f"has keys {sorted(track)}"
            )
        uri = track.get("trackUri")
        if isinstance(uri, str) and uri.startswith("spotify:local:"):
            report.skipped_local += 1
            continue
        found = TRACK_URI.match(uri) if isinstance(uri, str) else None
        rows.append(
            {
                "playlist_id": playlist_id,
                "position": len(rows),
                "artist": artist,
                "title": title,
                "album": track.get("albumName") or None,
                "track_id": found.group(1) if found else None,
            }
        )
    return rows


def _playlists(label: str, data: bytes) -> list:
    """The `playlists` list of one file, after checking it is a playlist file at all."""
    if not data.strip():
        raise ExportError(f"{label}: file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{label}: not UTF-8 text (byte {exc.start}); is it a JSON file?"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise ExportError(
                f"{label}: truncated JSON (the file ends at line {exc.lineno} before the "
                "document is complete); unzip or download the export again"
            ) from None
        raise ExportError(
            f"{label}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None

    if isinstance(doc, list):
        first = doc[0] if doc and isinstance(doc[0], dict) else {}
        if {"endTime", "msPlayed"} <= first.keys() or {"ts", "ms_played"} <= first.keys():
            raise ExportError(
                f"{label}: this is a streaming-history file (a list of plays), not a playlist "
                "file; pass Playlist1.json, the export folder or the export zip"
            )
        raise ExportError(f"{label}: expected an object with a 'playlists' list, got a JSON array")
    if not isinstance(doc, dict):
        raise ExportError(f"{label}: expected an object with a 'playlists' list")
    if "playlists" not in doc:
        hint = (
            " (this looks like YourLibrary.json: saved tracks, not playlists)"
            if "tracks" in doc
            else ""
        )
        raise ExportError(f"{label}: no 'playlists' list{hint}; top-level keys: {sorted(doc)[:10]}")
    if not isinstance(doc["playlists"], list):
        raise ExportError(f"{label}: 'playlists' must be a list")
    for index, playlist in enumerate(doc["playlists"]):
        if not isinstance(playlist, dict):
            raise ExportError(f"{label}: playlist {index} is not an object")
    return doc["playlists"]


def _order(name: str) -> tuple[int, str]:
    """Playlist2.json before Playlist10.json."""
    found = PLAYLIST_FILE.match(PurePosixPath(name).name)
    return (int(found.group(1) or 0) if found else 0, name)


def _sources(path: Path) -> list[tuple[str, bytes]]:
    """(label, bytes) of every playlist file that `path` holds, in export order."""
    if not path.exists():
        raise ExportError(f"{path}: not found")
    if path.is_dir():
        files = [p for p in path.rglob("*.json") if PLAYLIST_FILE.match(p.name)]
        if not files:
            present = sorted(p.name for p in path.rglob("*.json"))[:8]
            raise ExportError(
                f"{path}: no Playlist*.json in this folder (JSON files found: {present or 'none'})"
            )
        files.sort(key=lambda p: (str(p.parent), *_order(p.name)))
        return [(str(p), p.read_bytes()) for p in files]
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = [
                    n for n in archive.namelist() if PLAYLIST_FILE.match(PurePosixPath(n).name)
                ]
                if not names:
                    present = [n for n in archive.namelist() if n.endswith(".json")][:8]
                    raise ExportError(
                        f"{path}: no Playlist*.json in this zip (JSON files found: "
                        f"{present or 'none'})"
                    )
                names.sort(key=lambda n: (str(PurePosixPath(n).parent), *_order(n)))
                return [(f"{path}!{n}", archive.read(n)) for n in names]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise ExportError(f"{path}: cannot read the zip (truncated download?): {exc}") from exc
    if path.suffix.lower() == ".zip":
        raise ExportError(f"{path}: not a valid zip file (truncated download?)")
    return [(str(path), path.read_bytes())]
