"""Hostile whole exports through `import`: the folder or zip a person hands over, corrupted.

Each case builds an export (playlists, liked songs, a basic and an extended history with
planted secrets), imports it twice with an importer and judges: a refusal names the file and
writes nothing for the person; an import stores exactly the expected plays, playlist members
and liked songs, quarantines the expected rows, accounts for every row of every file, leaks
no planted secret, and adds nothing on the rerun. Two importers: `library_import` (what the
`import` command runs, without Dagster: the tests) and the command itself in a subprocess
(benchmarks/hostile_inputs.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spotify_assets.lib.catalog.library import KNOWN_COLUMNS
from spotify_assets.lib.export import files as export_files
from spotify_assets.lib.export import read_export
from spotify_assets.lib.export.files import ExportError
from spotify_assets.lib.export.library import read_liked
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import export_playlists
from spotify_assets.lib.store import Database
from spotify_assets.lib.store.tracks import TrackRepository
from spotify_assets_tests.hostile.corpus import Outcome, _found

PERSON = "hostile"
SECRETS = {"ip_addr": "198.51.100.77", "username": "secret-account-name-4711"}
Importer = Callable[[Database, Path, str], "str | None"]  # an error message, or None


def library_import(db: Database, path: Path, person: str) -> str | None:
    """What `spotify-assets import` does, minus Dagster: every file read first (a refusal
    writes nothing), then playlists, liked songs and history stored as its jobs store them."""
    try:
        contents = read_export(path, person)
    except ExportError as exc:
        return str(exc)
    if contents.playlists is not None:
        with db.connect() as conn:
            known = TrackRepository(conn).frame(KNOWN_COLUMNS)
        store_playlists(db, export_playlists(path, known, person), person, "export")
    if contents.liked is not None:
        liked = read_liked(path)
        store_candidates(db, person, "liked", liked.items, liked.accounts, liked.rejected)
    if contents.history is not None:
        import_history(db, path, person)
    return None


# -- the base export --------------------------------------------------------------------------


def _song(i: int) -> dict:
    return {"trackName": f"Song {i}", "artistName": f"Band {i % 4}", "albumName": "LP",
            "trackUri": f"spotify:track:{i:022d}"}  # fmt: skip


def _base() -> dict[str, object]:
    """File name → content (a JSON document) of a small, clean export."""
    songs = [_song(i) for i in range(12)]
    playlists = {"playlists": [
        {"name": "Road", "description": "for the car", "items": [{"track": s} for s in songs[:6]]},
        {"name": "Night", "description": None, "items": [{"track": s} for s in songs[6:]]},
    ]}  # fmt: skip
    liked = {"tracks": [{"artist": s["artistName"], "album": "LP", "track": s["trackName"],
                         "uri": s["trackUri"]} for s in songs[::3]],
             "artists": [], "albums": []}  # fmt: skip
    basic = [{"endTime": f"2024-05-{1 + i:02d} 10:{i:02d}", "artistName": s["artistName"],
              "trackName": s["trackName"], "msPlayed": 150_000} for i, s in enumerate(songs)]  # fmt: skip
    extended = [{"ts": f"2024-06-{1 + i:02d}T09:00:00Z", "ms_played": 200_000,
                 "master_metadata_track_name": s["trackName"],
                 "master_metadata_album_artist_name": s["artistName"],
                 "master_metadata_album_album_name": "LP", "spotify_track_uri": s["trackUri"],
                 "conn_country": "SE", "platform": "Android", **SECRETS}
                for i, s in enumerate(songs[:8])]  # fmt: skip
    return {"Playlist1.json": playlists, "YourLibrary.json": liked,
            "StreamingHistory0.json": basic, "Streaming_History_Audio_2024.json": extended}  # fmt: skip


BASE_PLAYS, BASE_MEMBERS, BASE_LIKED = 12 + 8, 12, 4


@dataclass(frozen=True)
class Expect:
    refused: bool = False
    plays: int = BASE_PLAYS
    members: int = BASE_MEMBERS
    liked: int = BASE_LIKED
    quarantined: int = 0
    names: tuple[str, ...] = ()  # a refusal names one of these


def _write(folder: Path, files: dict[str, object], raw: dict[str, bytes] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in files.items():
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
    for name, data in (raw or {}).items():
        (folder / name).write_bytes(data)
    return folder


def _zip(path: Path, files: dict[str, object], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, doc in files.items():
            archive.writestr(f"Spotify Account Data/{name}", json.dumps(doc))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


Build = Callable[[Path], tuple[Path, Expect]]


def _changed(change: Callable[[dict], None], expect: Expect) -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        files = _base()
        change(files)
        return _write(workdir / "export", files), expect

    return build


def _link_out(name: str, target: Callable[[Path], Path]) -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        files = _base()
        files.pop(name)
        folder = _write(workdir / "export", files)
        (folder / name).symlink_to(target(workdir))
        return folder, Expect(refused=True, names=(name,))

    return build


def _outside_library(workdir: Path) -> Path:
    outside = workdir / "elsewhere.json"
    outside.write_text(json.dumps(_base()["YourLibrary.json"]))
    return outside


def _zip_with(extra: dict[str, bytes], expect: Expect) -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        return _zip(workdir / "my_spotify_data.zip", _base(), extra), expect

    return build


def _raw(name: str, make: Callable[[bytes], bytes], expect: Expect) -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        files = _base()
        data = make(json.dumps(files.pop(name)).encode())
        return _write(workdir / "export", files, {name: data}), expect

    return build


def _deep(depth: int) -> bytes:
    return b'{"playlists": ' + b"[" * depth + b"]" * depth + b"}"


def _history(change: Callable[[list], None]) -> Callable[[dict], None]:
    return lambda files: change(files["StreamingHistory0.json"])


def _add_plays(rows: list[dict]) -> Callable[[dict], None]:
    return _history(lambda plays: plays.extend(rows))


def _versions(plays: list) -> None:
    plays += [
        {"endTime": "2024-05-30 20:00", "artistName": "Taylor Swift",
         "trackName": "Anti-Hero - ILLENIUM Remix", "msPlayed": 0},
        {"endTime": "2024-05-30 20:00", "artistName": "Taylor Swift",
         "trackName": "Anti-Hero - Acoustic Version", "msPlayed": 0},
    ]  # fmt: skip


SYMBOL_PLAYS = [
    {"endTime": "2024-05-29 10:00", "artistName": "¥$", "trackName": "CARNIVAL",
     "msPlayed": 200_000},
    {"endTime": "2024-05-29 10:05", "artistName": ".........", "trackName": "Intro",
     "msPlayed": 200_000},
    {"endTime": "2024-05-29 10:09", "artistName": "The Japanese House", "trackName": ":)",
     "msPlayed": 200_000},
]  # fmt: skip


def _playlist(change: Callable[[list], None]) -> Callable[[dict], None]:
    return lambda files: change(files["Playlist1.json"]["playlists"])


def import_cases() -> list[ExportCase]:
    """The matrix: one case per way an export can be hostile."""
    out = [
        ExportCase("clean export folder", _changed(lambda f: None, Expect())),
        ExportCase("clean export zip", _zip_with({}, Expect())),
        ExportCase("Playlist1.json linked to /etc/passwd",
                   _link_out("Playlist1.json", lambda w: Path("/etc/passwd"))),
        ExportCase("YourLibrary.json linked to a valid file elsewhere",
                   _link_out("YourLibrary.json", _outside_library)),
        ExportCase("zip member ../escape.json",
                   _zip_with({"../escape.json": b"{}"}, Expect(refused=True, names=("../",)))),
        ExportCase("zip member that is a symbolic link", _symlink_member()),
        ExportCase("truncated YourLibrary.json",
                   _raw("YourLibrary.json", lambda d: d[: len(d) // 2],
                        Expect(refused=True, names=("YourLibrary.json",)))),
        ExportCase("BOM-prefixed YourLibrary.json",
                   _raw("YourLibrary.json", lambda d: b"\xef\xbb\xbf" + d, Expect())),
        ExportCase("playlist file over the size cap",
                   _raw("Playlist1.json", lambda d: d[:-1] + b" " * 4096 + b"}",
                        Expect(refused=True, names=("Playlist1.json",))), cap=4096),
        ExportCase("10,000-deep nesting in Playlist1.json",
                   _raw("Playlist1.json", lambda d: _deep(10_000),
                        Expect(refused=True, names=("Playlist1.json",)))),
        ExportCase("1 MB playlist name",
                   _changed(_playlist(lambda p: p[1].update(name="x" * 2**20)),
                            Expect(members=6, quarantined=6))),
        ExportCase("control characters in a description",
                   _changed(_playlist(lambda p: p[0].update(description="a\x00b\x1bc")),
                            Expect())),
        ExportCase("null entry in a history list",
                   _changed(_history(lambda plays: plays.insert(3, None)),
                            Expect(quarantined=1))),
        ExportCase("null item in a playlist",
                   _changed(_playlist(lambda p: p[0]["items"].insert(1, None)),
                            Expect(quarantined=1))),
        ExportCase("symbol-only artist and titles",
                   _changed(_add_plays(SYMBOL_PLAYS), Expect(plays=BASE_PLAYS + 3))),
        ExportCase("two versions played in the same minute",
                   _changed(_history(_versions), Expect(plays=BASE_PLAYS + 2))),
        ExportCase("audiobook rows", _audiobooks()),
        ExportCase("an exact duplicate row",
                   _changed(_history(lambda plays: plays.append(dict(plays[0]))), Expect())),
        ExportCase("history CSV saved as Windows-1252", _cp1252_csv()),
    ]
    return out


def _symlink_member() -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        path = _zip(workdir / "my_spotify_data.zip", _base())
        with zipfile.ZipFile(path, "a") as archive:
            info = zipfile.ZipInfo("Spotify Account Data/StreamingHistory1.json")
            info.external_attr = (0o120777 << 16)  # a symbolic link
            archive.writestr(info, "/etc/passwd")
        return path, Expect(refused=True, names=("symbolic link",))

    return build


def _audiobooks() -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        files = _base()
        files["StreamingHistory_audiobook_0.json"] = [
            {"endTime": f"2024-05-2{i} 21:00", "audiobookName": "A Long Book",
             "chapterName": f"Chapter {i}", "authorName": "An Author", "msPlayed": 600_000}
            for i in range(3)
        ]  # fmt: skip
        return _write(workdir / "export", files), Expect()

    return build


def _cp1252_csv() -> Build:
    def build(workdir: Path) -> tuple[Path, Expect]:
        files = _base()
        rows = files.pop("Streaming_History_Audio_2024.json")
        header = ["ts", "ms_played", "master_metadata_track_name",
                  "master_metadata_album_artist_name", "spotify_track_uri"]  # fmt: skip
        lines = [",".join(header)] + [
            ",".join([r["ts"], str(r["ms_played"]), r["master_metadata_track_name"] + " é",
                      r["master_metadata_album_artist_name"], r["spotify_track_uri"]])
            for r in rows
        ]  # fmt: skip
        raw = {"Streaming_History_Audio_2024.csv": ("\r\n".join(lines) + "\r\n").encode("cp1252")}
        return _write(workdir / "export", files, raw), Expect()

    return build


# -- running and judging ----------------------------------------------------------------------


@contextlib.contextmanager
def _cap(cap: int | None) -> Iterator[None]:
    saved = export_files.MAX_FILE_BYTES
    if cap is not None:
        export_files.MAX_FILE_BYTES = cap
    try:
        yield
    finally:
        export_files.MAX_FILE_BYTES = saved


@dataclass
class _Counts:
    plays: int
    members: int
    liked: int
    quarantined: int
    people: int
    unbalanced: int
    leaked: int
    accounted: int = 0  # rows of import_files

    def personal(self) -> int:
        return self.plays + self.members + self.liked + self.quarantined + self.people


def _counts(db: Database, person: str) -> _Counts:
    with db.connect() as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM plays WHERE person = %(p)s),
                      (SELECT count(*) FROM playlist_tracks m JOIN playlists p
                       USING (playlist_id) WHERE p.person = %(p)s),
                      (SELECT count(*) FROM candidates WHERE person = %(p)s),
                      (SELECT count(*) FROM quarantine WHERE person = %(p)s),
                      (SELECT count(*) FROM people WHERE person = %(p)s),
                      (SELECT count(*) FROM import_files WHERE person = %(p)s
                       AND rows <> stored + excluded_total + quarantined + duplicates),
                      (SELECT count(*) FROM import_files WHERE person = %(p)s)""",
            {"p": person},
        ).fetchone()
        leaked = sum(_found(conn, secret) for secret in SECRETS.values())
    return _Counts(*row[:6], leaked=leaked, accounted=row[6])


@dataclass(frozen=True)
class ExportCase:
    name: str
    build: Build
    cap: int | None = None  # the file size cap for this case
    section: str = "import"
    importer: Importer = field(default=library_import, compare=False)

    def run(self, db: Database, workdir: Path) -> Outcome:
        workdir.mkdir(parents=True, exist_ok=True)
        path, expect = self.build(workdir)
        result = Outcome(self.section, self.name)
        started = time.perf_counter()
        errors = []
        for _ in range(2):  # the rerun must add nothing
            try:
                with _cap(self.cap):
                    errors.append(self.importer(db, path, PERSON))
            except Exception as exc:  # the point of the exercise: none should get here
                result.crash, result.outcome = f"{type(exc).__name__}: {str(exc)[:300]}", "crash"
                return result
            if len(errors) == 1:
                first = _counts(db, PERSON)
        again = _counts(db, PERSON)
        result.seconds = time.perf_counter() - started
        _judge(result, expect, errors, first, again, path)
        return result


def _judge(result: Outcome, expect: Expect, errors: list, first: _Counts, again: _Counts,
           path: Path) -> None:  # fmt: skip
    result.stored, result.quarantined, result.leaked = first.plays, first.quarantined, first.leaked
    if errors[0] is not None:
        result.outcome, result.message = "clear error", errors[0]
        names = expect.names or (path.name,)
        if not any(name in errors[0] for name in names):
            result.problems.append(f"the error does not name the file ({names[0]})")
        if not expect.refused:
            result.problems.append("refused an export that should import")
            result.lost = expect.plays + expect.members + expect.liked
        if first.personal():
            result.problems.append(f"refused, yet wrote {first.personal()} personal rows")
        return
    result.outcome = f"quarantined {first.quarantined}" if first.quarantined else "imported"
    if expect.refused:
        result.problems.append("imported an export that should be refused")
        return
    got = (first.plays, first.members, first.liked)
    want = (expect.plays, expect.members, expect.liked)
    result.lost = sum(max(w - g, 0) for g, w in zip(got, want, strict=True))
    result.unexpected = sum(max(g - w, 0) for g, w in zip(got, want, strict=True))
    if first.quarantined != expect.quarantined:
        result.problems.append(f"quarantined {first.quarantined}, expected {expect.quarantined}")
    if first.unbalanced or not first.accounted:
        result.problems.append(f"{first.unbalanced} file accounts do not add up")
    if errors[1] is not None:
        result.problems.append(f"the rerun failed: {errors[1]}")
    result.rerun_added = again.personal() - first.personal()


def cli_importer(env: dict[str, str]) -> Importer:
    """`spotify-assets import PATH --person P` in a subprocess, on the case's database."""
    import subprocess
    import sys

    def run(db: Database, path: Path, person: str) -> str | None:
        done = subprocess.run(
            [sys.executable, "-m", "spotify_assets.cli", "import", str(path), "--person", person],
            env={**os.environ, **env, "DATABASE_URL": db.url}, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return None
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        if not errors:
            raise RuntimeError(f"import exited {done.returncode}: {done.stderr[-400:]}")
        return errors[0]

    return run


def _other_export(workdir: Path) -> Path:
    """A second person's export sharing songs with the base: two of its playlist songs, one
    liked song, and plays of base songs known by name only (a basic history)."""
    files = _base()
    songs = [_song(i) for i in (0, 1, 20, 21)]
    files["Playlist1.json"] = {"playlists": [{"name": "Mine", "items": [{"track": s}
                                                                       for s in songs]}]}  # fmt: skip
    files["YourLibrary.json"] = {"tracks": [{"artist": "Band 0", "album": "LP",
                                             "track": "Song 0", "uri": _song(0)["trackUri"]}]}  # fmt: skip
    files.pop("Streaming_History_Audio_2024.json")
    return _write(workdir / "other_export", files)


@dataclass(frozen=True)
class ForgetCase:
    """Two people who share songs, imported with `importer`; one is forgotten with `forgetter`
    (None: the library's `forget`): the other's rows must be exactly as before and every one of
    their songs still have its track."""

    name: str = "forget one of two people who share songs"
    section: str = "import"
    importer: Importer = field(default=library_import, compare=False)
    forgetter: Callable[[Database, str], None] | None = field(default=None, compare=False)

    def run(self, db: Database, workdir: Path) -> Outcome:
        from spotify_assets.lib.store.personal import forget

        result = Outcome(self.section, self.name)
        workdir.mkdir(parents=True, exist_ok=True)
        base, _ = _changed(lambda f: None, Expect())(workdir)
        started = time.perf_counter()
        try:
            for person, path in ((PERSON, base), ("other", _other_export(workdir))):
                if error := self.importer(db, path, person):
                    result.problems.append(f"{person}'s import failed: {error}")
                    return result
            before = _person_rows(db, "other")
            if self.forgetter is None:
                with db.connect() as conn:
                    forget(conn, PERSON)
            else:
                self.forgetter(db, PERSON)
        except Exception as exc:
            result.crash, result.outcome = f"{type(exc).__name__}: {str(exc)[:300]}", "crash"
            return result
        after = _person_rows(db, "other")
        result.seconds = time.perf_counter() - started
        result.outcome = "forgotten"
        result.stored = len(after["plays"])
        result.lost = sum(len(set(before[t]) - set(after[t])) for t in before)
        result.unexpected = sum(len(set(after[t]) - set(before[t])) for t in before)
        missing = _counts(db, PERSON).personal()
        if missing:
            result.problems.append(f"{missing} rows of the forgotten person remain")
        with db.connect() as conn:
            result.leaked = sum(_found(conn, secret) for secret in SECRETS.values())
        return result


def _person_rows(db: Database, person: str) -> dict[str, list]:
    """The person's rows and the track rows of everything they have, as text."""
    queries = {
        "plays": "SELECT p::text FROM plays p WHERE person = %(p)s",
        "members": """SELECT m::text FROM playlist_tracks m JOIN playlists p USING (playlist_id)
                      WHERE p.person = %(p)s""",
        "liked": "SELECT c::text FROM candidates c WHERE person = %(p)s",
        "tracks": """SELECT t::text FROM tracks t WHERE track_id IN (
                         SELECT j.catalog_track_id FROM play_joins j JOIN plays p
                         USING (play_key) WHERE p.person = %(p)s
                         UNION SELECT m.track_id FROM playlist_tracks m JOIN playlists p
                         USING (playlist_id) WHERE p.person = %(p)s
                         UNION SELECT track_id FROM candidates WHERE person = %(p)s)""",
    }
    with db.connect() as conn:
        return {name: sorted(r[0] for r in conn.execute(q, {"p": person})) for name, q in
                queries.items()}  # fmt: skip


def cli_forgetter(env: dict[str, str]) -> Callable[[Database, str], None]:
    """`spotify-assets forget --person P --yes` in a subprocess."""
    import subprocess
    import sys

    def run(db: Database, person: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "spotify_assets.cli", "forget", "--person", person, "--yes"],
            env={**os.environ, **env, "DATABASE_URL": db.url}, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        if done.returncode:
            raise RuntimeError(f"forget exited {done.returncode}: {done.stderr[-400:]}")

    return run
