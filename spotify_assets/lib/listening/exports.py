"""Read Spotify privacy-export listening histories (basic, extended, CSV) into one play frame.

Every export gives the END of a play (basic `endTime`, extended `ts`); the start is
end − ms_played, and the start is what identifies a play. Podcast episodes, audiobooks and
videos are excluded and counted; rows that cannot be read are returned with a reason for
quarantine. A file that cannot be read at all (truncated, garbled, wrong kind) raises
`HistoryError` before anything is returned, so an import is all or nothing.

Accepted layouts:
- basic export: `StreamingHistory*.json` (also `StreamingHistory_music_N.json`), records
  `endTime` (minute precision), `artistName`, `trackName`, `msPlayed`;
  `StreamingHistory_podcast_N.json` holds podcast episodes (`podcastName`, `episodeName`);
- extended export: `Streaming_History_Audio_*.json`, older `endsong_*.json`, records `ts`,
  `ms_played`, `spotify_track_uri`, `conn_country`, ...; `Streaming_History_Video_*.json` holds
  videos, which are counted and dropped unread;
- CSV conversions of either, by name in a folder or zip (`Streaming_History_Audio_*.csv`,
  `endsong_*.csv`) or under any name when passed as a file (a notebook's `final.csv`). A basic
  conversion may carry the track `id` / `uri` and the Spotify audio-feature columns; those
  features come back in `History.features`.

Personal fields (IP addresses, user agents, user names, ...) never leave this module: plays
keep `PLAY_COLUMNS` only, and a rejected row keeps only the fields in `QUARANTINE_FIELDS`.
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

import numpy as np
import pandas as pd

from spotify_assets.lib.catalog.errors import CatalogError
from spotify_assets.lib.catalog.names import name_key
from spotify_assets.lib.features import AUDIO_FEATURES

BASIC, EXTENDED, CSV, API = "basic_export", "extended_export", "csv", "api"
PLAY_COLUMNS = [
    "play_key", "played_at", "ended_at", "ms_played", "track_id", "artist_name", "track_name",
    "album_name", "source", "reason_start", "reason_end", "shuffle", "skipped",
    "conn_country",
]  # fmt: skip
FEATURE_FRAME_COLUMNS = ["track_key", *AUDIO_FEATURES]
# Names the exports use; a folder or zip is searched for these and nothing else (it may
# hold other files, e.g. YourLibrary.json or derived CSVs).
HISTORY_FILE = re.compile(
    r"^(StreamingHistory[^/]*\.json"
    r"|Streaming_History_(Audio|Video)_[^/]*\.(json|csv)"
    r"|endsong[^/]*\.(json|csv))$",
    re.IGNORECASE,
)
_VIDEO_FILE = re.compile(r"^Streaming_History_Video_", re.IGNORECASE)
ACCEPTED_NAMES = (
    "StreamingHistory*.json (basic export, e.g. StreamingHistory0.json, "
    "StreamingHistory_music_0.json, StreamingHistory_podcast_0.json), "
    "Streaming_History_Audio_*.json or .csv and Streaming_History_Video_*.json "
    "(extended export), endsong_*.json or .csv (older extended export)"
)
# The only fields of a rejected row kept for the quarantine table: what the row's play would
# have been made of, so a person can see why it was refused. Nothing that identifies a person
# or a device (ip_addr*, user_agent*, username, platform, offline_timestamp, incognito_mode,
# ...) and no field this module does not know.
QUARANTINE_FIELDS = frozenset(
    {
        # extended export
        "ts", "ms_played", "conn_country",
        "master_metadata_track_name", "master_metadata_album_artist_name",
        "master_metadata_album_album_name", "spotify_track_uri",
        "episode_name", "episode_show_name", "spotify_episode_uri",
        "audiobook_title", "audiobook_uri", "audiobook_chapter_uri", "audiobook_chapter_title",
        "reason_start", "reason_end", "shuffle", "skipped",
        # basic export
        "endTime", "artistName", "trackName", "msPlayed", "podcastName", "episodeName",
        # CSV conversions with audio features
        "id", "uri", *AUDIO_FEATURES,
    }
)  # fmt: skip
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_TRACK_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EPISODE_FIELDS = ("spotify_episode_uri", "episode_name", "episode_show_name", "episodeName")
_AUDIOBOOK_FIELDS = ("audiobook_uri", "audiobook_title", "audiobook_chapter_uri")
_UNIT_FEATURES = (
    "danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness",
    "valence",
)  # fmt: skip
_FEATURE_RANGES = {
    **{name: (0.0, 1.0) for name in _UNIT_FEATURES},
    "tempo": (0.0, 260.0),
    "loudness": (-60.0, 5.0),
    "key": (-1.0, 11.0),
    "mode": (0.0, 1.0),
}
_INTEGER_FEATURES = ("key", "mode")
_MIN_FEATURE_COLUMNS = 3  # fewer of AUDIO_FEATURES' names than this: a coincidence, not features
_MISSING_TEXT = frozenset({"nan", "none", "null", "na", "n/a"})


class HistoryError(CatalogError):
    """A history file that cannot be imported at all; the message names the file."""


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be read, for the `quarantine` table."""

    source_file: str
    source_sha256: str
    line: int  # 0-based record index within the file
    reason: str
    raw: dict[str, Any]  # only QUARANTINE_FIELDS


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
    videos: int = 0  # rows of Streaming_History_Video_* files, excluded
    feature_values_dropped: int = 0  # audio-feature values out of range or not numbers


@dataclass(frozen=True)
class History:
    plays: pd.DataFrame  # PLAY_COLUMNS, one row per distinct (play_key, played_at)
    rejected: list[RejectedRow]
    report: ImportReport
    # FEATURE_FRAME_COLUMNS, one row per track_key (= play_key) of files with feature columns
    features: pd.DataFrame = field(default_factory=lambda: _empty_features())


@dataclass(frozen=True)
class _Source:
    name: str  # shown in errors and quarantine: path, or "archive.zip!member"
    data: bytes


@dataclass
class _Parsed:
    plays: pd.DataFrame
    rejected: list[RejectedRow]
    rows: int
    episodes: int = 0
    audiobooks: int = 0
    videos: int = 0
    features: pd.DataFrame | None = None  # FEATURE_FRAME_COLUMNS, one row per kept play
    feature_values_dropped: int = 0


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
        videos=sum(p.videos for p in parsed),
        feature_values_dropped=sum(p.feature_values_dropped for p in parsed),
    )
    return History(plays, rejected, report, _features([p.features for p in parsed]))


# -- finding files --------------------------------------------------------------------------


def _not_found(path: Path, where: str) -> HistoryError:
    return HistoryError(
        f"{path}: no Spotify streaming history files in this {where}. Accepted names: "
        f"{ACCEPTED_NAMES}. A CSV conversion with another name (e.g. a notebook's final.csv "
        f"with endTime, artistName, trackName, msPlayed) can be passed as a file."
    )


def _sources(path: Path) -> Iterator[_Source]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and HISTORY_FILE.match(p.name))
        if not files:
            raise _not_found(path, "folder")
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
                raise _not_found(path, "zip")
            for member in members:
                yield _Source(f"{path}!{member}", archive.read(member))
    except (zipfile.BadZipFile, OSError) as exc:
        raise HistoryError(f"{path}: not a readable zip file ({exc})") from exc


# -- parsing one file -----------------------------------------------------------------------


def _parse(source: _Source) -> _Parsed:
    records, layout, kind = _records(source)
    sha = hashlib.sha256(source.data).hexdigest()
    if not records:
        return _Parsed(_empty(), [], 0)
    if layout == "video":  # counted, never read further: nothing of a video is kept
        return _Parsed(_empty(), [], len(records), videos=len(records))
    frame = pd.DataFrame.from_records(records)
    if layout == BASIC:
        plays, episodes, audiobooks = _basic(frame, kind)
    else:
        plays, episodes, audiobooks = _extended(frame, kind)
    return _finish(plays, episodes, audiobooks, _feature_values(frame), source.name, sha, records)


def _records(source: _Source) -> tuple[list[dict], str, str]:
    """The file's records, its layout (BASIC, EXTENDED or "video") and its kind (the play
    `source`: BASIC, EXTENDED or CSV)."""
    name = source.name
    basename = re.split(r"[/\\!]", name)[-1]
    video = bool(_VIDEO_FILE.match(basename))
    try:
        text = source.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"{name}: not UTF-8 text; is it a history file? ({exc})") from exc
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        columns = set(reader.fieldnames or ())
        try:
            records = list(reader)
        except csv.Error as exc:
            raise HistoryError(f"{name}: malformed CSV ({exc})") from exc
        if video:
            return records, "video", CSV
        if {"ts", "ms_played"} <= columns:
            return records, EXTENDED, CSV
        if {"endTime", "msPlayed"} <= columns:
            return records, BASIC, CSV
        raise HistoryError(
            f"{name}: not a streaming-history CSV: it lacks ts/ms_played (extended export) "
            f"and endTime/msPlayed (basic export); its columns are {sorted(columns)[:30]}"
        )
    if not name.lower().endswith(".json"):
        raise HistoryError(f"{name}: not a history file: expected .json, .csv or .zip")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HistoryError(f"{name}: not valid JSON, truncated or corrupted? ({exc})") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise HistoryError(f"{name}: not a streaming history: expected a JSON list of plays")
    if video:
        return records, "video", EXTENDED
    if not records:
        return [], EXTENDED, EXTENDED
    keys = set(records[0])
    if {"endTime", "msPlayed"} <= keys:
        return records, BASIC, BASIC
    if {"ts", "ms_played"} <= keys:
        return records, EXTENDED, EXTENDED
    raise HistoryError(
        f"{name}: not a streaming history: records have neither endTime/msPlayed (basic export) "
        f"nor ts/ms_played (extended export); keys are {sorted(keys)[:8]}"
    )


def _basic(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Basic records, and their CSV conversions (which may add the track `id` / `uri`)."""
    episodes = _any_set(frame, ("episodeName", "podcastName"))  # StreamingHistory_podcast_N
    plays = pd.DataFrame(
        {
            "ended_at": _basic_end(_col(frame, "endTime")),
            "ms_played": pd.to_numeric(_col(frame, "msPlayed"), errors="coerce"),
            "track_id": _conversion_track_ids(frame),
            "artist_name": _col(frame, "artistName"),
            "track_name": _col(frame, "trackName"),
            "album_name": None,
            "source": source,
            "reason_start": None,
            "reason_end": None,
            "shuffle": None,
            "skipped": None,
            "conn_country": None,
        }
    )
    # A basic export names plays by artist + title; the ids a CSV conversion adds were looked
    # up by notebooks, often by title alone (in listener B's file 113 ids stand for several
    # artists' songs). So the name stays the play's key, as in the JSON it was converted from
    # (both import as the same plays), and the id is kept as a hint for the catalog join.
    plays["key_by_name"] = True
    return plays, episodes, _none(frame)


def _extended(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    uris = _col(frame, "spotify_track_uri").astype(object)
    plays = pd.DataFrame(
        {
            "ended_at": pd.to_datetime(
                _col(frame, "ts"), format="ISO8601", utc=True, errors="coerce"
            ),
            "ms_played": pd.to_numeric(_col(frame, "ms_played"), errors="coerce"),
            "track_id": _nullable(uris.map(_track_id)),
            "artist_name": _col(frame, "master_metadata_album_artist_name"),
            "track_name": _col(frame, "master_metadata_track_name"),
            "album_name": _col(frame, "master_metadata_album_album_name"),
            "source": source,
            "reason_start": _col(frame, "reason_start"),
            "reason_end": _col(frame, "reason_end"),
            "shuffle": _col(frame, "shuffle").map(_bool),
            "skipped": _col(frame, "skipped").map(_bool),
            "conn_country": _nullable(_col(frame, "conn_country").map(_country)),
        }
    )
    plays.loc[uris.notna() & plays["track_id"].isna(), "bad_uri"] = True
    episodes = _any_set(frame, _EPISODE_FIELDS)
    audiobooks = _any_set(frame, _AUDIOBOOK_FIELDS) & ~episodes
    return plays, episodes, audiobooks


def _finish(
    plays: pd.DataFrame,
    episodes: pd.Series,
    audiobooks: pd.Series,
    features: pd.DataFrame | None,
    name: str,
    sha: str,
    records: list[dict],
) -> _Parsed:
    """Drop episodes/audiobooks, set aside unreadable rows, derive start time and play key."""
    keys = _name_keys(plays["artist_name"], plays["track_name"])
    ms = plays["ms_played"]
    reason = pd.Series(None, index=plays.index, dtype=object)
    unkeyed = plays["track_id"].isna() & keys.eq("")
    named = plays["artist_name"].notna() & plays["track_name"].notna()
    checks = [
        (plays["ended_at"].isna(), "end time missing or not a timestamp"),
        (ms.isna() | (ms < 0) | (ms % 1 != 0), "ms_played missing, negative or not an integer"),
        (ms > 2**31 - 1, "ms_played out of range"),
        (plays.get("bad_uri", pd.Series(False, index=plays.index)).eq(True), "malformed track URI"),
        # e.g. a song titled ":)": there is nothing a name key can be made of
        (unkeyed & named, "no track id, and artist + title have no letters or digits"),
        (unkeyed, "no track id and no artist + title"),
    ]
    for failed, why in reversed(checks):  # the first failing check names the reason
        reason = reason.mask(failed.astype(bool), why)
    content = ~(episodes | audiobooks)
    bad = content & reason.notna()
    rejected = [
        RejectedRow(name, sha, int(i), str(reason.at[i]), _quarantine_raw(records[int(i)]))
        for i in plays.index[bad]
    ]
    good = plays[content & ~bad].drop(columns="bad_uri", errors="ignore").copy()
    good["ms_played"] = good["ms_played"].astype("int64")
    good["played_at"] = good["ended_at"] - pd.to_timedelta(good["ms_played"], unit="ms")
    by_name = good.get("key_by_name", pd.Series(False, index=good.index)).eq(True)
    use_id = good["track_id"].notna() & ~(by_name & keys[good.index].ne(""))
    good["play_key"] = good["track_id"].where(use_id, "name:" + keys[good.index])
    kept_features, dropped = None, 0
    if features is not None:
        kept_features, dropped = _valid_features(features.loc[good.index])
        kept_features.insert(0, "track_key", good["play_key"])
        kept_features = kept_features.reset_index(drop=True)
    return _Parsed(
        good[PLAY_COLUMNS].reset_index(drop=True),
        rejected,
        len(plays),
        int(episodes.sum()),
        int(audiobooks.sum()),
        features=kept_features,
        feature_values_dropped=dropped,
    )


# -- audio features of CSV conversions ------------------------------------------------------


def _feature_values(frame: pd.DataFrame) -> pd.DataFrame | None:
    """The feature columns as they are (text or numbers), or None when the file has none."""
    present = [c for c in AUDIO_FEATURES if c in frame.columns]
    if len(present) < _MIN_FEATURE_COLUMNS:
        return None
    return pd.DataFrame({c: _col(frame, c) for c in AUDIO_FEATURES}, index=frame.index)


def _valid_features(values: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Feature values as floats, NaN where missing or invalid; and how many were invalid
    (out of range, a non-integer key or mode, or text that is not a number)."""
    clean, dropped = {}, 0
    for column in AUDIO_FEATURES:
        raw = values[column]
        numbers = pd.to_numeric(raw, errors="coerce").astype(float)
        missing_text = raw.map(lambda v: isinstance(v, str) and v.strip().lower() in _MISSING_TEXT)
        unreadable = raw.notna() & numbers.isna() & ~missing_text.astype(bool)
        low, high = _FEATURE_RANGES[column]
        valid = numbers.between(low, high) & np.isfinite(numbers)
        if column in _INTEGER_FEATURES:
            valid &= numbers % 1 == 0
        out_of_range = numbers.notna() & ~valid
        dropped += int((unreadable | out_of_range).sum())
        clean[column] = numbers.where(valid)
    return pd.DataFrame(clean, index=values.index), dropped


def _features(parts: list[pd.DataFrame | None]) -> pd.DataFrame:
    """One row per track_key: the first known value of each feature over its plays; keys
    with no feature value at all are left out."""
    frames = [p for p in parts if p is not None and not p.empty]
    if not frames:
        return _empty_features()
    rows = pd.concat(frames, ignore_index=True)
    rows = rows[rows[list(AUDIO_FEATURES)].notna().any(axis=1)]
    if rows.empty:
        return _empty_features()
    merged = rows.groupby("track_key", sort=True).first().reset_index()
    return merged[FEATURE_FRAME_COLUMNS].astype(
        {"track_key": object, **dict.fromkeys(AUDIO_FEATURES, float)}
    )


def _empty_features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "track_key": pd.Series(dtype=object),
            **{c: pd.Series(dtype=float) for c in AUDIO_FEATURES},
        }
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


def _basic_end(text: pd.Series) -> pd.Series:
    """Basic `endTime` ("2020-01-01 10:00", UTC); conversions may add seconds or a "T"."""
    ended = pd.to_datetime(text, format="%Y-%m-%d %H:%M", utc=True, errors="coerce")
    retry = ended.isna() & text.notna()
    if retry.any():
        ended[retry] = pd.to_datetime(text[retry], format="ISO8601", utc=True, errors="coerce")
    return ended


def _conversion_track_ids(frame: pd.DataFrame) -> pd.Series:
    """Track id of a basic CSV conversion's row, from a valid `id` or `uri`; None when neither
    is valid or they disagree (the play is kept, keyed by artist + title)."""
    by_id = _col(frame, "id").map(lambda v: v.strip() if isinstance(v, str) else v)
    by_id = by_id.map(lambda v: v if isinstance(v, str) and _TRACK_ID.match(v) else None)
    by_uri = _col(frame, "uri").map(lambda v: _track_id(v.strip() if isinstance(v, str) else v))
    ids = by_id.where(by_id.notna(), by_uri)
    disagree = by_id.notna() & by_uri.notna() & by_id.ne(by_uri)
    return _nullable(ids.where(~disagree, None))


def _nullable(values: pd.Series) -> pd.Series:
    """Objects with None for missing (`Series.map` may infer a string dtype with NaN)."""
    values = values.astype(object)
    return values.where(values.notna(), None)


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


def _country(value: object) -> str | None:
    """Two-letter connection country, uppercase; None when absent, malformed or "ZZ"."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if _COUNTRY.match(code) and code != "ZZ" else None


def _bool(value: object) -> bool | None:
    """JSON booleans, and the "True"/"False" strings of CSV conversions."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def _quarantine_raw(record: dict) -> dict[str, Any]:
    """The record's QUARANTINE_FIELDS, as JSON values; every other field is dropped."""
    kept = {k: v for k, v in record.items() if isinstance(k, str) and k in QUARANTINE_FIELDS}
    return json.loads(json.dumps(kept, default=str))
