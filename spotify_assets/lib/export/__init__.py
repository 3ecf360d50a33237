"""A privacy export: the one reader of what a person downloads from Spotify.

`files` finds and reads an export's files (folder, zip or one file) under one set of rules:
size caps, zip member and symbolic-link rules, UTF-8 / Windows-1252 text, JSON nesting.
`playlists`, `library` and `history` parse its three parts (Playlist*.json, YourLibrary.json,
the streaming history) into frames, quarantine bad rows with their position and account for
every row (`accounting`). `read_export` reads all parts at once, so an import can validate
every file before it writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spotify_assets.lib.export.accounting import FileAccount
from spotify_assets.lib.export.files import HISTORY, LIBRARY, PLAYLISTS, ExportFiles, find
from spotify_assets.lib.export.history import History, read_history
from spotify_assets.lib.export.library import LikedSongs, read_liked
from spotify_assets.lib.export.playlists import ExportReport, read_playlist_export


@dataclass
class ExportContents:
    files: ExportFiles
    playlists: ExportReport | None
    liked: LikedSongs | None
    history: History | None

    @property
    def accounts(self) -> list[FileAccount]:
        parts = (self.playlists, self.liked, self.history.report if self.history else None)
        return [a for part in parts if part is not None for a in part.accounts]


def read_export(path: str | Path, person: str = "") -> ExportContents:
    """Every part the export has, parsed; raises an ExportError naming the first file that
    cannot be read, before anything is written anywhere."""
    files = find(path)
    return ExportContents(
        files,
        read_playlist_export(path, person) if files.of(PLAYLISTS) else None,
        read_liked(path) if files.of(LIBRARY) else None,
        read_history(path) if files.of(HISTORY) else None,
    )
