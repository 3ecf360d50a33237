"""Read the liked songs of a privacy export (`YourLibrary.json`'s `tracks` list).

Found and read by lib/export/files.py (size caps, zip and link rules). An entry names a song
(`artist`, `track`, `album`, and in most exports its `uri`); an entry that is not an object or
names no song is quarantined with its position and the reason, a local file is excluded and
counted, and every entry is accounted for (duplicates are counted when the songs are stored:
two entries of one track).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spotify_assets.lib.catalog.values import check_text
from spotify_assets.lib.export.accounting import FileAccount, file_label
from spotify_assets.lib.export.files import (
    LIBRARY,
    TRACK_URI,
    ExportError,
    Rejected,
    find,
    json_text,
    load_json,
    sha256,
)

ITEM_COLUMNS = ["artist", "title", "album", "track_id", "file"]
_FIELDS = ("artist", "album", "track", "uri")  # what a quarantined entry keeps


@dataclass
class LikedSongs:
    items: pd.DataFrame  # ITEM_COLUMNS, in the file's order
    accounts: list[FileAccount] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def read_liked(path: str | Path, max_file_bytes: int | None = None) -> LikedSongs:
    """Liked songs of YourLibrary.json: the file, or the one in an export folder or zip."""
    path = Path(path)
    files = find(path, any_name=LIBRARY).of(LIBRARY)
    if not files:
        raise ExportError(f"{path}: no YourLibrary.json in this export")
    file = files[0]
    data = file.read(max_file_bytes)
    doc = load_json(json_text(data, file.name), file.name)
    tracks = doc.get("tracks") if isinstance(doc, dict) else None
    if not isinstance(tracks, list):
        raise ExportError(f"{file.name}: not a YourLibrary.json with a `tracks` list")
    account = FileAccount(file_label(file.name), LIBRARY, sha256(data), rows=len(tracks))
    rows, rejected = [], []
    for index, entry in enumerate(tracks):
        song = _song(entry)
        if song == "local files":
            account.excluded["local files"] = account.excluded.get("local files", 0) + 1
        elif isinstance(song, str):
            kept = {k: entry.get(k) for k in _FIELDS if k in entry} if isinstance(entry, dict) else {}
            rejected.append(Rejected(account.file, account.sha256, len(rejected),
                                     f"liked song {index}: {song}", kept))  # fmt: skip
        else:
            rows.append({**song, "file": account.file})
    account.quarantined = len(rejected)
    items = pd.DataFrame(rows, columns=ITEM_COLUMNS, dtype=object)
    return LikedSongs(items, [account], rejected)


def _song(entry: Any) -> dict | str:
    """The entry's song, "local files", or why it cannot be read."""
    if not isinstance(entry, dict):
        return f"the entry is {'null' if entry is None else type(entry).__name__}, not an object"
    uri = entry.get("uri")
    if isinstance(uri, str) and uri.startswith("spotify:local:"):
        return "local files"
    found = TRACK_URI.match(uri) if isinstance(uri, str) else None
    values = {}
    for name in ("artist", "track", "album"):
        value = entry.get(name)
        if isinstance(value, str) and (why := check_text(value)):
            return f"{name}: {why}"
        values[name] = value if isinstance(value, str) and value.strip() else None
    if values["track"] is None and found is None:
        return "no track name and no track URI"
    return {"artist": values["artist"], "title": values["track"], "album": values["album"],
            "track_id": found.group(1) if found else None}  # fmt: skip
