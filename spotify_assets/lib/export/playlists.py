"""Read the playlists of a Spotify privacy export (Playlist1.json, Playlist2.json, ...).

The export is what people without API credentials have. Its rows name songs (artist, title,
album) and, in newer exports, carry a `spotify:track:` URI; which track each row is gets
decided when it is stored (lib/catalog/library.py). Files are found and read by
lib/export/files.py (size caps, zip and link rules); a file that is not a playlist document
at all fails the read with an `ExportError` naming it, before anything is returned.

Within a good file, a bad row is one row: an item that is not an object or names no song is
quarantined with its position and the reason, a playlist whose name breaks the text rules
(over `MAX_TEXT` characters, control characters) is quarantined with its items, and a
description that breaks them is dropped (counted). Episodes, audiobooks and local files are
excluded and counted. Every item is accounted for (`ExportReport.accounts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spotify_assets.lib.catalog.values import check_text
from spotify_assets.lib.export.accounting import FileAccount, file_label
from spotify_assets.lib.export.files import (
    PLAYLISTS,
    TRACK_URI,
    ExportError,
    Rejected,
    find,
    json_text,
    load_json,
    sha256,
)
from spotify_assets.lib.hashing import stable_hash

PLAYLIST_COLUMNS = ["playlist_id", "name", "description", "source"]
ITEM_COLUMNS = ["playlist_id", "position", "artist", "title", "album", "track_id", "file"]
ID_HEX_CHARS = 16
# the fields of an item kept when it is quarantined (what names the song, nothing else)
_ITEM_FIELDS = ("trackName", "artistName", "albumName", "trackUri")
_EXCLUDED = {"episode": "podcast episodes", "audiobook": "audiobooks", "localTrack": "local files"}


@dataclass
class ExportReport:
    playlists: pd.DataFrame  # PLAYLIST_COLUMNS
    items: pd.DataFrame  # ITEM_COLUMNS; position is 0-based among the playlist's songs
    files: list[str]
    accounts: list[FileAccount] = field(default_factory=list)  # one per file
    rejected: list[Rejected] = field(default_factory=list)  # for the quarantine table
    descriptions_dropped: int = 0

    def excluded(self, kind: str) -> int:
        """Excluded items of one kind ('podcast episodes', 'audiobooks', 'local files')."""
        return sum(a.excluded.get(kind, 0) for a in self.accounts)

    @property
    def skipped(self) -> int:
        return sum(a.excluded_total for a in self.accounts)

    @property
    def skipped_episodes(self) -> int:
        return self.excluded("podcast episodes")

    @property
    def skipped_local(self) -> int:
        return self.excluded("local files")

    @property
    def skipped_audiobooks(self) -> int:
        return self.excluded("audiobooks")

    def as_dict(self) -> dict:
        return {
            "files": list(self.files),
            "playlists": len(self.playlists),
            "tracks": len(self.items),
            "with_track_id": int(self.items["track_id"].notna().sum()),
            "skipped_episodes": self.skipped_episodes,
            "skipped_local": self.skipped_local,
            "skipped_audiobooks": self.skipped_audiobooks,
            "quarantined": len(self.rejected),
            "descriptions_dropped": self.descriptions_dropped,
        }


def export_playlist_id(name: str, occurrence: int = 0, person: str = "") -> str:
    """Stable id from the person and the name (two people's "Chill" are two playlists); a
    second playlist of the same name gets occurrence 1, ..."""
    payload: dict[str, Any] = {"export_playlist": name}
    if occurrence:
        payload["occurrence"] = occurrence
    if person:
        payload["owner"] = person  # the hash input's field name since v1: ids stay stable
    digest = stable_hash("pl", payload).rsplit("_", 1)[1]
    return f"export:{digest[:ID_HEX_CHARS]}"


def read_playlist_export(
    path: str | Path, person: str = "", max_file_bytes: int | None = None
) -> ExportReport:
    """Playlists and their song rows from a Playlist*.json file, a folder of them, or a zip;
    `person` (whose export it is) is part of every playlist id."""
    path = Path(path)
    found = find(path, any_name=PLAYLISTS)
    files = found.of(PLAYLISTS)
    if not files:
        where = "folder" if path.is_dir() else "zip"
        present = found.names(".json")[:8]
        raise ExportError(
            f"{path}: no Playlist*.json in this {where} (JSON files found: {present or 'none'})"
        )
    reader = _Reader(person)
    for file in files:
        data = file.read(max_file_bytes)
        reader.file(file.name, sha256(data), load_json(json_text(data, file.name), file.name))
    return reader.report([f.name for f in files])


class _Reader:
    """Playlists of several files, with their ids numbered across files (Playlist1, 2, …)."""

    def __init__(self, person: str):
        self.person = person
        self.playlists: list[dict] = []
        self.items: list[dict] = []
        self.accounts: list[FileAccount] = []
        self.rejected: list[Rejected] = []
        self.occurrences: dict[str, int] = {}
        self.dropped = 0

    def report(self, files: list[str]) -> ExportReport:
        playlists = _frame(self.playlists, PLAYLIST_COLUMNS, nullable=("description",))
        items = _frame(self.items, ITEM_COLUMNS, nullable=("album", "track_id"))
        items["position"] = items["position"].astype("int64")
        return ExportReport(playlists, items, files, self.accounts, self.rejected, self.dropped)

    def file(self, name: str, digest: str, doc: Any) -> None:
        account = FileAccount(file_label(name), PLAYLISTS, digest)
        self.accounts.append(account)
        for index, playlist in enumerate(_playlists(name, doc)):
            self.playlist(name, digest, index, playlist, account)

    def reject(self, name: str, digest: str, where: str, why: str, raw: Any,
               account: FileAccount) -> None:  # fmt: skip
        kept = {k: raw.get(k) for k in _ITEM_FIELDS if k in raw} if isinstance(raw, dict) else {}
        line = account.quarantined  # the file's n-th rejected row: stable across re-imports
        self.rejected.append(Rejected(file_label(name), digest, line, f"{where}: {why}", kept))
        account.quarantined += 1

    def playlist(self, name: str, digest: str, index: int, playlist: Any,
                 account: FileAccount) -> None:  # fmt: skip
        where = f"playlist {index}"
        if not isinstance(playlist, dict):
            account.rows += 1
            self.reject(name, digest, where, f"{where} is {_kind(playlist)}, not an object",
                        None, account)  # fmt: skip
            return
        items = playlist.get("items", [])
        title = playlist.get("name")
        problem = (
            "'items' is not a list" if not isinstance(items, list)
            else "has no name" if title is None
            else f"name: {why}" if (why := check_text(title)) else None
        )  # fmt: skip
        if problem:
            entries = items if isinstance(items, list) and items else [None]
            for position, item in enumerate(entries):
                account.rows += 1
                track = item.get("track") if isinstance(item, dict) else None
                self.reject(name, digest, f"{where}, item {position}",
                            f"the playlist {problem}", track, account)  # fmt: skip
            return
        description = playlist.get("description") or None
        if description is not None and check_text(description):
            description = None
            self.dropped += 1
        playlist_id = export_playlist_id(title, self.occurrences.get(title, 0), self.person)
        self.occurrences[title] = self.occurrences.get(title, 0) + 1
        self.playlists.append({"playlist_id": playlist_id, "name": title,
                               "description": description, "source": "export"})  # fmt: skip
        position = 0
        for i, item in enumerate(items):
            account.rows += 1
            row_where = f"{where} ({title[:60]!r}), item {i}"
            song = self.song(item)
            if isinstance(song, str):
                if song in _EXCLUDED.values():
                    account.excluded[song] = account.excluded.get(song, 0) + 1
                else:
                    raw = item.get("track") if isinstance(item, dict) else None
                    self.reject(name, digest, row_where, song, raw, account)
                continue
            self.items.append({"playlist_id": playlist_id, "position": position, **song,
                               "file": file_label(name)})  # fmt: skip
            position += 1

    @staticmethod
    def song(item: Any) -> dict | str:
        """The item's song (artist, title, album, track_id), or why there is none: an excluded
        kind (a value of _EXCLUDED) or the reason it is quarantined."""
        if not isinstance(item, dict):
            return f"the item is {_kind(item)}, not an object"
        track = item.get("track")
        if track is None:
            for key, kind in _EXCLUDED.items():
                if item.get(key) is not None:
                    return kind
            return "the item names no track, episode, audiobook or local file"
        if not isinstance(track, dict):
            return f"'track' is {_kind(track)}, not an object"
        uri = track.get("trackUri")
        if isinstance(uri, str) and uri.startswith("spotify:local:"):
            return _EXCLUDED["localTrack"]
        title, artist, album = track.get("trackName"), track.get("artistName"), track.get("albumName")
        for field_name, value in (("trackName", title), ("artistName", artist)):
            if not isinstance(value, str) or not value.strip():
                return f"{field_name}: missing" if value is None else (
                    f"{field_name}: {check_text(value) or 'blank'}"
                )
            if why := check_text(value):
                return f"{field_name}: {why}"
        album = album if isinstance(album, str) and album and not check_text(album) else None
        found = TRACK_URI.match(uri) if isinstance(uri, str) else None
        return {"artist": artist, "title": title, "album": album,
                "track_id": found.group(1) if found else None}  # fmt: skip


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _frame(rows: list[dict], columns: list[str], nullable: tuple[str, ...]) -> pd.DataFrame:
    """Rows as a frame whose `nullable` columns hold None, not NaN, for missing values."""
    frame = pd.DataFrame(rows, columns=columns)
    for name in nullable:
        frame[name] = pd.Series([r[name] for r in rows], index=frame.index, dtype=object)
    return frame


def _playlists(label: str, doc: Any) -> list:
    """The `playlists` list of one document, after checking it is a playlist file at all."""
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
    return doc["playlists"]
