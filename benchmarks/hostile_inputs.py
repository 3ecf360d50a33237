"""Hostile inputs: every case of the import matrix against a fresh database, as one table.

The matrix is `spotify_assets_tests/hostile/corpus.py` (the one the tests assert on):
corrupted variants of the real files in ../shared/data (or small synthetic ones), each
imported twice through `import_history` / `load_catalog` into its own new database. For each
case the table says the outcome (clear error, quarantined N, imported), whether it crashed
(any exception other than an ExportError / CatalogError naming the file), rows lost, duplicated
or unexpected against the corpus's own clean parse, planted secrets (an `ip_addr` value, ...)
found anywhere in the database, and what a rerun added; then a totals row. Targets: 0 crashes,
0 lost, 0 duplicated, 0 leaked.

Whole exports: the import matrix of `spotify_assets_tests/hostile/import_cases.py` (links out of
the folder, zip traversal, truncated or BOM-prefixed YourLibrary.json, deep nesting, 1 MB
playlist names, null entries, symbol-only names, same-minute versions, audiobooks, duplicates,
a Windows-1252 CSV, ...) through the `spotify-assets import` command itself, in a subprocess on
the case's database, and forgetting one of two people who share songs through `forget`.

Memory section: a zip whose history member is 100 MB of zeros (refused at its first chunk), one
whose member is 100 MB of valid JSON (read whole, under the 256 MB cap) and one whose
Playlist1.json is 300 MB (refused at the cap while streaming), each read under tracemalloc,
next to the peak of reading the same member whole with `ZipFile.read`, as the importer did
before.

Sections are lists of case objects with `section`, `name` and `run(db, workdir) -> Outcome`;
another one (search inputs, say) is one more list in `sections()`.

    .venv/bin/python benchmarks/hostile_inputs.py [--base auto|real|synthetic] [--only TEXT]
        [--member-mb 100] [--no-memory] [--no-cli]

Uses DATABASE_URL when set, else the embedded server (`resolve_database_url()`); each case
gets a database of its own (created from a migrated template, dropped afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql

from spotify_assets.lib.export import read_export
from spotify_assets.lib.export.files import ExportError
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.server import with_database
from spotify_assets_tests.hostile.corpus import (
    MB,
    Outcome,
    catalog_cases,
    history_cases,
    real_base,
    synthetic_base,
)
from spotify_assets_tests.hostile.import_cases import (
    ForgetCase,
    cli_forgetter,
    cli_importer,
    import_cases,
    library_import,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TEMPLATE = "hostile_bench_template"


class ImportCase(Protocol):
    section: str
    name: str

    def run(self, db: Database, workdir: Path) -> Outcome: ...


@dataclass(frozen=True)
class MemoryCase:
    """A zip holding one history member of `size` bytes made by `chunk`, imported under
    tracemalloc; the outcome carries the traced peak (MB)."""

    name: str
    size: int
    chunk: Callable[[int, int], bytes]  # (offset, length) -> bytes of the member
    refused: bool
    section: str = "memory"
    member: str = "Streaming_History_Audio_2024.json"

    def build(self, workdir: Path) -> Path:
        path = workdir / "big_export.zip"
        with (
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open(self.member, "w", force_zip64=True) as member,
        ):
            for offset in range(0, self.size, MB):
                member.write(self.chunk(offset, min(MB, self.size - offset)))
        return path

    def run(self, db: Database, workdir: Path) -> Outcome:
        workdir.mkdir(parents=True, exist_ok=True)
        path = self.build(workdir)
        result = Outcome(self.section, self.name)
        started = time.perf_counter()
        tracemalloc.start()
        try:
            if self.member.startswith("Playlist"):
                read_export(path)  # what `import` reads first, before anything is written
            else:
                import_history(db, path, "hostile")
            result.outcome = "imported"
        except ExportError as exc:
            result.outcome, result.message = "clear error", str(exc)
            if path.name not in result.message:
                result.problems.append("the error does not name the file")
        except Exception as exc:
            result.outcome, result.crash = "crash", f"{type(exc).__name__}: {exc}"[:300]
        finally:
            result.peak_mb = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        result.seconds = time.perf_counter() - started
        if self.refused != (result.outcome == "clear error"):
            result.problems.append(f"expected {'a refusal' if self.refused else 'an import'}")
        return result

    def whole_read_peak(self, workdir: Path) -> float:
        """MB traced while reading the member the way the importer used to: whole, then
        decoded, then parsed (all in memory at once)."""
        path = workdir / "big_export.zip"
        tracemalloc.start()
        try:
            with zipfile.ZipFile(path) as archive:
                data = archive.read(self.member)
            text = data.decode("utf-8-sig")
            with contextlib.suppress(ValueError):
                json.loads(text)
            del data, text
            return tracemalloc.get_traced_memory()[1] / MB
        finally:
            tracemalloc.stop()

    def fresh_process_rss(self, workdir: Path) -> str:
        """Peak RSS (VmHWM) of a new interpreter that reads the zip with `read_export` (every
        part `import` reads first), and its RSS once the modules are imported. (ru_maxrss would
        carry this process's peak over the fork.)"""
        code = (
            "import re, sys\n"
            "from spotify_assets.lib.export import read_export\n"
            "def hwm():\n"
            "    return re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]\n"
            "base = hwm()\n"
            "try:\n    read_export(sys.argv[1])\nexcept Exception:\n    pass\n"
            "print(base, hwm())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(workdir / "big_export.zip")],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            base, peak = (int(v) / 1024 for v in done.stdout.split())
        except ValueError:
            return "peak RSS of a fresh process: not measured (no /proc here?)"
        return (
            f"peak RSS of a fresh process {peak:,.0f} MB ({base:,.0f} MB once imports are loaded)"
        )


def _zeros(offset: int, length: int) -> bytes:
    return bytes(length)


def _playlist_doc(size: int) -> Callable[[int, int], bytes]:
    """A valid playlist document of `size` bytes: '{"playlists": []' , spaces, '}'."""
    head = b'{"playlists": []'

    def chunk(offset: int, length: int) -> bytes:
        data = bytearray(b" " * length)
        if offset == 0:
            data[0 : len(head)] = head
        if offset + length == size:
            data[-1:] = b"}"
        return bytes(data)

    return chunk


def _json_list(size: int) -> Callable[[int, int], bytes]:
    """A valid (empty) JSON list of `size` bytes: "[", spaces, "]"."""

    def chunk(offset: int, length: int) -> bytes:
        data = bytearray(b" " * length)
        if offset == 0:
            data[0:1] = b"["
        if offset + length == size:
            data[-1:] = b"]"
        return bytes(data)

    return chunk


class _SearchWorld:
    """120 generated tracks, described and embedded with the default bundle, in a database of
    their own, built on first use and shared by every search case."""

    name = "hostile_bench_search"

    def __init__(self, url: str) -> None:
        self.url, self._ready = url, None

    def get(self):
        if self._ready is None:
            from spotify_assets.lib.models.embedder import load_embedder
            from spotify_assets_tests.hostile.test_search_inputs import BUNDLE, _load

            db = _fresh(self.url, self.name)
            embedder = load_embedder(BUNDLE.embedding, "cpu", "fp32")
            _load(db, Path(tempfile.mkdtemp(prefix="hostile-search-")), embedder)
            self._ready = (db, embedder, BUNDLE)
        return self._ready


@dataclass
class SearchCase:
    """One `search QUERY --where W --limit N` input from the search matrix."""

    case: object  # spotify_assets_tests.hostile.search_cases.HostileCase
    world: _SearchWorld
    section: str = "search"

    @property
    def name(self) -> str:
        return f"search: {self.case.name}"

    def run(self, db: Database, workdir: Path) -> Outcome:
        import re

        from spotify_assets.lib.search.inputs import SearchInputError
        from spotify_assets.lib.search.service import search

        world, embedder, bundle = self.world.get()
        case, outcome = self.case, Outcome(self.section, self.name)
        with world.connect() as conn:
            before = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
        try:
            result = search(world, bundle, embedder, case.query, limit=case.limit, where=case.where)
        except SearchInputError as exc:
            outcome.outcome, outcome.message = "clear error", str(exc)
            if case.expect != "error" or not re.search(case.message, str(exc)):
                outcome.problems.append(f"expected {case.expect}, got error: {exc}")
        except Exception as exc:  # anything else is a crash
            outcome.crash = f"{type(exc).__name__}: {exc}"[:200]
        else:
            outcome.outcome = f"{len(result.hits)} hits" if result.hits else "empty, says why"
            got = "hits" if result.hits else "empty"
            if got != case.expect or (got == "empty" and not result.why_empty):
                outcome.problems.append(f"expected {case.expect}, got {got}")
        with world.connect() as conn:
            outcome.lost = before - conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
        return outcome


def export_sections(cli: bool, home: Path) -> list[tuple[str, list[ImportCase]]]:
    """Whole exports through `spotify-assets import` (a subprocess on the case's database), or
    through what it runs without Dagster (`--no-cli`, seconds instead of minutes)."""
    env = {"SPOTIFY_ASSETS_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "DAGSTER_DISABLE_TELEMETRY": "1", "RECCOBEATS_API_BASE": "off"}  # fmt: skip
    importer = cli_importer(env) if cli else library_import
    how = "`spotify-assets import`" if cli else "the import's library path (--no-cli)"
    cases = [
        dataclasses.replace(c, importer=importer)
        for c in import_cases()
        if not (cli and c.cap)  # a size cap cannot be lowered in another process: see memory
    ]
    forgetter = cli_forgetter(env) if cli else None
    cases.append(ForgetCase(importer=importer, forgetter=forgetter))
    return [(f"whole exports through {how}", cases)]


def sections(
    base_kind: str, member_mb: int, memory: bool, url: str = ""
) -> list[tuple[str, list[ImportCase]]]:
    if base_kind == "real" or (base_kind == "auto" and SHARED_DATA.is_dir()):
        base = real_base(SHARED_DATA)
    else:
        base = synthetic_base()
    out: list[tuple[str, list[ImportCase]]] = [
        (f"history imports ({base.origin} base)", list(history_cases(base))),
        (f"catalog imports ({base.origin} base)", list(catalog_cases(base))),
    ]
    if url:
        from spotify_assets_tests.hostile.search_cases import HOSTILE_CASES

        world = _SearchWorld(url)
        out.append(("search inputs", [SearchCase(c, world) for c in HOSTILE_CASES]))
    if memory:
        size = member_mb * MB
        out.append(
            (
                "memory",
                [
                    MemoryCase(f"zip member of {member_mb} MB zeros", size, _zeros, refused=True),
                    MemoryCase(
                        f"zip member of {member_mb} MB valid JSON",
                        size,
                        _json_list(size),
                        refused=False,
                    ),
                    MemoryCase(
                        "Playlist1.json member of 300 MB (over the 256 MB cap)",
                        300 * MB,
                        _playlist_doc(300 * MB),
                        refused=True,
                        member="Playlist1.json",
                    ),
                ],
            )
        )
    return out


# -- databases ------------------------------------------------------------------------------


def _admin(url: str) -> str:
    return with_database(url, "postgres")


def _make_template(url: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    Database(with_database(url, TEMPLATE)).migrate()


def _fresh(url: str, name: str) -> Database:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)
            )
        )
    return Database(with_database(url, name))


def _drop(url: str, *names: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# -- the table ------------------------------------------------------------------------------

COLUMNS = ("case", "outcome", "crash", "lost", "dup", "unexp", "leaked", "rerun+", "ok")


def _row(o: Outcome) -> tuple[str, ...]:
    return (
        o.case,
        o.outcome,
        "CRASH" if o.crash else "",
        str(o.lost),
        str(o.duplicated),
        str(o.unexpected),
        str(o.leaked),
        str(o.rerun_added),
        "ok" if o.ok else "FAIL",
    )


def _print_table(title: str, rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n## {title}\n")
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", choices=("auto", "real", "synthetic"), default="auto")
    parser.add_argument("--only", default="", help="run the cases whose name holds this text")
    parser.add_argument("--member-mb", type=int, default=100)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--no-cli", action="store_true",
        help="whole exports through the import's library path instead of the command",
    )  # fmt: skip
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or resolve_database_url()
    _make_template(url)
    everything: list[Outcome] = []
    memory_notes: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hostile-bench-") as tmp:
        everything_sections = sections(args.base, args.member_mb, not args.no_memory, url)
        everything_sections += export_sections(not args.no_cli, Path(tmp) / "home")
        for title, cases in everything_sections:
            chosen = [c for c in cases if args.only.lower() in c.name.lower()]
            outcomes = []
            for index, case in enumerate(chosen):
                name = f"hostile_bench_{os.getpid()}_{index}"
                workdir = Path(tmp) / f"{case.section}_{index}"
                try:
                    outcome = case.run(_fresh(url, name), workdir)
                finally:
                    _drop(url, name)
                if isinstance(case, MemoryCase):
                    before = case.whole_read_peak(workdir)
                    memory_notes.append(
                        f"{case.name}: peak {outcome.peak_mb:,.1f} MB traced during the import "
                        f"({outcome.outcome}); {case.fresh_process_rss(workdir)}; reading it whole "
                        f"as the old importer did (read + decode + parse): {before:,.1f} MB traced"
                    )
                outcomes.append(outcome)
                print(".", end="", file=sys.stderr, flush=True)
            if outcomes:
                _print_table(title, [_row(o) for o in outcomes])
            everything += outcomes
    _drop(url, TEMPLATE, _SearchWorld.name)
    print(file=sys.stderr)

    failed = [o for o in everything if not o.ok]
    outcomes_seen = {}
    for o in everything:
        kind = "quarantined" if o.outcome.startswith("quarantined") else o.outcome
        outcomes_seen[kind] = outcomes_seen.get(kind, 0) + 1
    totals = (
        f"{len(everything)} cases",
        ", ".join(f"{k} {v}" for k, v in sorted(outcomes_seen.items())),
        str(sum(bool(o.crash) for o in everything)),
        str(sum(o.lost for o in everything)),
        str(sum(o.duplicated for o in everything)),
        str(sum(o.unexpected for o in everything)),
        str(sum(o.leaked for o in everything)),
        str(sum(o.rerun_added for o in everything)),
        f"{len(everything) - len(failed)} ok",
    )
    _print_table("totals", [totals])
    if memory_notes:
        print("\n## peak memory\n")
        for note in memory_notes:
            print(f"- {note}")
    for o in failed:
        print(f"\nFAILED {o.section} / {o.case}: {o.crash or ''} {o.problems} {o.message[:300]}")
    print(f"\n{len(everything)} cases in {time.perf_counter() - started:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
