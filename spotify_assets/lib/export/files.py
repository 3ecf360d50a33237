"""The files of a privacy export, found and read under one set of rules.

An export arrives as a folder, a zip, or one of its files. `find` lists its files by part —
playlists (`Playlist1.json`, `Playlist2.json`, …), liked songs (`YourLibrary.json`) and
streaming history (`StreamingHistory*.json`, `Streaming_History_Audio_*.json|csv`,
`endsong_*.json|csv`) — and ignores everything else. Before any file is read:
- in a folder, a file (or symbolic link) whose real path lies outside the folder refuses the
  export, naming the link; a link inside the folder is followed and each real file read once;
- in a zip, a member whose path leaves the archive ("../x", "/etc/x"), that is a symbolic link,
  or more than `MAX_MEMBERS` members refuse the zip; an encrypted wanted member refuses it.
Reading (`ExportFile.read`) streams the bytes and stops at `max_file_bytes` (default
`MAX_FILE_BYTES`, 256 MB, whatever a zip header claims); the first non-blank byte must suit
the file (`[` for a history's JSON list, `{` for a playlist or library document, text for a
CSV), so a binary blob is refused at its first chunk. JSON is decoded as UTF-8 (a BOM is fine)
and parsed with nesting deeper than Python's parser allows refused (`load_json`); a CSV that is not UTF-8
is decoded as Windows-1252, as spreadsheet programs write it, with a note. Every refusal is an
`ExportError` (or the caller's subclass) naming the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from spotify_assets.lib.catalog.values import json_int
from spotify_assets.lib.errors import InputError

PLAYLISTS, LIBRARY, HISTORY = "playlists", "library", "history"
PLAYLIST_FILE = re.compile(r"^Playlist(\d*)\.json$", re.IGNORECASE)
LIBRARY_FILE = "YourLibrary.json"
HISTORY_FILE = re.compile(
    r"^(StreamingHistory[^/]*\.json"
    r"|Streaming_History_(Audio|Video)_[^/]*\.(json|csv)"
    r"|endsong[^/]*\.(json|csv))$",
    re.IGNORECASE,
)
MAX_FILE_BYTES = 256 * 2**20  # one export file or zip member, uncompressed
MAX_MEMBERS = 20_000  # a real export zip holds a few dozen files
_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_FIRST_BYTE = {PLAYLISTS: ord("{"), LIBRARY: ord("{"), HISTORY: ord("[")}
_EXPECTED = {
    PLAYLISTS: "an object with a 'playlists' list",
    LIBRARY: "an object with a 'tracks' list",
    HISTORY: "a JSON list of plays",
}


TRACK_URI = re.compile(r"^(?:spotify:track:|https://open\.spotify\.com/track/)([0-9A-Za-z]{22})")


class ExportError(InputError):
    """An export file that cannot be read at all; the message names the file."""


@dataclass(frozen=True)
class Rejected:
    """A row of an export file that could not be read, for the `quarantine` table."""

    source_file: str  # the file's label (accounting.file_label): no folders
    source_sha256: str
    line: int  # 0-based index of the row among the file's rejected rows or records
    reason: str  # says where the row is and what is wrong with it
    raw: dict[str, Any]  # only the fields that name what the row was (never personal ones)


def kind_of(name: str) -> str | None:
    """Which part of an export a file name is, or None."""
    base = PurePosixPath(name.replace("\\", "/")).name
    if PLAYLIST_FILE.match(base):
        return PLAYLISTS
    if base == LIBRARY_FILE:
        return LIBRARY
    if HISTORY_FILE.match(base):
        return HISTORY
    return None


def playlist_order(name: str) -> tuple[str, int, str]:
    """Playlist2.json before Playlist10.json, folder by folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    found = PLAYLIST_FILE.match(path.name)
    return (str(path.parent), int(found.group(1) or 0) if found else 0, name)


@dataclass(frozen=True)
class ExportFile:
    """One file of an export, not read yet."""

    name: str  # shown in messages: the path, or "archive.zip!member"
    kind: str  # PLAYLISTS | LIBRARY | HISTORY
    _path: Path | None = None  # a file on disk
    _archive: Path | None = None  # ... or a member of this zip
    _member: str | None = None
    _size: int = 0

    def read(self, cap: int | None = None, error: type[ExportError] = ExportError) -> bytes:
        """The file's bytes, streamed and stopped at `cap` (default `MAX_FILE_BYTES`); its
        first byte must suit it."""
        cap = MAX_FILE_BYTES if cap is None else cap
        if self._size > cap:
            raise _too_large(self.name, cap, f"{self._size:,} bytes", error)
        try:
            if self._archive is not None:
                with zipfile.ZipFile(self._archive) as archive, archive.open(self._member) as f:
                    return _read(f, self, cap, error)
            with self._path.open("rb") as handle:  # type: ignore[union-attr]
                return _read(handle, self, cap, error)
        except ExportError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
                NotImplementedError, ValueError) as exc:  # fmt: skip
            raise error(f"{self.name}: cannot be read ({exc})") from exc


@dataclass(frozen=True)
class ExportFiles:
    """The files of an export by part, in reading order; nothing read yet."""

    path: Path
    files: list[ExportFile] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # names of the files it ignores

    def names(self, suffix: str = "") -> list[str]:
        """Base names of every file found (the export's and the ignored), for messages."""
        every = [f.name for f in self.files] + self.others
        return sorted({PurePosixPath(n.replace("!", "/")).name for n in every
                       if n.lower().endswith(suffix)})  # fmt: skip

    def of(self, kind: str) -> list[ExportFile]:
        return [f for f in self.files if f.kind == kind]

    @property
    def empty(self) -> bool:
        return not self.files

    def describe(self) -> str:
        playlists, history = len(self.of(PLAYLISTS)), len(self.of(HISTORY))
        library = "YourLibrary.json" if self.of(LIBRARY) else "no YourLibrary.json"
        return (
            f"{playlists} playlist file(s), {library}, {history} streaming-history file(s)"
        )


def find(
    path: str | Path, error: type[ExportError] = ExportError, any_name: str | None = None
) -> ExportFiles:
    """The export's files by part (see the module docstring). A single file of another name
    counts as `any_name`'s part when given (a notebook's `final.csv` as history)."""
    path = Path(path)
    others: list[str] = []
    if path.is_dir():
        files = _folder(path, error, others)
    elif path.is_file() and zipfile.is_zipfile(path):
        files = _zip(path, error, others)
    elif path.is_file():
        if path.suffix.lower() == ".zip":
            raise error(f"{path}: not a readable zip file (truncated download?)")
        kind = kind_of(path.name) or any_name
        files = [ExportFile(str(path), kind, _path=path, _size=_size(path))] if kind else []
    else:
        raise error(f"{path}: no such file or folder")
    order = {PLAYLISTS: 0, LIBRARY: 1, HISTORY: 2}
    files.sort(
        key=lambda f: (order[f.kind], playlist_order(f.name) if f.kind == PLAYLISTS else f.name)
    )
    return ExportFiles(path, files, others)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _folder(path: Path, error: type[ExportError], others: list[str]) -> list[ExportFile]:
    """The export's files under `path`, each real file once; none may lead outside it."""
    root = path.resolve()
    found: dict[Path, ExportFile] = {}
    for file in sorted(path.rglob("*")):
        kind = kind_of(file.name)
        if kind is None or not (file.is_file() or file.is_symlink()):
            if file.is_file():
                others.append(str(file))
            continue
        target = file.resolve()  # checked before any file is read
        if not target.is_relative_to(root):
            raise error(
                f"{file}: a symbolic link to {target}, outside the imported folder {path}; "
                "refused. Copy the file into the folder to import it."
            )
        if target.is_file():
            found.setdefault(target, ExportFile(str(file), kind, _path=target, _size=_size(target)))
    return list(found.values())


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why an archive member cannot be trusted, or None."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return "has a path that leaves the archive (path traversal)"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link"
    return None


def _zip(path: Path, error: type[ExportError], others: list[str]) -> list[ExportFile]:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error,
            RuntimeError, NotImplementedError, ValueError) as exc:  # fmt: skip
        raise error(f"{path}: not a readable zip file ({exc})") from exc
    if len(infos) > MAX_MEMBERS:
        raise error(
            f"{path}: {len(infos):,} archive members, more than any export holds "
            f"({MAX_MEMBERS:,}); refused"
        )
    for info in infos:
        if why := _unsafe_member(info):
            raise error(
                f"{path}: archive member {info.filename!r} {why}; a Spotify export never "
                "holds one. Refused."
            )
    files = []
    for info in infos:
        kind = kind_of(info.filename)
        if info.is_dir() or kind is None:
            if not info.is_dir():
                others.append(info.filename)
            continue
        name = f"{path}!{info.filename}"
        if info.flag_bits & 0x1:
            raise error(f"{name}: the member is encrypted; refused")
        files.append(ExportFile(name, kind, _archive=path, _member=info.filename,
                                _size=info.file_size))  # fmt: skip
    return files


def _too_large(name: str, cap: int, size: str, error: type[ExportError]) -> ExportError:
    return error(
        f"{name}: larger than the {cap:,}-byte limit for one export file ({size}); real "
        "export files are a few MB. Refused; pass a larger max_file_bytes if it is genuine."
    )


def _read(stream: IO[bytes], file: ExportFile, cap: int, error: type[ExportError]) -> bytes:
    buffer, looked = bytearray(), False
    while chunk := stream.read(_CHUNK):
        if len(buffer) + len(chunk) > cap:
            raise _too_large(file.name, cap, "more bytes than that", error)
        looked = looked or _sniff(file, chunk, not buffer, error)
        buffer.extend(chunk)
    if not looked:
        raise error(f"{file.name}: the file is empty or blank; is it an export file?")
    return bytes(buffer)


def _sniff(file: ExportFile, chunk: bytes, at_start: bool, error: type[ExportError]) -> bool:
    """Whether the chunk holds the file's first non-blank byte, which must be right."""
    if at_start and chunk.startswith(_BOM):
        chunk = chunk[len(_BOM) :]
    rest = chunk.lstrip(b" \t\r\n")
    if not rest:
        return False
    byte, name = rest[0], file.name.lower()
    if name.endswith(".json") and byte != _FIRST_BYTE[file.kind]:
        if file.kind == HISTORY and byte == ord("{"):
            raise error(
                f"{file.name}: not a streaming history: expected a JSON list of plays, "
                "found a JSON object"
            )
        if file.kind != HISTORY and byte == ord("["):
            raise error(
                f"{file.name}: expected {_EXPECTED[file.kind]}, found a JSON list (a "
                "streaming-history file?); pass Playlist1.json, the export folder or its zip"
            )
        raise error(
            f"{file.name}: not valid JSON, truncated or corrupted? (expected "
            f"{_EXPECTED[file.kind]}; the file starts with byte 0x{byte:02x})"
        )
    if name.endswith(".csv") and (byte < 0x20 or byte == 0x7F):
        raise error(f"{file.name}: binary data (byte 0x{byte:02x}), not CSV text")
    return True


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_text(data: bytes, name: str, error: type[ExportError] = ExportError) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{name}: not UTF-8 text (byte {exc.start}); is it an export file?") from None


def csv_text(data: bytes) -> tuple[str, str | None]:
    """A CSV's text, and a note when it was not UTF-8 (decoded as Windows-1252, which maps
    every byte, as Excel and LibreOffice write it)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return data.decode("cp1252", errors="replace"), (
            f"not UTF-8 (byte {exc.start}); read as Windows-1252 / Latin-1, as spreadsheet "
            "programs write it"
        )


def load_json(text: str, name: str, error: type[ExportError] = ExportError) -> Any:
    """`text` parsed; an error naming the file for invalid, truncated or too deeply nested
    JSON (`json_int` keeps integers Python cannot hold as a float from overflowing)."""
    try:
        return json.loads(text, parse_int=json_int)
    except RecursionError:
        raise error(f"{name}: JSON nested deeper than any export; refused") from None
    except json.JSONDecodeError as exc:
        # the file ends before the document does, or inside a string it opened
        if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
            raise error(
                f"{name}: truncated JSON (the file ends at line {exc.lineno} before the "
                "document is complete); unzip or download the export again"
            ) from None
        raise error(
            f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:  # numbers Python cannot hold
        raise error(f"{name}: not valid JSON ({exc})") from None
