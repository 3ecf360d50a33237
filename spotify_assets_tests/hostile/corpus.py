"""Hostile inputs for the importers: corrupted variants of real (or synthetic) files.

Each `Case` writes one input (a history file, folder or zip, or a catalog file) and says,
independently of the importer, what importing it must store: the plays or tracks a clean
parse of its uncorrupted rows gives, how many rows must be quarantined, or that the whole file
must be refused. `Case.run(db, workdir)` imports it twice (through `import_history` or
`load_catalog`) and returns an `Outcome`: the outcome, any crash, rows lost / duplicated /
unexpected, planted secrets found in the database, and what a rerun added. The test module
asserts every outcome is clean; `benchmarks/hostile_inputs.py` prints them as a table.

Expected plays are computed here from the records themselves (end time, ms played, artist,
title), never from the importer's report; the real base rows are picked by simple rules of
this module (music plays with a track URI, or a name, and a readable end time).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import random
import re
import stat
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.catalog import CatalogError, load_catalog
from spotify_assets.lib.export import history as exports
from spotify_assets.lib.export.history import HistoryError
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.store import Database

# Planted in fields that are never stored; found anywhere in the database = a leak.
SECRETS = {
    "ip_addr": "203.0.113.199",
    "user_agent_decrypted": "zz-planted-agent-Q81",
    "username": "zz_planted_user_77",
}
USER = "hostile"
ROWS = 120  # base rows per file: enough variety, fast enough for ~100 cases
MB = 2**20
_TRACK_URI = re.compile(r"^spotify:track:[0-9A-Za-z]{22}$")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Play = tuple  # (ended_at UTC datetime, ms_played, artist, title)


# -- expectations and outcomes --------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What importing a case must do. `refused`: True = one clear error, nothing written;
    False = imported; None = either (a file cut at a random offset). When imported, the stored
    rows are exactly `rows`, plus any of `maybe` (a cut last row that still reads), and the
    quarantine holds between `quarantined[0]` and `quarantined[1]` rows."""

    refused: bool | None = False
    rows: frozenset = frozenset()
    maybe: frozenset = frozenset()
    quarantined: tuple[int, int] = (0, 0)
    names: tuple[str, ...] = ()  # a refusal must name one of these (default: the input's)


@dataclass
class Outcome:
    """One case's result; `problems` lists every way it differs from its expectation."""

    section: str
    case: str
    outcome: str = ""  # "clear error" | "quarantined N" | "imported"
    crash: str = ""
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0  # stored rows a clean parse would not store
    leaked: int = 0
    rerun_added: int = 0
    stored: int = 0
    quarantined: int = 0
    message: str = ""
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_mb: float | None = None

    @property
    def ok(self) -> bool:
        return not (
            self.crash
            or self.lost
            or self.duplicated
            or self.unexpected
            or self.leaked
            or self.rerun_added
            or self.problems
        )


@dataclass(frozen=True)
class Case:
    section: str  # "history" | "catalog"
    name: str
    build: Callable[[Path], tuple[Path, Expected]]
    max_file_bytes: int | None = None  # history: a smaller cap than the default for this case
    max_ratio: float | None = None  # catalog: load_catalog(max_quarantine_ratio=...)
    fmt: str = "auto"

    def run(self, db: Database, workdir: Path) -> Outcome:
        """Build the input under `workdir`, import it twice into `db` (which must hold
        nothing yet) and judge what was stored against the expectation."""
        workdir.mkdir(parents=True, exist_ok=True)
        path, expected = self.build(workdir)
        started = time.perf_counter()
        result = Outcome(self.section, self.name)
        error = self._import(db, path, result)
        first = _state(db, self.section)
        if not result.crash:
            again = self._import(db, path, result)
            if error is None:
                second = _state(db, self.section)
                result.rerun_added = len(second.rows) - len(first.rows)
                result.rerun_added += second.quarantined - first.quarantined
                if again is not None:
                    result.problems.append(f"the rerun failed: {again}")
            elif again is None and not result.crash:
                result.problems.append("refused once, imported on the rerun")
        result.seconds = time.perf_counter() - started
        _judge(result, expected, first, error, path)
        return result

    def _import(self, db: Database, path: Path, result: Outcome) -> str | None:
        """Runs the import; returns the clear error's message (None when it succeeded) and
        records anything else as a crash."""
        try:
            with _file_cap(self.max_file_bytes):
                if self.section == "history":
                    import_history(db, path, USER)
                else:
                    load_catalog(db, path, self.fmt, max_quarantine_ratio=self.max_ratio)
        except (HistoryError, CatalogError) as exc:
            return str(exc)
        except Exception as exc:  # the point of the exercise: none should get here
            result.crash = f"{type(exc).__name__}: {str(exc)[:300]}"
        return None


@contextlib.contextmanager
def _file_cap(cap: int | None) -> Iterator[None]:
    if cap is None:
        yield
        return
    saved = exports.MAX_FILE_BYTES
    exports.MAX_FILE_BYTES = cap
    try:
        yield
    finally:
        exports.MAX_FILE_BYTES = saved


@dataclass(frozen=True)
class _State:
    rows: list  # stored plays (Play tuples) or track ids
    quarantined: int
    leaked: int


def _state(db: Database, section: str) -> _State:
    with db.connect() as conn:
        if section == "history":
            rows = [
                (end.astimezone(UTC), ms, artist, title)
                for end, ms, artist, title in conn.execute(
                    "SELECT ended_at, ms_played, artist_name, track_name FROM plays "
                    "WHERE person = %s",
                    (USER,),
                )
            ]
        else:
            rows = [r[0] for r in conn.execute("SELECT track_id FROM tracks")]
        quarantined = conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        leaked = sum(_found(conn, secret) for secret in SECRETS.values())
    return _State(rows, quarantined, leaked)


def _found(conn: psycopg.Connection, needle: str) -> int:
    """Rows of any table in `public` whose text holds `needle`."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
    ]
    return sum(
        conn.execute(
            sql.SQL("SELECT count(*) FROM {} t WHERE strpos(t::text, %s) > 0").format(
                sql.Identifier(table)
            ),
            (needle,),
        ).fetchone()[0]
        for table in tables
    )


def _judge(
    result: Outcome, expected: Expected, state: _State, error: str | None, path: Path
) -> None:
    stored = state.rows
    result.stored, result.quarantined, result.leaked = len(stored), state.quarantined, state.leaked
    result.duplicated = len(stored) - len(set(stored))
    if result.crash:
        result.outcome = "crash"
        result.lost = len(expected.rows)
        return
    if error is not None:
        result.outcome, result.message = "clear error", error
        names = expected.names or (path.name,)
        if not any(name in error for name in names):
            result.problems.append(f"the error does not name the file ({names[0]})")
        if expected.refused is False:
            result.problems.append("refused a file that should import")
            result.lost = len(expected.rows)
        if stored or state.quarantined:
            result.problems.append(f"refused, yet wrote {len(stored)} rows")
            result.problems.append(f"and {state.quarantined} quarantine rows")
        return
    result.outcome = f"quarantined {state.quarantined}" if state.quarantined else "imported"
    if expected.refused is True:
        result.problems.append("imported a file that should be refused")
    kept = set(stored)
    result.lost = len(expected.rows - kept)
    result.unexpected = len(kept - expected.rows - expected.maybe)
    low, high = expected.quarantined
    if not low <= state.quarantined <= high:
        want = str(low) if low == high else f"{low}..{high}"
        result.problems.append(f"quarantined {state.quarantined}, expected {want}")


# -- base data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    origin: str  # "real" | "synthetic"
    extended: list[dict]  # extended-export JSON records
    basic: list[dict]  # basic-export JSON records
    extended_csv: list[dict]  # a CSV conversion's rows, every value text
    catalog: list[dict]  # catalog CSV rows, every value text, one per track id
    catalog_format: str
    catalog_fields: dict[str, str]  # role -> column: "album", "genre"
    parquet: pd.DataFrame  # a TidyTuesday-layout catalog, one row per track id
    parquet_fields: dict[str, str]  # role -> column: "artists", "playlist"


def _ended(text: str, fmt: str) -> datetime:
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def extended_play(record: dict) -> Play:
    ms = int(float(record["ms_played"]))
    end = _ended(record["ts"], "%Y-%m-%dT%H:%M:%SZ")
    return (
        end,
        ms,
        record["master_metadata_album_artist_name"],
        record["master_metadata_track_name"],
    )


def basic_play(record: dict) -> Play:
    return (
        _ended(record["endTime"], "%Y-%m-%d %H:%M"),
        int(float(record["msPlayed"])),
        record["artistName"],
        record["trackName"],
    )


def _has_word(text: object) -> bool:
    return isinstance(text, str) and any(c.isalnum() for c in text)


def _clean_extended(records: list[dict]) -> list[dict]:
    """Music plays with a track URI, names and a readable end time; one per (track, start)."""
    out, seen = [], set()
    for r in records:
        if r.get("spotify_episode_uri") or r.get("audiobook_uri"):
            continue
        if not (
            isinstance(r.get("spotify_track_uri"), str) and _TRACK_URI.match(r["spotify_track_uri"])
        ):
            continue
        names = r.get("master_metadata_album_artist_name"), r.get("master_metadata_track_name")
        if not all(_has_word(n) and len(n) < 200 for n in names):
            continue
        try:
            end, ms, *_ = extended_play(r)
        except (ValueError, TypeError, KeyError):
            continue
        key = (r["spotify_track_uri"], end - timedelta(milliseconds=ms))
        if ms >= 0 and key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _clean_basic(records: list[dict]) -> list[dict]:
    out, seen = [], set()
    for r in records:
        if not (_has_word(r.get("artistName")) and _has_word(r.get("trackName"))):
            continue
        try:
            end, ms, artist, title = basic_play(r)
        except (ValueError, TypeError, KeyError):
            continue
        key = (artist.casefold(), title.casefold(), end - timedelta(milliseconds=ms))
        if ms >= 0 and key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _plant(record: dict) -> dict:
    return {**record, **SECRETS}


def _as_csv_row(record: dict) -> dict:
    return {k: "" if v is None else str(v) for k, v in record.items()}


def real_base(shared: Path) -> Base:
    histories = shared / "histories"
    extended = json.loads(
        (histories / "listener_d_extended_export/Streaming_History_Audio_2023.json").read_text()
    )
    basic = json.loads((histories / "listener_b_basic_export/StreamingHistory0.json").read_text())
    with (histories / "listener_d_extended_export/Streaming_History_Audio_2024.csv").open(
        encoding="utf-8", newline=""
    ) as handle:
        converted = list(csv.DictReader(handle))
    converted = _clean_extended(converted)  # all text, as CSV cells are
    with (shared / "kaggle_114k/sample_music_dataset.csv").open(encoding="utf-8", newline="") as h:
        catalog = _unique(list(csv.DictReader(h)), "track_id")[:200]
    tidy = pd.read_parquet(shared / "tidytuesday/spotify_songs.parquet")
    tidy = tidy.drop_duplicates("track_id").head(300).reset_index(drop=True)
    return Base(
        origin="real",
        extended=[_plant(r) for r in _clean_extended(extended)[:ROWS]],
        basic=[_plant(r) for r in _clean_basic(basic)[:ROWS]],
        extended_csv=[_as_csv_row(_plant(r)) for r in converted[:ROWS]],
        catalog=catalog,
        catalog_format="kaggle_114k_sample",
        catalog_fields={"album": "album_id", "genre": "primary_genre"},
        parquet=tidy,
        parquet_fields={"artists": "track_artist", "playlist": "playlist_name"},
    )


def _unique(rows: list[dict], key: str) -> list[dict]:
    seen, out = set(), []
    for row in rows:
        if row[key] not in seen:
            seen.add(row[key])
            out.append(row)
    return out


def synthetic_base(seed: int = 11) -> Base:
    rng = random.Random(seed)
    names = ["Beyoncé", "Sigur Rós", "Björk", "Mötley Crüe", "Ladies' Code", "AC/DC", "Ñu"]
    clock = datetime(2021, 3, 1, 8, 0, tzinfo=UTC)
    extended, basic = [], []
    for i in range(ROWS):
        clock += timedelta(minutes=rng.randint(2, 90))
        track = "".join(rng.choice(_ALNUM) for _ in range(22))
        artist = f"{rng.choice(names)} {i % 13}"
        extended.append(
            {
                "ts": clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "platform": "android",
                "ms_played": rng.randint(0, 400_000),
                "conn_country": "DE",
                "ip_addr": None,
                "master_metadata_track_name": f"Song {i} – Señal",
                "master_metadata_album_artist_name": artist,
                "master_metadata_album_album_name": f"Album {i % 7}",
                "spotify_track_uri": f"spotify:track:{track}",
                "episode_name": None,
                "episode_show_name": None,
                "spotify_episode_uri": None,
                "reason_start": "trackdone",
                "reason_end": rng.choice(["trackdone", "fwdbtn"]),
                "shuffle": rng.random() < 0.5,
                "skipped": rng.random() < 0.2,
                "offline": False,
                "offline_timestamp": int(clock.timestamp() * 1000),
                "incognito_mode": False,
            }
        )
        basic.append(
            {
                "endTime": clock.strftime("%Y-%m-%d %H:%M"),
                "artistName": artist,
                "trackName": f"Tune {i} (Live)",
                "msPlayed": rng.randint(0, 400_000),
            }
        )
    from spotify_assets.lib.sample import generate_tracks

    tracks = generate_tracks(n_tracks=200, seed=seed)
    buffer = io.StringIO()
    tracks.to_csv(buffer, index=False)
    catalog = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    return Base(
        origin="synthetic",
        extended=[_plant(r) for r in extended],
        basic=[_plant(r) for r in basic],
        extended_csv=[_as_csv_row(_plant(r)) for r in extended],
        catalog=_unique(catalog, "track_id"),
        catalog_format="sample",
        catalog_fields={"album": "album_name", "genre": "genre"},
        parquet=_tidy_layout(tracks.drop_duplicates("track_id").reset_index(drop=True)),
        parquet_fields={"artists": "track_artist", "playlist": "playlist_name"},
    )


def _tidy_layout(tracks: pd.DataFrame) -> pd.DataFrame:
    """Generated tracks in the TidyTuesday layout (one playlist per genre)."""
    features = [
        "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
        "instrumentalness", "liveness", "valence", "tempo", "duration_ms",
    ]  # fmt: skip
    return pd.DataFrame(
        {
            "track_id": tracks["track_id"],
            "track_name": tracks["track_name"],
            "track_artist": tracks["artists"].map(lambda a: json.loads(a)[0]),
            "track_popularity": tracks["popularity"],
            "track_album_id": "album-" + tracks["album_name"].str.len().astype(str),
            "track_album_name": tracks["album_name"],
            "track_album_release_date": tracks["release_date"],
            "playlist_name": "Best of " + tracks["genre"],
            "playlist_id": "pl-" + tracks["genre"].str.replace(" ", "-"),
            "playlist_genre": tracks["genre"],
            "playlist_subgenre": tracks["genre"],
            **{name: tracks[name] for name in features},
        }
    )


# -- writing files --------------------------------------------------------------------------

SURROGATE = "@@lone-surrogate@@"  # replaced by the JSON escape \ud800 when written


def _json_bytes(records: Any) -> bytes:
    text = json.dumps(records, ensure_ascii=False)  # NaN / Infinity tokens as Python writes them
    return text.replace(SURROGATE, "\\ud800").encode("utf-8")


def _csv_bytes(rows: list[dict], header: list[str] | None = None, newline: str = "\n") -> bytes:
    header = header or list(rows[0])
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=header, lineterminator=newline, extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- history cases --------------------------------------------------------------------------

EXT_JSON = "Streaming_History_Audio_2023.json"
EXT_CSV = "Streaming_History_Audio_2024.csv"
BASIC_JSON = "StreamingHistory0.json"
_LAYOUTS = {  # name -> (file name, base records, the play a clean parse reads from a record)
    "ext": (EXT_JSON, "extended", extended_play),
    "basic": (BASIC_JSON, "basic", basic_play),
    "csv": (EXT_CSV, "extended_csv", extended_play),
}
Mutation = Callable[[list[dict]], set[int]]  # changes records in place; returns the bad ones


def _records(base: Base, layout: str) -> list[dict]:
    return [dict(r) for r in getattr(base, _LAYOUTS[layout][1])]


def _expected_plays(records: list[dict], layout: str, bad: set[int]) -> frozenset:
    play = _LAYOUTS[layout][2]
    return frozenset(play(r) for i, r in enumerate(records) if i not in bad)


def _encode(records: list[dict], layout: str) -> bytes:
    return _csv_bytes(records) if layout == "csv" else _json_bytes(records)


def row_case(base: Base, name: str, layout: str, mutate: Mutation) -> Case:
    """A file of `layout` whose records `mutate` changed; the rows it returns are the ones
    that must be quarantined, every other row must be stored as a clean parse reads it."""

    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, layout)
        bad = mutate(records)
        path = _write(folder, _LAYOUTS[layout][0], _encode(records, layout))
        plays = _expected_plays(records, layout, bad)
        return path, Expected(rows=plays, quarantined=(len(bad), len(bad)))

    return Case("history", f"{layout}: {name}", build)


def refused_case(base: Base, name: str, layout: str, make: Callable[[bytes], bytes]) -> Case:
    """A file whose bytes `make` turned into something that must be refused as a whole."""

    def build(folder: Path) -> tuple[Path, Expected]:
        data = make(_encode(_records(base, layout), layout))
        return _write(folder, _LAYOUTS[layout][0], data), Expected(refused=True)

    return Case("history", f"{layout}: {name}", build)


def same_case(base: Base, name: str, layout: str, make: Callable[[bytes], bytes]) -> Case:
    """A file whose bytes `make` changed in a way that must import exactly like the clean."""

    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, layout)
        path = _write(folder, _LAYOUTS[layout][0], make(_encode(records, layout)))
        return path, Expected(rows=_expected_plays(records, layout, set()))

    return Case("history", f"{layout}: {name}", build)


def _set(index: int, **values: Any) -> Mutation:
    def mutate(records: list[dict]) -> set[int]:
        records[index].update(values)
        return {index}

    return mutate


def _harmless(index: int, **values: Any) -> Mutation:
    def mutate(records: list[dict]) -> set[int]:
        records[index].update(values)
        return set()

    return mutate


def _nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _deep_json(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def _truncations(data: bytes, count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return sorted(rng.randint(len(data) // 10, len(data) * 9 // 10) for _ in range(count))


def _json_truncated(base: Base, layout: str, offset_share: float) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        data = _encode(_records(base, layout), layout)
        cut = int(len(data) * offset_share)
        return _write(folder, _LAYOUTS[layout][0], data[:cut]), Expected(refused=True)

    return Case("history", f"{layout}: truncated at {offset_share:.0%}", build)


def _csv_truncated(base: Base, offset_share: float) -> Case:
    """A CSV cut mid-file: rows before the cut import; the cut row is quarantined when it
    lost fields, or may import when only its last (never stored) column was cut."""

    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, "csv")
        data = _encode(records, "csv")
        cut = int(len(data) * offset_share)
        text = data[:cut].decode("utf-8", "ignore")
        rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
        complete = text.endswith("\n")
        whole = rows if complete else rows[:-1]
        plays = _expected_plays(records[: len(whole)], "csv", set())
        if complete or not rows:
            return _write(folder, EXT_CSV, data[:cut]), Expected(rows=plays)
        partial_fields = len(rows[-1])
        header = len(records[0])
        maybe = frozenset({extended_play(records[len(whole)])})
        quarantined = (1, 1) if partial_fields != header else (0, 1)
        expected = Expected(refused=None, rows=plays, maybe=maybe, quarantined=quarantined)
        return _write(folder, EXT_CSV, data[:cut]), expected

    return Case("history", f"csv: truncated at {offset_share:.0%}", build)


def history_cases(base: Base) -> list[Case]:
    nan, inf = math.nan, math.inf
    mb_name = "n" * MB
    cases: list[Case] = [
        row_case(base, "clean", "ext", lambda r: set()),
        row_case(base, "clean", "basic", lambda r: set()),
        row_case(base, "clean", "csv", lambda r: set()),
    ]
    # numbers: every numeric field, stored (ms_played) or not (offline_timestamp)
    for label, value in [
        ("NaN", nan), ("inf", inf), ("-inf", -inf), ("1e300", 1e300), ("10**400", 10**400),
        ("-5", -5), ("1.5", 1.5), ("text", "lots"), ("true", True), ("object", {"n": 1}),
        ("list", [60000]), ("null", None),
    ]:  # fmt: skip
        cases.append(row_case(base, f"ms_played {label}", "ext", _set(3, ms_played=value)))
    cases.append(row_case(base, "ms_played -0 (a 0 ms play)", "ext", _harmless(3, ms_played=-0.0)))
    cases.append(row_case(base, "ms_played as text", "ext", _harmless(3, ms_played="61000")))
    cases.append(row_case(base, "ms_played key missing", "ext", _drop(5, "ms_played")))
    for label, value in [("NaN", nan), ("inf", inf), ("10**400", 10**400), ("object", {"a": [1]})]:
        cases.append(
            row_case(
                base,
                f"offline_timestamp {label} (not stored)",
                "ext",
                _harmless(4, offline_timestamp=value),
            )
        )
    for label, value in [("NaN", nan), ("inf", inf), ("1e300", 1e300), ("object", {})]:
        cases.append(row_case(base, f"msPlayed {label}", "basic", _set(2, msPlayed=value)))
    cases.append(row_case(base, "msPlayed -0", "basic", _harmless(2, msPlayed=-0.0)))
    for label, value in [("NaN", "NaN"), ("inf", "inf"), ("1e400", "1e400"), ("huge", "9" * 500)]:
        cases.append(row_case(base, f"ms_played {label}", "csv", _set(6, ms_played=value)))
    cases.append(row_case(base, "ms_played -0", "csv", _harmless(6, ms_played="-0")))
    # timestamps outside the plausible window, or not timestamps
    for label, value in [
        ("year 0001", "0001-01-01T00:00:00Z"), ("1969", "1969-12-31T23:59:59Z"),
        ("2098", "2098-01-01T00:00:00Z"), ("number", 1700000000), ("object", {"t": 1}),
        ("garbage", "yesterday"), ("year 9999", "9999-12-31T23:59:59Z"),
    ]:  # fmt: skip
        cases.append(row_case(base, f"ts {label}", "ext", _set(5, ts=value)))
    cases.append(
        row_case(
            base, "play starting before Spotify's launch", "ext",
            _set(5, ts="2008-10-01T00:00:30Z", ms_played=120_000),
        )
    )  # fmt: skip
    for label, value in [
        ("0001", "0001-01-01 00:00"),
        ("1969", "1969-12-31 23:59"),
        ("2098", "2098-01-01 00:00"),
    ]:
        cases.append(row_case(base, f"endTime {label}", "basic", _set(1, endTime=value)))
    cases.append(row_case(base, "ts 2098", "csv", _set(7, ts="2098-01-01T00:00:00Z")))
    # text
    track, artist, album = (
        "master_metadata_track_name", "master_metadata_album_artist_name",
        "master_metadata_album_album_name",
    )  # fmt: skip
    for label, values in [
        ("NUL in track name", {track: "Bad\x00Song"}),
        ("control char in artist", {artist: "Band\x07"}),
        ("lone surrogate in album", {album: f"Album {SURROGATE}"}),
        ("1 MB track name", {track: mb_name}),
        ("track name object", {track: {"name": "x"}}),
        ("track name list", {track: ["x"]}),
        ("track name number", {track: 123}),
        ("reason_start list", {"reason_start": ["clickrow"]}),
        ("track uri object", {"spotify_track_uri": {"uri": 1}}),
        ("track name nested 500 deep", {track: _nested(500)}),
    ]:
        cases.append(row_case(base, label, "ext", _set(8, **values)))
    for label, values in [
        ("platform object (not stored)", {"platform": {"os": "x", "deep": _nested(200)}}),
        ("platform list (not stored)", {"platform": ["a", 1, None]}),
        ("unknown field nested 500 deep", {"zz_extra": _nested(500)}),
        ("NUL in ip_addr (not stored)", {"ip_addr": "1.2.3.4\x00"}),
    ]:
        cases.append(row_case(base, label, "ext", _harmless(9, **values)))
    cases.append(row_case(base, "NUL in trackName", "basic", _set(4, trackName="a\x00b")))
    cases.append(row_case(base, "1 MB artistName", "basic", _set(4, artistName=mb_name)))
    cases.append(row_case(base, "NUL in track name", "csv", _set(8, **{track: "x\x00y"})))
    cases.append(row_case(base, "1 MB track name", "csv", _set(8, **{track: mb_name})))
    cases.append(row_case(base, "tab and newline in name", "csv", _set(9, **{artist: "a\tb\nc"})))
    # rows and columns
    cases.append(row_case(base, "duplicated rows", "ext", _duplicate))
    cases.append(row_case(base, "duplicated rows", "csv", _duplicate))
    cases.append(row_case(base, "extra fields", "ext", _extra_fields))
    cases.append(row_case(base, "all corruptions at once", "ext", _kitchen_sink))
    cases.append(_csv_ragged(base, "row with an extra field", extra=True))
    cases.append(_csv_ragged(base, "row with a missing field", extra=False))
    cases.append(_csv_columns(base, "extra column", add="zz_extra"))
    cases.append(_csv_columns(base, "missing ms_played column", drop="ms_played"))
    # whole-file damage
    bom = b"\xef\xbb\xbf"
    for layout in ("ext", "csv"):
        cases.append(same_case(base, "UTF-8 BOM", layout, lambda d: bom + d))
    cases.append(same_case(base, "CRLF line ends", "ext", _json_crlf))
    cases.append(same_case(base, "CRLF line ends", "csv", lambda d: d.replace(b"\n", b"\r\n")))
    cases.append(refused_case(base, "latin-1 bytes", "ext", _latin1))
    cases.append(_windows_1252_csv(base))
    for layout in ("ext", "csv"):
        cases.append(refused_case(base, "empty file", layout, lambda d: b""))
        cases.append(refused_case(base, "whitespace only", layout, lambda d: b" \n\t\r\n  "))
        cases.append(refused_case(base, "zeros", layout, lambda d: bytes(len(d))))
    cases.append(refused_case(base, "JSON object, not a list", "ext", _as_object))
    cases.append(refused_case(base, "list of numbers", "ext", lambda d: b"[1, 2, 3]"))
    cases.append(refused_case(base, "100k-deep nesting", "ext", _deeply_nested_file))
    cases.append(refused_case(base, "nesting in a field, 100k deep", "ext", _deep_field))
    cases.append(_empty_list(base))
    for share in (0.13, 0.37, 0.5, 0.71, 0.89):
        cases.append(_json_truncated(base, "ext", share))
    for share in (0.21, 0.44, 0.58, 0.66, 0.93):
        cases.append(_csv_truncated(base, share))
    cases.append(_json_truncated(base, "basic", 0.5))
    # zips and folders
    cases += [
        _zip_case(base, "zip of a clean export"),
        _zip_case(base, "zip member over the cap", member=b"[" + b" " * (2 * MB) + b"]", cap=MB),
        _zip_case(base, "zip member of 3 MB zeros", member=bytes(3 * MB)),
        _zip_case(
            base, "zip path traversal", member_name="../../evil/Streaming_History_Audio_x.json"
        ),
        _zip_case(base, "zip absolute member", member_name="/etc/Streaming_History_Audio_x.json"),
        _zip_case(base, "zip symlink member", symlink=True),
        _zip_case(base, "zip truncated", cut=True),
        _folder_case(base, "symlink leaving the folder", outside_link=True),
        _folder_case(base, "symlink inside the folder", inside_link=True),
        _folder_case(base, "linked folder outside", linked_dir=True),
        _folder_case(base, "one good file and one truncated", bad_file=True),
    ]
    return cases


def _drop(index: int, key: str) -> Mutation:
    def mutate(records: list[dict]) -> set[int]:
        del records[index][key]
        return {index}

    return mutate


def _duplicate(records: list[dict]) -> set[int]:
    records.extend(dict(r) for r in records[:25])
    return set()


def _extra_fields(records: list[dict]) -> set[int]:
    for i, record in enumerate(records):
        record[f"zz_extra_{i % 3}"] = [i, {"a": None}]
    return set()


def _kitchen_sink(records: list[dict]) -> set[int]:
    """Many bad rows in one file, among good ones."""
    bad = {
        1: {"ms_played": math.nan},
        2: {"ms_played": math.inf},
        3: {"ts": "2098-01-01T00:00:00Z"},
        4: {"ts": "0001-01-01T00:00:00Z"},
        5: {"master_metadata_track_name": "a\x00b"},
        6: {"master_metadata_album_artist_name": "z" * (MB // 4)},
        7: {"master_metadata_track_name": {"x": 1}},
        8: {"ts": "1969-07-20T20:17:00Z"},
    }
    for index, values in bad.items():
        records[index].update(values)
    records[10]["platform"] = {"nested": _nested(50)}  # not stored: harmless
    return set(bad)


def _csv_ragged(base: Base, name: str, extra: bool) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, "csv")
        lines = _csv_bytes(records).decode("utf-8").split("\n")
        index = 11  # record 11 is line 12 (after the header)
        lines[index + 1] = (
            lines[index + 1] + ",surplus" if extra else lines[index + 1].rsplit(",", 3)[0]
        )
        path = _write(folder, EXT_CSV, "\n".join(lines).encode("utf-8"))
        return path, Expected(rows=_expected_plays(records, "csv", {index}), quarantined=(1, 1))

    return Case("history", f"csv: {name}", build)


def _csv_columns(base: Base, name: str, add: str | None = None, drop: str | None = None) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, "csv")
        if add:
            for i, record in enumerate(records):
                record[add] = f"extra {i}"
        header = [c for c in records[0] if c != drop]
        path = _write(folder, EXT_CSV, _csv_bytes(records, header))
        if drop:
            return path, Expected(refused=True)
        return path, Expected(rows=_expected_plays(records, "csv", set()))

    return Case("history", f"csv: {name}", build)


def _json_crlf(data: bytes) -> bytes:
    records = json.loads(data)
    return json.dumps(records, indent=1, ensure_ascii=False).replace("\n", "\r\n").encode("utf-8")


def _latin1(data: bytes) -> bytes:
    """The file as latin-1, with an "é" at the start of the first value."""
    text = data.decode("utf-8")
    at = text.index('": "') + 4 if text.startswith("[") else text.index("\n") + 1
    return (text[:at] + "é" + text[at:]).encode("latin-1", "replace")


def _windows_1252_csv(base: Base) -> Case:
    """A CSV conversion saved by a spreadsheet as Windows-1252: read as such (a value it cannot
    hold becomes "?" as the spreadsheet wrote it), an "é" before the first end time makes that
    one row unreadable."""

    def build(folder: Path) -> tuple[Path, Expected]:
        records = [
            {k: v.encode("cp1252", "replace").decode("cp1252") if isinstance(v, str) else v
             for k, v in r.items()}
            for r in _records(base, "csv")
        ]  # fmt: skip
        records[0]["ts"] = "é" + records[0]["ts"]
        data = _csv_bytes(records).decode("utf-8").encode("cp1252")
        path = _write(folder, _LAYOUTS["csv"][0], data)
        return path, Expected(rows=_expected_plays(records, "csv", {0}), quarantined=(1, 1))

    return Case("history", "csv: Windows-1252 bytes", build)


def _as_object(data: bytes) -> bytes:
    return b'{"plays": ' + data + b"}"


def _deeply_nested_file(data: bytes) -> bytes:
    return _deep_json(100_000).encode()


def _deep_field(data: bytes) -> bytes:
    """A real record whose `platform` (never stored) nests 100,000 lists deep."""
    records = json.loads(data)
    head = json.dumps(records[:1])[:-2]  # "[{...}" without the closing "}]"
    return (head + ', "platform": ' + _deep_json(100_000) + "}]").encode()


def _empty_list(base: Base) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        return _write(folder, EXT_JSON, b"[]"), Expected(rows=frozenset())

    return Case("history", "ext: empty list", build)


def _zip_case(
    base: Base,
    name: str,
    member: bytes | None = None,
    member_name: str | None = None,
    symlink: bool = False,
    cut: bool = False,
    cap: int | None = None,
) -> Case:
    """A zip with the clean export (as two members) and, optionally, one hostile member."""

    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, "ext")
        half = len(records) // 2
        path = folder / "my_spotify_data.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("Spotify Extended Streaming History/ReadMeFirst.pdf", b"%PDF-1.4")
            archive.writestr(
                f"Spotify Extended Streaming History/{EXT_JSON}", _json_bytes(records[:half])
            )
            archive.writestr(
                "Spotify Extended Streaming History/Streaming_History_Audio_2023_1.json",
                _json_bytes(records[half:]),
            )
            if member is not None:
                archive.writestr(
                    "Spotify Extended Streaming History/Streaming_History_Audio_2025.json", member
                )
            if member_name is not None:
                archive.writestr(member_name, _json_bytes(records[:3]))
            if symlink:
                info = zipfile.ZipInfo(
                    "Spotify Extended Streaming History/Streaming_History_Audio_2026.json"
                )
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, "/etc/passwd")
        if cut:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        hostile = member is not None or member_name is not None or symlink or cut
        if hostile:
            return path, Expected(refused=True)
        return path, Expected(rows=_expected_plays(records, "ext", set()))

    return Case("history", name, build, max_file_bytes=cap)


def _folder_case(
    base: Base,
    name: str,
    outside_link: bool = False,
    inside_link: bool = False,
    linked_dir: bool = False,
    bad_file: bool = False,
) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        records = _records(base, "ext")
        root = folder / "export"
        _write(root, EXT_JSON, _json_bytes(records))
        outside = folder / "elsewhere"
        _write(outside, "Streaming_History_Audio_2019.json", _json_bytes(_shifted(records)))
        if outside_link:
            link = root / "Streaming_History_Audio_2019.json"
            os.symlink(outside / "Streaming_History_Audio_2019.json", link)
            return root, Expected(refused=True, names=(link.name,))
        if inside_link:
            os.symlink(root / EXT_JSON, root / "Streaming_History_Audio_2023_copy.json")
        if linked_dir:
            os.symlink(outside, root / "more")
        if bad_file:
            bad = _json_bytes(records[:10])
            _write(root, "Streaming_History_Audio_2024.json", bad[: len(bad) // 2])
            return root, Expected(refused=True, names=("Streaming_History_Audio_2024.json",))
        return root, Expected(rows=_expected_plays(records, "ext", set()))

    return Case("history", f"folder: {name}", build)


def _shifted(records: list[dict]) -> list[dict]:
    """Other plays (a year earlier), so reading them would show as unexpected rows."""
    out = []
    for record in records:
        end = _ended(record["ts"], "%Y-%m-%dT%H:%M:%SZ") - timedelta(days=365)
        out.append({**record, "ts": end.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return out


# -- catalog cases --------------------------------------------------------------------------

CATALOG_CSV = "catalog.csv"
CATALOG_PARQUET = "catalog.parquet"


def catalog_row_case(
    base: Base,
    name: str,
    mutate: Callable[[list[dict]], set[int]],
    max_ratio: float | None = None,
    refused: bool = False,
) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        rows = [dict(r) for r in base.catalog]
        bad = mutate(rows)
        path = _write(folder, CATALOG_CSV, _csv_bytes(rows))
        if refused:
            return path, Expected(refused=True)
        ids = frozenset(r["track_id"] for i, r in enumerate(rows) if i not in bad)
        return path, Expected(rows=ids, quarantined=(len(bad), len(bad)))

    return Case("catalog", f"csv: {name}", build, max_ratio=max_ratio)


def catalog_bytes_case(
    base: Base, name: str, make: Callable[[bytes], bytes], refused: bool, quarantined: int = 0,
    bad_row: int | None = None,
) -> Case:
    """`bad_row`: the index of the one row `make` broke (not stored, quarantined)."""

    def build(folder: Path) -> tuple[Path, Expected]:
        path = _write(folder, CATALOG_CSV, make(_csv_bytes(base.catalog)))
        if refused:
            return path, Expected(refused=True)
        rows = frozenset(r["track_id"] for i, r in enumerate(base.catalog) if i != bad_row)
        return path, Expected(rows=rows, quarantined=(quarantined, quarantined))

    return Case("catalog", f"csv: {name}", build)


def _catalog_truncated(base: Base, share: float) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        data = _csv_bytes(base.catalog)
        cut = int(len(data) * share)
        lines = data[:cut].decode("utf-8", "ignore").split("\n")
        whole = len(lines) - 2  # the header, and the cut line
        ids = frozenset(r["track_id"] for r in base.catalog[:whole])
        maybe = frozenset({base.catalog[whole]["track_id"]})
        expected = Expected(refused=None, rows=ids, maybe=maybe, quarantined=(0, 1))
        return _write(folder, CATALOG_CSV, data[:cut]), expected

    return Case("catalog", f"csv: truncated at {share:.0%}", build)


def parquet_case(
    base: Base,
    name: str,
    mutate: Callable[[pd.DataFrame], set[int]],
    max_ratio: float | None = None,
    refused: bool = False,
    cut: bool = False,
) -> Case:
    def build(folder: Path) -> tuple[Path, Expected]:
        frame = base.parquet.copy()
        bad = mutate(frame)
        path = folder / CATALOG_PARQUET
        frame.to_parquet(path, index=False)
        if cut:
            path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
        if refused or cut:
            return path, Expected(refused=True)
        ids = frozenset(t for i, t in enumerate(frame["track_id"]) if i not in bad)
        return path, Expected(rows=ids, quarantined=(len(bad), len(bad)))

    return Case("catalog", f"parquet: {name}", build, max_ratio=max_ratio)


def _cell(index: int, column: str, value: Any) -> Callable[[list[dict]], set[int]]:
    def mutate(rows: list[dict]) -> set[int]:
        rows[index][column] = value
        return {index}

    return mutate


def _cell_ok(index: int, column: str, value: Any) -> Callable[[list[dict]], set[int]]:
    def mutate(rows: list[dict]) -> set[int]:
        rows[index][column] = value
        return set()

    return mutate


def _bad_share(share: float) -> Callable[[list[dict]], set[int]]:
    def mutate(rows: list[dict]) -> set[int]:
        step = round(1 / share)
        bad = set(range(0, len(rows), step))
        for i in bad:
            rows[i]["energy"] = "n/a"
        return bad

    return mutate


def _frame_cell(
    index: int, column: str, value: Any, bad: bool = True
) -> Callable[[pd.DataFrame], set[int]]:
    """Set one cell; `bad`: the row must be quarantined (else kept, the value coerced)."""

    def mutate(frame: pd.DataFrame) -> set[int]:
        if isinstance(value, float | int) and not isinstance(value, bool):
            frame[column] = frame[column].astype("float64" if isinstance(value, float) else "int64")
        else:
            frame[column] = frame[column].astype(object)
        frame.at[index, column] = value
        return {index} if bad else set()

    return mutate


def _list_column(column: str) -> Callable[[pd.DataFrame], set[int]]:
    def mutate(frame: pd.DataFrame) -> set[int]:
        frame[column] = [[str(v)] for v in frame[column]]
        return set(range(len(frame)))

    return mutate


def _list_artists_case(name: str, artists: str) -> Case:
    """The generated sample layout, whose artists cell is a JSON list."""

    def build(folder: Path) -> tuple[Path, Expected]:
        from spotify_assets.lib.sample import generate_tracks

        frame = generate_tracks(n_tracks=60, seed=4).astype(str)
        frame.loc[7, "artists"] = artists
        path = folder / "tracks.csv"
        frame.to_csv(path, index=False)
        ids = frozenset(t for i, t in enumerate(frame["track_id"]) if i != 7)
        return path, Expected(rows=ids, quarantined=(1, 1))

    return Case("catalog", f"sample csv: {name}", build)


def catalog_cases(base: Base) -> list[Case]:
    album, genre = base.catalog_fields["album"], base.catalog_fields["genre"]
    cases = [catalog_row_case(base, "clean", lambda rows: set())]
    for label, value in [
        ("inf", "inf"), ("-inf", "-inf"), ("NaN", "NaN"), ("1e400", "1e400"),
        ("5000 digits", "9" * 5000), ("missing", ""), ("object text", "{'a': 1}"),
    ]:  # fmt: skip
        cases.append(catalog_row_case(base, f"energy {label}", _cell(3, "energy", value)))
    cases.append(catalog_row_case(base, "energy -0", _cell_ok(3, "energy", "-0")))
    # duration_ms is optional: an unreadable value is stored as null and the row is kept
    cases.append(catalog_row_case(base, "duration_ms 1e400", _cell_ok(4, "duration_ms", "1e400")))
    cases.append(catalog_row_case(base, "duration_ms -0", _cell_ok(4, "duration_ms", "-0")))
    cases.append(catalog_row_case(base, "tempo Infinity", _cell(4, "tempo", "Infinity")))
    cases.append(catalog_row_case(base, "key 1e300", _cell(4, "key", "1e300")))
    for label, column, value in [
        ("NUL in track_name", "track_name", "Bad\x00Name"),
        ("escape char in track_name", "track_name", "x\x1b[31m"),
        ("1 MB track_name", "track_name", "n" * MB),
        ("control char in album", album, "alb\x01"),
        ("NUL in genre", genre, "pop\x00"),
        ("NUL in track_id", "track_id", "abc\x00def"),
    ]:
        cases.append(catalog_row_case(base, label, _cell(5, column, value)))
    cases.append(catalog_row_case(base, "duplicated rows", _duplicate_catalog))
    cases.append(catalog_row_case(base, "10% bad rows, threshold 5%", _bad_share(0.1), 0.05, True))
    cases.append(catalog_row_case(base, "10% bad rows, no threshold", _bad_share(0.1)))
    cases.append(catalog_row_case(base, "4% bad rows, threshold 5%", _bad_share(0.04), 0.05))
    cases.append(catalog_bytes_case(base, "UTF-8 BOM", lambda d: b"\xef\xbb\xbf" + d, False))
    cases.append(
        catalog_bytes_case(base, "CRLF line ends", lambda d: d.replace(b"\n", b"\r\n"), False)
    )
    cases.append(  # read as Windows-1252; the appended two-field row is one bad row
        catalog_bytes_case(base, "latin-1 bytes", lambda d: d + "Caf\xe9,".encode("latin-1"),
                           False, quarantined=1)
    )  # fmt: skip
    cases.append(catalog_bytes_case(base, "empty file", lambda d: b"", True))
    cases.append(catalog_bytes_case(base, "whitespace only", lambda d: b"  \n\r\n\t", True))
    cases.append(
        catalog_bytes_case(base, "header only", lambda d: d.split(b"\n", 1)[0] + b"\n", True)
    )
    cases.append(catalog_bytes_case(base, "zeros", lambda d: bytes(len(d)), True))
    cases.append(catalog_bytes_case(base, "missing energy column", _drop_column("energy"), True))
    cases.append(catalog_bytes_case(base, "extra column", _add_column, False))
    cases.append(  # line 7 is row 5: quarantined as a ragged row, the rest loads
        catalog_bytes_case(base, "row with extra fields", _extra_field_row, False, 1, bad_row=5)
    )
    for share in (0.27, 0.52, 0.81):
        cases.append(_catalog_truncated(base, share))
    artists = base.parquet_fields["artists"]
    cases += [
        parquet_case(base, "clean", lambda f: set()),
        parquet_case(base, "energy inf", _frame_cell(2, "energy", math.inf)),
        parquet_case(base, "energy NaN", _frame_cell(2, "energy", math.nan)),
        parquet_case(base, "duration_ms 2**62", _frame_cell(2, "duration_ms", 2**62, bad=False)),
        parquet_case(base, "NUL in track_name", _frame_cell(2, "track_name", "a\x00b")),
        parquet_case(base, "1 MB artist", _frame_cell(2, artists, "a" * MB)),
        parquet_case(base, "artists as lists, threshold 5%", _list_column(artists), 0.05, True),
        parquet_case(base, "truncated", lambda f: set(), cut=True),
        _list_artists_case("artists nested 100k deep", '["a", ' + _deep_json(100_000) + "]"),
        _list_artists_case("NUL escaped in an artists list", '["ok\\u0000x"]'),
    ]
    playlist = base.parquet_fields["playlist"]
    cases.append(parquet_case(base, "NUL in playlist name", _frame_cell(2, playlist, "p\x00")))
    return cases


def _duplicate_catalog(rows: list[dict]) -> set[int]:
    rows.extend(dict(r) for r in rows[:20])
    return set()


def _drop_column(column: str) -> Callable[[bytes], bytes]:
    def make(data: bytes) -> bytes:
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        return _csv_bytes(rows, [c for c in rows[0] if c != column])

    return make


def _add_column(data: bytes) -> bytes:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    return _csv_bytes([{**r, "zz_extra": "x"} for r in rows])


def _extra_field_row(data: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[6] += b",1,2,3"
    return b"\n".join(lines)


def all_cases(base: Base) -> list[Case]:
    return history_cases(base) + catalog_cases(base)
