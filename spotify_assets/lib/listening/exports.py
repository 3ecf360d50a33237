"""Read Spotify privacy-export listening histories (basic, extended, CSV) into one play frame.

Every export gives the END of a play (basic `endTime`, extended `ts`); the start is
end − ms_played, and the start is what identifies a play. Podcast episodes and audiobooks are
excluded and counted; rows that cannot be read are returned with a reason for quarantine. A
file that cannot be read at all (truncated, garbled, wrong kind) raises `HistoryError` before
anything is returned, so an import is all or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from spotify_assets.lib.catalog.errors import CatalogError
from spotify_assets.lib.catalog.names import name_key

BASIC, EXTENDED, CSV, API = "basic_export", "extended_export", "csv", "api"
PLAY_COLUMNS = [
    "play_key", "played_at", "ended_at", "ms_played", "track_id", "artist_name", "track_name",
    "album_name", "source", "platform", "reason_start", "reason_end", "shuffle", "skipped",
]  # fmt: skip
# Names the exports use; a folder or zip is searched for these and nothing else (it may
# hold other files, e.g. YourLibrary.json or derived CSVs).
HISTORY_FILE = re.compile(
    r"^(StreamingHistory[^/]*\.json|Streaming_History_Audio_[^/]*\.(json|csv)|endsong[^/]*\.(json|csv))$",
    re.IGNORECASE,
)
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_EPISODE_FIELDS = ("spotify_episode_uri", "episode_name", "episode_show_name", "episodeName")
_AUDIOBOOK_FIELDS = ("audiobook_uri", "audiobook_title", "audiobook_chapter_uri")


class HistoryError(CatalogError):
    """A history file that cannot be imported at all; the message names the file."""


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be read, for the `quarantine` table."""

    source_file: str
    source_sha256: str
    line: int  # 0-based record index within the file
    reason: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class ImportReport:
    files: list[str]
    rows_read: int
    plays: int  # distinct plays returned
    episodes: int
    audiobooks: int
    bad_rows: int
    duplicates: int = 0  # the same play listed twice (e.g. a JSON and its CSV conversion)
    by_source: dict[str, int] = field(default_factory=dict)
    # filled in by the store: how plays joined the catalog and what was written
    join: dict[str, Any] | None = None
    inserted: int = 0
    quarantined: int = 0


@dataclass(frozen=True)
class History:
    plays: pd.DataFrame  # PLAY_COLUMNS, one row per distinct (play_key, played_at)
    rejected: list[RejectedRow]
    report: ImportReport


@dataclass(frozen=True)
class _Source:
    name: str  # shown in errors and quarantine: path, or "archive.zip!member"
    data: bytes


@dataclass
class _Parsed:
    plays: pd.DataFrame
    rejected: list[RejectedRow]
    rows: int
    episodes: int
    audiobooks: int


def read_history(path: str | Path) -> History:
    """All plays in a history file, a folder of them, or a zip of them."""
    sources = list(_sources(Path(path)))
    parsed = [_parse(source) for source in sources]  # raises before anything is returned
    frames = [p.plays for p in parsed if not p.plays.empty]
    plays = pd.concat(frames, ignore_index=True) if frames else _empty()
    before = len(plays)
    plays = plays.drop_duplicates(["play_key", "played_at"], ignore_index=True)
    rejected = [row for p in parsed for row in p.rejected]
    report = ImportReport(
        files=[s.name for s in sources],
        rows_read=sum(p.rows for p in parsed),
        plays=len(plays),
        episodes=sum(p.episodes for p in parsed),
        audiobooks=sum(p.audiobooks for p in parsed),
        bad_rows=len(rejected),
        duplicates=before - len(plays),
        by_source=dict(Counter(plays["source"])),
    )
    return History(plays, rejected, report)


# -- finding files --------------------------------------------------------------------------


def _sources(path: Path) -> Iterator[_Source]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and HISTORY_FILE.match(p.name))
        if not files:
            raise HistoryError(f"{path}: no Spotify streaming history files in this folder")
        for file in files:
            yield _Source(str(file), file.read_bytes())
    elif path.suffix.lower() == ".zip":
        yield from _zip_sources(path)
    elif path.is_file():
        yield _Source(str(path), path.read_bytes())
    else:
        raise HistoryError(f"{path}: no such file or folder")


def _zip_sources(path: Path) -> Iterator[_Source]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                info.filename
                for info in archive.infolist()
                if not info.is_dir() and HISTORY_FILE.match(Path(info.filename).name)
            )
            if not members:
                raise HistoryError(f"{path}: no Spotify streaming history files in this zip")
            for member in members:
                yield _Source(f"{path}!{member}", archive.read(member))
    except (zipfile.BadZipFile, OSError) as exc:
        raise HistoryError(f"{path}: not a readable zip file ({exc})") from exc


# -- parsing one file -----------------------------------------------------------------------


def _parse(source: _Source) -> _Parsed:
    records, kind = _records(source)
    sha = hashlib.sha256(source.data).hexdigest()
    if not records:
        return _Parsed(_empty(), [], 0, 0, 0)
    frame = pd.DataFrame.from_records(records)
    if kind == BASIC:
        return _basic(frame, source.name, sha, records)
    return _extended(frame, source.name, sha, records, CSV if kind == CSV else EXTENDED)


def _records(source: _Source) -> tuple[list[dict], str]:
    """The file's records and its kind (BASIC, EXTENDED or CSV)."""
    name = source.name
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"{name}: not UTF-8 text; is it a history file? ({exc})") from exc
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        columns = set(reader.fieldnames or ())
        if not {"ts", "ms_played"} <= columns:
            raise HistoryError(
                f"{name}: not a streaming-history CSV: it lacks ts/ms_played (has {sorted(columns)})"
            )
        try:
            return list(reader), CSV
        except csv.Error as exc:
            raise HistoryError(f"{name}: malformed CSV ({exc})") from exc
    if not name.lower().endswith(".json"):
        raise HistoryError(f"{name}: not a history file: expected .json, .csv or .zip")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"{name}: not valid JSON, truncated or corrupted? ({exc})") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise HistoryError(f"{name}: not a streaming history: expected a JSON list of plays")
    if not records:
        return [], EXTENDED
    keys = set(records[0])
    if {"endTime", "msPlayed"} <= keys:
        return records, BASIC
    if {"ts", "ms_played"} <= keys:
        return records, EXTENDED
    raise HistoryError(
        f"{name}: not a streaming history: records have neither endTime/msPlayed (basic export) "
        f"nor ts/ms_played (extended export); keys are {sorted(keys)[:8]}"
    )


def _basic(frame: pd.DataFrame, name: str, sha: str, records: list[dict]) -> _Parsed:
    episodes = _any_set(frame, ("episodeName", "podcastName"))  # newer split podcast files
    ended = pd.to_datetime(
        _col(frame, "endTime"), format="%Y-%m-%d %H:%M", utc=True, errors="coerce"
    )
    plays = pd.DataFrame(
        {
            "ended_at": ended,
            "ms_played": pd.to_numeric(_col(frame, "msPlayed"), errors="coerce"),
            "track_id": None,
            "artist_name": _col(frame, "artistName"),
            "track_name": _col(frame, "trackName"),
            "album_name": None,
            "source": BASIC,
            "platform": None,
            "reason_start": None,
            "reason_end": None,
            "shuffle": None,
            "skipped": None,
        }
    )
    return _finish(plays, episodes, _none(frame), name, sha, records)


def _extended(
    frame: pd.DataFrame, name: str, sha: str, records: list[dict], source: str
) -> _Parsed:
    uris = _col(frame, "spotify_track_uri").astype(object)
    plays = pd.DataFrame(
        {
            "ended_at": pd.to_datetime(
                _col(frame, "ts"), format="ISO8601", utc=True, errors="coerce"
            ),
            "ms_played": pd.to_numeric(_col(frame, "ms_played"), errors="coerce"),
            "track_id": uris.map(_track_id),
            "artist_name": _col(frame, "master_metadata_album_artist_name"),
            "track_name": _col(frame, "master_metadata_track_name"),
            "album_name": _col(frame, "master_metadata_album_album_name"),
            "source": source,
            "platform": _col(frame, "platform"),
            "reason_start": _col(frame, "reason_start"),
            "reason_end": _col(frame, "reason_end"),
            "shuffle": _col(frame, "shuffle").map(_bool),
            "skipped": _col(frame, "skipped").map(_bool),
        }
    )
    plays.loc[uris.notna() & plays["track_id"].isna(), "bad_uri"] = True
    episodes = _any_set(frame, _EPISODE_FIELDS)
    audiobooks = _any_set(frame, _AUDIOBOOK_FIELDS) & ~episodes
    return _finish(plays, episodes, audiobooks, name, sha, records)


def _finish(
    plays: pd.DataFrame,
    episodes: pd.Series,
    audiobooks: pd.Series,
    name: str,
    sha: str,
    records: list[dict],
) -> _Parsed:
    """Drop episodes/audiobooks, set aside unreadable rows, derive start time and play key."""
    keys = _name_keys(plays["artist_name"], plays["track_name"])
    ms = plays["ms_played"]
    reason = pd.Series(None, index=plays.index, dtype=object)
    checks = [
        (plays["ended_at"].isna(), "end time missing or not a timestamp"),
        (ms.isna() | (ms < 0) | (ms % 1 != 0), "ms_played missing, negative or not an integer"),
        (ms > 2**31 - 1, "ms_played out of range"),
        (plays.get("bad_uri", pd.Series(False, index=plays.index)).eq(True), "malformed track URI"),
        (plays["track_id"].isna() & keys.eq(""), "no track id and no artist + title"),
    ]
    for failed, why in reversed(checks):  # the first failing check names the reason
        reason = reason.mask(failed.astype(bool), why)
    content = ~(episodes | audiobooks)
    bad = content & reason.notna()
    rejected = [
        RejectedRow(name, sha, int(i), str(reason.at[i]), _jsonable(records[int(i)]))
        for i in plays.index[bad]
    ]
    good = plays[content & ~bad].drop(columns="bad_uri", errors="ignore").copy()
    good["ms_played"] = good["ms_played"].astype("int64")
    good["played_at"] = good["ended_at"] - pd.to_timedelta(good["ms_played"], unit="ms")
    good["play_key"] = good["track_id"].where(good["track_id"].notna(), "name:" + keys[good.index])
    return _Parsed(
        good[PLAY_COLUMNS].reset_index(drop=True),
        rejected,
        len(plays),
        int(episodes.sum()),
        int(audiobooks.sum()),
    )


# -- helpers --------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PLAY_COLUMNS})


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as objects, with "" (CSV) and NaN as None; all None when absent."""
    if name not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    column = frame[name].astype(object)
    return column.where(column.notna() & column.ne(""), None)


def _name_keys(artists: pd.Series, titles: pd.Series) -> pd.Series:
    """`name_key` per row, computed once per distinct pair: histories repeat songs a lot."""
    pairs = list(zip(artists, titles, strict=True))
    cache = {pair: name_key(*pair) for pair in dict.fromkeys(pairs)}
    return pd.Series([cache[pair] for pair in pairs], index=artists.index, dtype=object)


def _none(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(False, index=frame.index)


def _any_set(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    found = _none(frame)
    for column in columns:
        found |= _col(frame, column).notna()
    return found


def _track_id(uri: object) -> str | None:
    match = _TRACK_URI.match(uri) if isinstance(uri, str) else None
    return match[1] if match else None


def _bool(value: object) -> bool | None:
    """JSON booleans, and the "True"/"False" strings of CSV conversions."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def _jsonable(record: dict) -> dict[str, Any]:
    return json.loads(json.dumps(record, default=str))
