"""Read Spotify privacy-export listening histories (basic, extended, CSV) into one play frame.

Every export gives the END of a play (basic `endTime`, extended `ts`); the start is
end − ms_played, and the start is what identifies a play. Podcast episodes, audiobooks and
videos are excluded and counted; rows that cannot be read are returned with a reason for
quarantine; every file's rows are accounted for (`ImportReport.accounts`: stored + excluded +
quarantined + duplicates). A file that cannot be read at all (truncated, garbled, wrong kind)
raises `HistoryError` before anything is returned, so an import is all or nothing. Files are
found and read by lib/export/files.py, under the rules every part of an export follows.

Accepted layouts:
- basic export: `StreamingHistory*.json` (also `StreamingHistory_music_N.json`), records
  `endTime` (minute precision), `artistName`, `trackName`, `msPlayed`;
  `StreamingHistory_podcast_N.json` holds podcast episodes (`podcastName`, `episodeName`),
  `StreamingHistory_audiobook_N.json` audiobook chapters (`audiobookName`, `chapterName`);
- extended export: `Streaming_History_Audio_*.json`, older `endsong_*.json`, records `ts`,
  `ms_played`, `spotify_track_uri`, `conn_country`, ...; `Streaming_History_Video_*.json` holds
  videos, which are counted and dropped unread;
- CSV conversions of either, by name in a folder or zip (`Streaming_History_Audio_*.csv`,
  `endsong_*.csv`) or under any name when passed as a file (a notebook's `final.csv`). A basic
  conversion may carry the track `id` / `uri` and the Spotify audio-feature columns; those
  features come back in `History.features`.

Personal fields (IP addresses, user agents, account names, ...) never leave this module: plays
keep `PLAY_COLUMNS` only, and a rejected row keeps only the fields in `QUARANTINE_FIELDS`.

Hostile input. Every value that is stored is checked before it can reach the database, and a
row that fails is quarantined with the field and the reason ("trackName: contains a NUL
character", "ts: 2098-01-01 is after the latest plausible play (2026-11-30)"):
- end times must be timestamps inside the plausible window: from `earliest` (default
  2008-10-01, Spotify's launch; the play's start, end − ms_played, counts) to `latest` (default
  one day after now);
- ms_played must be a finite, non-negative integer under 2^31 (NaN, infinities, text, objects
  and booleans are refused);
- stored text (names, track URI, reason_start / reason_end) must be text, not an object, list
  or number, with no NUL or other control character, no unpaired surrogate, and at most
  1,000 characters (`values.MAX_TEXT`);
- a CSV row with more or fewer fields than its header, and an entry of a JSON list that is not
  an object (`null`), are quarantined with their position; the other rows load.
Fields that are never stored (platform, offline_timestamp, ...) are not read, so an odd value
there quarantines nothing; conn_country, shuffle and skipped are read leniently (an odd value
becomes unknown). Audio features of CSV conversions that are not finite numbers in range are
dropped and counted, as before.
A whole file is refused with one `HistoryError` when it is not the data it claims to be: not
JSON / CSV, JSON that is not UTF-8, empty, a JSON object, too deeply nested, or larger than
`max_file_bytes` (default 256 MB), and an export whose files break the reader's rules (a link
or zip member leading outside it, an encrypted member: lib/export/files.py). A CSV that is not
UTF-8 is read as Windows-1252, said in its account's note.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.catalog.values import MAX_TEXT, check_text, parse_number
from spotify_assets.lib.export.accounting import FileAccount, file_label
from spotify_assets.lib.export.files import (
    HISTORY,
    MAX_FILE_BYTES,
    ExportError,
    Rejected,
    csv_text,
    find,
    json_text,
    load_json,
    sha256,
)
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.names import keys as name_keys
from spotify_assets.lib.store.quarantine import safe_raw

BASIC, EXTENDED, CSV, API = "basic_export", "extended_export", "csv", "api"
PLAY_COLUMNS = [
    "play_key", "played_at", "ended_at", "ms_played", "track_id", "artist_name", "track_name",
    "album_name", "source", "reason_start", "reason_end", "shuffle", "skipped",
    "conn_country",
]  # fmt: skip
FEATURE_FRAME_COLUMNS = ["track_key", *AUDIO_FEATURES]
# Names the exports use; a folder or zip is searched for these and nothing else (it may
# hold other files, e.g. YourLibrary.json or derived CSVs).
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
        "audiobookName", "chapterName", "authorName",
        # CSV conversions with audio features
        "id", "uri", *AUDIO_FEATURES,
    }
)  # fmt: skip
_TRACK_URI = re.compile(r"^spotify:track:([0-9A-Za-z]{22})$")
_TRACK_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_EPISODE_FIELDS = ("spotify_episode_uri", "episode_name", "episode_show_name", "episodeName")
_AUDIOBOOK_FIELDS = ("audiobook_uri", "audiobook_title", "audiobook_chapter_uri")
_BASIC_AUDIOBOOK_FIELDS = ("audiobookName", "chapterName")  # StreamingHistory_audiobook_N
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
# The plausible play window's default: from Spotify's launch to one day after now.
SPOTIFY_LAUNCH = datetime(2008, 10, 1, tzinfo=UTC)
LATEST_MARGIN = timedelta(days=1)
_MAX_MS = 2**31 - 1  # plays.ms_played is an integer
# Stored fields checked per layout: the end time, the duration, then text, in reason order.
_TIME_FIELD = {"basic_export": "endTime", "extended_export": "ts"}
_MS_FIELD = {"basic_export": "msPlayed", "extended_export": "ms_played"}
_TEXT_FIELDS = {
    "basic_export": ("artistName", "trackName"),
    "extended_export": (
        "spotify_track_uri", "master_metadata_track_name", "master_metadata_album_artist_name",
        "master_metadata_album_album_name", "reason_start", "reason_end",
    ),
}  # fmt: skip


class HistoryError(ExportError):
    """A history file that cannot be imported at all; the message names the file."""


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
    library_tracks_added: int = 0  # played songs no stored track was (lib/catalog/library.py)
    accounts: list[FileAccount] = field(default_factory=list)  # per file: where each row went


@dataclass(frozen=True)
class History:
    plays: pd.DataFrame  # PLAY_COLUMNS, one row per distinct (play_key, played_at)
    rejected: list[Rejected]
    report: ImportReport
    # FEATURE_FRAME_COLUMNS, one row per track_key (= play_key) of files with feature columns
    features: pd.DataFrame = field(default_factory=lambda: _empty_features())


@dataclass(frozen=True)
class _Source:
    name: str  # shown in errors and quarantine: path, or "archive.zip!member"
    text: str
    sha256: str
    note: str | None = None  # how the text was decoded, when not as UTF-8


@dataclass(frozen=True)
class _Window:
    """Plausible play times: a play must start at or after `earliest` and end by `latest`."""

    earliest: pd.Timestamp
    latest: pd.Timestamp
    launch: bool  # earliest is the default (Spotify's launch), said so in reasons


@dataclass
class _Parsed:
    plays: pd.DataFrame
    rejected: list[Rejected]
    rows: int
    episodes: int = 0
    audiobooks: int = 0
    videos: int = 0
    features: pd.DataFrame | None = None  # FEATURE_FRAME_COLUMNS, one row per kept play
    feature_values_dropped: int = 0
    source: _Source | None = None


def read_history(
    path: str | Path,
    *,
    earliest: datetime | str | None = None,
    latest: datetime | str | None = None,
    max_file_bytes: int | None = None,
) -> History:
    """All plays in a history file, a folder of them, or a zip of them.

    Plays outside [`earliest`, `latest`] (default: 2008-10-01, Spotify's launch, to one day
    after now; naive times are UTC) are quarantined as implausible. A file or zip member over
    `max_file_bytes` (default `MAX_FILE_BYTES`, 256 MB) refuses the import."""
    window = _window(earliest, latest)
    cap = MAX_FILE_BYTES if max_file_bytes is None else int(max_file_bytes)
    path = Path(path)
    files = find(path, HistoryError, any_name=HISTORY).of(HISTORY)  # refuses unsafe ones
    if not files:
        raise _not_found(path, "folder" if path.is_dir() else "zip" if path.is_file() else "path")
    parsed = [_parse(_source(f.name, f.read(cap, HistoryError)), window) for f in files]
    frames = [p.plays.assign(_file=i) for i, p in enumerate(parsed) if not p.plays.empty]
    plays = pd.concat(frames, ignore_index=True) if frames else _empty().assign(_file=0)
    repeated = plays.duplicated(["play_key", "played_at"])  # the same play listed again
    accounts = [_account(p, plays["_file"], repeated, i) for i, p in enumerate(parsed)]
    plays = plays[~repeated].drop(columns="_file").reset_index(drop=True)
    rejected = [row for p in parsed for row in p.rejected]
    report = ImportReport(
        files=[f.name for f in files],
        rows_read=sum(p.rows for p in parsed),
        plays=len(plays),
        episodes=sum(p.episodes for p in parsed),
        audiobooks=sum(p.audiobooks for p in parsed),
        bad_rows=len(rejected),
        duplicates=int(repeated.sum()),
        by_source=dict(Counter(plays["source"])),
        videos=sum(p.videos for p in parsed),
        feature_values_dropped=sum(p.feature_values_dropped for p in parsed),
        accounts=accounts,
    )
    return History(plays, rejected, report, _features([p.features for p in parsed]))


def _not_found(path: Path, where: str) -> HistoryError:
    return HistoryError(
        f"{path}: no Spotify streaming history files in this {where}. Accepted names: "
        f"{ACCEPTED_NAMES}. A CSV conversion with another name (e.g. a notebook's final.csv "
        f"with endTime, artistName, trackName, msPlayed) can be passed as a file."
    )


def _source(name: str, data: bytes) -> _Source:
    if name.lower().endswith(".csv"):
        text, note = csv_text(data)
    else:
        text, note = json_text(data, name, HistoryError), None
    return _Source(name, text, sha256(data), note)


def _account(parsed: _Parsed, files: pd.Series, repeated: pd.Series, index: int) -> FileAccount:
    mine = files == index
    source = parsed.source
    return FileAccount(
        file=file_label(source.name),
        part=HISTORY,
        sha256=source.sha256,
        rows=parsed.rows,
        stored=int((mine & ~repeated).sum()),
        quarantined=len(parsed.rejected),
        duplicates=int((mine & repeated).sum()),
        excluded={
            "podcast episodes": parsed.episodes,
            "audiobooks": parsed.audiobooks,
            "videos": parsed.videos,
        },
        note=source.note,
    )


def _window(earliest: datetime | str | None, latest: datetime | str | None) -> _Window:
    def utc(value: datetime | str) -> pd.Timestamp:
        stamp = pd.Timestamp(value)
        return stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)

    low = utc(SPOTIFY_LAUNCH if earliest is None else earliest)
    high = utc(datetime.now(UTC) + LATEST_MARGIN if latest is None else latest)
    if low >= high:
        raise ValueError(f"empty play window: earliest {low} is not before latest {high}")
    return _Window(low, high, launch=earliest is None)


# -- parsing one file -----------------------------------------------------------------------


def _parse(source: _Source, window: _Window) -> _Parsed:
    try:
        parsed = _parse_file(source, window)
        parsed.source = source
        return parsed
    except RecursionError:  # a value nested deeper than the checks below expect
        raise HistoryError(
            f"{source.name}: nested deeper than any real export; not a streaming history"
        ) from None


def _parse_file(source: _Source, window: _Window) -> _Parsed:
    records, layout, kind, broken = _records(source)
    if not records:
        return _Parsed(_empty(), [], 0)
    if layout == "video":  # counted, never read further: nothing of a video is kept
        return _Parsed(_empty(), [], len(records), videos=len(records))
    frame = _frame(records)
    problems = _check(frame, layout, window, broken)
    if layout == BASIC:
        plays, episodes, audiobooks = _basic(frame, kind)
    else:
        plays, episodes, audiobooks = _extended(frame, kind)
    features = _feature_values(frame)
    return _finish(plays, episodes, audiobooks, features, problems, broken, source, records)


def _records(source: _Source) -> tuple[list[dict], str, str, dict[int, str]]:
    """The file's records, its layout (BASIC, EXTENDED or "video"), its kind (the play
    `source`: BASIC, EXTENDED or CSV), and the reasons of records that are broken as a whole
    (a CSV row with the wrong number of fields) by record index."""
    name, text = source.name, source.text
    basename = re.split(r"[/\\!]", name)[-1]
    video = bool(_VIDEO_FILE.match(basename))
    if name.lower().endswith(".csv"):
        records, columns, broken = _csv_records(text, name)
        if video:
            return records, "video", CSV, {}
        if {"ts", "ms_played"} <= columns:
            return records, EXTENDED, CSV, broken
        if {"endTime", "msPlayed"} <= columns:
            return records, BASIC, CSV, broken
        raise HistoryError(
            f"{name}: not a streaming-history CSV: it lacks ts/ms_played (extended export) "
            f"and endTime/msPlayed (basic export); its columns are "
            f"{sorted(c[:40] for c in columns)[:30]}"
        )
    if not name.lower().endswith(".json"):
        raise HistoryError(f"{name}: not a history file: expected .json, .csv or .zip")
    records = load_json(text, name, HistoryError)
    if not isinstance(records, list):
        raise HistoryError(f"{name}: not a streaming history: expected a JSON list of plays")
    broken = {  # a `null` or a number in the list is one bad row, not a bad file
        i: f"entry {i} is {_kind(r)}, not a play (an object)"
        for i, r in enumerate(records)
        if not isinstance(r, dict)
    }
    records = [r if isinstance(r, dict) else {} for r in records]
    if video:
        return records, "video", EXTENDED, {}
    if not records:
        return [], EXTENDED, EXTENDED, {}
    first = next((r for r in records if r), None)
    if first is None:  # not one play object: not a history at all
        raise HistoryError(f"{name}: not a streaming history: expected a JSON list of plays")
    keys = set(first)
    if {"endTime", "msPlayed"} <= keys:
        return records, BASIC, BASIC, broken
    if {"ts", "ms_played"} <= keys:
        return records, EXTENDED, EXTENDED, broken
    raise HistoryError(
        f"{name}: not a streaming history: records have neither endTime/msPlayed (basic export) "
        f"nor ts/ms_played (extended export); keys are {sorted(k[:40] for k in keys)[:8]}"
    )


def _csv_records(text: str, name: str) -> tuple[list[dict], set[str], dict[int, str]]:
    """Rows as dicts by header name (blank lines skipped), and the reasons of rows whose
    number of fields differs from the header's."""
    records: list[dict] = []
    broken: dict[int, str] = {}
    with _csv_field_limit(len(text) + 1):  # a long name is a row's problem, not the file's
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(reader, [])
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    broken[len(records)] = (
                        f"CSV row has {len(row)} fields, the header has {len(header)} "
                        "(truncated or shifted row?)"
                    )
                records.append(dict(zip(header, row, strict=False)))
        except csv.Error as exc:
            raise HistoryError(f"{name}: malformed CSV ({exc})") from exc
    return records, set(header), broken


@contextlib.contextmanager
def _csv_field_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields up to `size` characters (its default is 128 KB)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, size))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _frame(records: list[dict]) -> pd.DataFrame:
    """The fields this module reads (QUARANTINE_FIELDS) as object columns, None where a
    record lacks one; fields it does not read are never looked at, so an odd value there
    (a nested `platform`, a strange `offline_timestamp`) cannot matter."""
    present: set[str] = set()
    for record in records:
        present.update(k for k in record if k in QUARANTINE_FIELDS)
    columns = {k: pd.Series([r.get(k) for r in records], dtype=object) for k in sorted(present)}
    return pd.DataFrame(columns, index=pd.RangeIndex(len(records)))


# -- checking stored values -----------------------------------------------------------------


def _check(frame: pd.DataFrame, layout: str, window: _Window, broken: dict[int, str]) -> pd.Series:
    """The first reason each row cannot be stored as it is (None when it can), checking the
    end time, the duration and the stored text; bad values are set to None in `frame`."""
    problems: list[str | None] = [None] * len(frame)
    for index, why in broken.items():
        problems[index] = why
    time_field, ms_field = _TIME_FIELD[layout], _MS_FIELD[layout]
    ended = _check_end(frame, time_field, layout, window, problems)
    ms = _check_ms(frame, ms_field, problems)
    for name in _TEXT_FIELDS[layout]:
        _check_text(frame, name, problems)
    # the start (end - ms_played), computed only where both are sound, is what must be late
    # enough: a long play that ended just after the window opened started before it
    sound = pd.Series([p is None for p in problems], index=frame.index)
    sound &= ended.notna() & ms.notna()
    if sound.any():
        starts = ended[sound] - pd.to_timedelta(ms[sound].astype("int64"), unit="ms")
        for index in starts.index[starts < window.earliest]:
            problems[index] = (
                f"{time_field}: the play would start {_day(starts.at[index])}, before the "
                f"earliest plausible play ({_earliest(window)})"
            )
    frame[time_field] = ended
    frame[ms_field] = ms
    return pd.Series(problems, index=frame.index, dtype=object)


def _check_text(frame: pd.DataFrame, name: str, problems: list[str | None]) -> None:
    if name not in frame.columns:
        return
    values = _col(frame, name).tolist()
    for index, value in enumerate(values):
        if value is None or (type(value) is str and len(value) <= MAX_TEXT and value.isprintable()):
            continue  # the common case, without a function call
        if why := check_text(value):
            problems[index] = problems[index] or f"{name}: {why}"
            values[index] = None
    frame[name] = pd.Series(values, index=frame.index, dtype=object)


def _check_ms(frame: pd.DataFrame, name: str, problems: list[str | None]) -> pd.Series:
    """ms_played as floats (NaN where unusable), a reason for each unusable one."""
    raw = frame[name].tolist() if name in frame.columns else [None] * len(frame)
    out = np.full(len(raw), np.nan)
    for index, value in enumerate(raw):
        number, why = parse_number(value)
        if number is None:
            why = f"{name}: {why or 'missing'}"
        elif number < 0:
            why = f"{name}: {number:g} is negative"
        elif number % 1:
            why = f"{name}: {number:g} is not an integer"
        elif number > _MAX_MS:
            why = f"{name}: {number:g} is out of range (over {_MAX_MS:,} ms)"
        else:
            out[index] = number + 0.0  # -0 is 0
            continue
        problems[index] = problems[index] or why
    return pd.Series(out, index=frame.index)


def _check_end(
    frame: pd.DataFrame, name: str, layout: str, window: _Window, problems: list[str | None]
) -> pd.Series:
    """End times (NaT where unusable), a reason for each missing, unreadable or implausible."""
    if name not in frame.columns:
        frame[name] = None
    _check_text(frame, name, problems)
    text = _col(frame, name)
    ended = _basic_end(text) if layout == BASIC else _timestamps(text, "ISO8601")
    for index in ended.index[ended.isna()]:
        if problems[index] is None:
            value = text.at[index]
            problems[index] = (
                f"{name}: end time missing"
                if value is None
                else f"{name}: end time {value[:40]!r} is not a timestamp"
            )
    for index in ended.index[ended > window.latest]:
        problems[index] = problems[index] or (
            f"{name}: {_day(ended.at[index])} is after the latest plausible play "
            f"({_day(window.latest)})"
        )
    for index in ended.index[ended < window.earliest]:
        problems[index] = problems[index] or (
            f"{name}: {_day(ended.at[index])} is before the earliest plausible play "
            f"({_earliest(window)})"
        )
    return ended


def _timestamps(text: pd.Series, fmt: str) -> pd.Series:
    """UTC timestamps, NaT where unreadable; one by one when the batch trips over a value."""
    try:
        return pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
    except (ValueError, OverflowError, TypeError):
        pass

    def one(value: object) -> pd.Timestamp:
        try:
            return pd.to_datetime(value, format=fmt, utc=True, errors="coerce")
        except (ValueError, OverflowError, TypeError):
            return pd.NaT

    return pd.to_datetime(text.map(one), utc=True)


def _day(stamp: pd.Timestamp) -> str:
    return f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"


def _earliest(window: _Window) -> str:
    return _day(window.earliest) + (", Spotify's launch" if window.launch else "")


# -- the two layouts ------------------------------------------------------------------------


def _basic(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Basic records, and their CSV conversions (which may add the track `id` / `uri`)."""
    episodes = _any_set(frame, ("episodeName", "podcastName"))  # StreamingHistory_podcast_N
    audiobooks = _any_set(frame, _BASIC_AUDIOBOOK_FIELDS) & ~episodes
    plays = pd.DataFrame(
        {
            "ended_at": frame["endTime"],
            "ms_played": frame["msPlayed"],
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
    # up by notebooks, often by title alone (in history B's file 113 ids stand for several
    # artists' songs). So the name stays the play's key, as in the JSON it was converted from
    # (both import as the same plays), and the id is kept as a hint for the catalog join.
    plays["key_by_name"] = True
    return plays, episodes, audiobooks


def _extended(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    uris = _col(frame, "spotify_track_uri").astype(object)
    plays = pd.DataFrame(
        {
            "ended_at": frame["ts"],
            "ms_played": frame["ms_played"],
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
    problems: pd.Series,
    broken: dict[int, str],
    source: _Source,
    records: list[dict],
) -> _Parsed:
    """Drop episodes/audiobooks, set aside unreadable rows, derive start time and play key."""
    keys = name_keys(plays["artist_name"], plays["track_name"], "identity").fillna("")
    reason = problems.copy()
    unkeyed = plays["track_id"].isna() & keys.eq("")
    named = plays["artist_name"].notna() & plays["track_name"].notna()
    checks = [  # after the value checks of `_check`, which come first
        (plays.get("bad_uri", pd.Series(False, index=plays.index)).eq(True), "malformed track URI"),
        # names of only spaces: nothing a key can be made of (":)" or "¥$" keep their text)
        (unkeyed & named, "no track id, and the artist or title is blank"),
        (unkeyed, "no track id and no artist + title"),
    ]
    for failed, why in reversed(checks):  # the first failing check names the reason
        reason = reason.mask(failed.astype(bool) & problems.isna(), why)
    content = ~(episodes | audiobooks)
    content[list(broken)] = True  # a broken CSV row is refused whatever it seems to be
    bad = content & reason.notna()
    rejected = [
        Rejected(
            file_label(source.name), source.sha256, int(i), str(reason.at[i]),
            _quarantine_raw(records[int(i)]),
        )
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
        int((episodes & ~content).sum()),
        int((audiobooks & ~content).sum()),
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
        missing_text = raw.map(lambda v: isinstance(v, str) and v.strip().lower() in _MISSING_TEXT)
        parsed = [parse_number(v) for v in raw.where(~missing_text.astype(bool), None)]
        numbers = pd.Series([n for n, _ in parsed], index=raw.index, dtype=float)
        unreadable = pd.Series([why is not None for _, why in parsed], index=raw.index)
        low, high = _FEATURE_RANGES[column]
        valid = numbers.between(low, high)
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


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as objects, with "" (CSV) and NaN as None; all None when absent."""
    if name not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=object)
    column = frame[name].astype(object)
    return column.where(column.notna() & column.ne(""), None)


def _basic_end(text: pd.Series) -> pd.Series:
    """Basic `endTime` ("2020-01-01 10:00", UTC); conversions may add seconds or a "T"."""
    ended = _timestamps(text, "%Y-%m-%d %H:%M")
    retry = ended.isna() & text.notna()
    if retry.any():
        ended[retry] = _timestamps(text[retry], "ISO8601")
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
    """JSON booleans, and the "True"/"False" strings of CSV conversions; None otherwise."""
    if isinstance(value, bool) or value is None:
        return value
    if not isinstance(value, str | int):
        return None
    text = str(value).strip().lower()
    return {"true": True, "false": False, "1": True, "0": False}.get(text)


def _quarantine_raw(record: dict) -> dict[str, Any]:
    """The record's QUARANTINE_FIELDS, as JSON values safe for jsonb; every other field is
    dropped."""
    return safe_raw(
        {k: v for k, v in record.items() if isinstance(k, str) and k in QUARANTINE_FIELDS}
    )
