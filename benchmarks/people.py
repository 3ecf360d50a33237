"""Several real people in one home, through the commands a household would run.

A catalog (TidyTuesday by default; the first import embeds it), then `spotify-assets import`
of each whole export and
`listening import` of each history folder in ../shared/data, into one fresh home (embedded
Postgres); per person: import time, every file's row account, coverage (with a track row, a
vector, audio features). Then `forget` of one person and every other person's coverage and row
checksums again: they must not move.

    .venv/bin/python benchmarks/people.py [--catalog PATH|none] [--forget h] [--home DIR]

Slow: the catalog and every library song are embedded on the CPU (tens of minutes).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXPORTS = {p: SHARED / f"exports/listener_{p}_full_export" for p in "efgh"}
HISTORIES = {p: SHARED / f"histories/listener_{p}_{k}_export" for p, k in (("b", "basic"),
                                                                         ("d", "extended"))}  # fmt: skip


def cli(env: dict, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "spotify_assets.cli", *args], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return time.perf_counter() - started, done


def snapshot(env: dict, people: list[str]) -> dict[str, tuple]:
    """Per person: (coverage lines, a checksum of their rows and of their songs' rows)."""
    code = f"""
import hashlib, json, sys
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog.coverage import library_coverage
from spotify_assets.lib.store import Database, resolve_database_url
db = Database(resolve_database_url())
bundle = load_bundles().default_bundle
out = {{}}
for person in {people!r}:
    rows = [r.line() for r in library_coverage(db, person, bundle.hash)]
    with db.connect() as conn:
        text = conn.execute('''SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
            SELECT p::text AS x FROM plays p WHERE person = %(p)s
            UNION ALL SELECT m::text FROM playlist_tracks m JOIN playlists l USING (playlist_id)
                WHERE l.person = %(p)s
            UNION ALL SELECT c::text FROM candidates c WHERE person = %(p)s
            UNION ALL SELECT t::text FROM tracks t WHERE track_id IN (
                SELECT j.catalog_track_id FROM play_joins j JOIN plays p USING (play_key)
                WHERE p.person = %(p)s
                UNION SELECT m.track_id FROM playlist_tracks m JOIN playlists l
                USING (playlist_id) WHERE l.person = %(p)s
                UNION SELECT track_id FROM candidates WHERE person = %(p)s)) s''',
            {{"p": person}}).fetchone()[0]
    out[person] = [rows, text]
print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    import json

    return {k: (tuple(v[0]), v[1]) for k, v in json.loads(done.stdout).items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(SHARED / "tidytuesday/spotify_songs.parquet"))
    parser.add_argument("--forget", default="h")
    parser.add_argument("--home", help="keep the home here (default: a temporary folder)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: nothing to measure", file=sys.stderr)
        return 2
    home = Path(args.home or tempfile.mkdtemp(prefix="people-bench-"))
    env = {**os.environ, "SPOTIFY_ASSETS_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "DAGSTER_DISABLE_TELEMETRY": "1",
           "RECCOBEATS_API_BASE": "off"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"home {home}")  # fmt: skip
    if args.catalog != "none":
        seconds, done = cli(env, "catalog", args.catalog)
        print(f"catalog {Path(args.catalog).name}: {seconds:.0f} s, rc {done.returncode}")
    people = [*EXPORTS, *HISTORIES]
    for person, path in EXPORTS.items():
        seconds, done = cli(env, "import", str(path), "--person", person)
        print(f"\nimport {path.name} --person {person}: {seconds:.0f} s, rc {done.returncode}")
        lines = [ln for ln in done.stdout.splitlines() if " rows = " in ln or "with a track" in ln]
        print("\n".join(lines) or done.stderr[-1500:])
    for person, path in HISTORIES.items():
        seconds, done = cli(env, "listening", "import", str(path), "--person", person)
        print(f"\nlistening import {path.name} --person {person}: {seconds:.0f} s, "
              f"rc {done.returncode}")  # fmt: skip
        print("\n".join(ln for ln in done.stdout.splitlines() if " rows = " in ln))
        cli(env, "import", str(path), "--person", person)  # embed their songs too
    before = snapshot(env, people)
    seconds, done = cli(env, "forget", "--person", args.forget, "--yes")
    print(f"\nforget --person {args.forget}: {seconds:.0f} s\n{done.stdout}{done.stderr[-800:]}")
    after = snapshot(env, [p for p in people if p != args.forget])
    for person in after:
        same = "unchanged" if after[person] == before[person] else "CHANGED"
        print(f"{person}: rows and songs {same}")
        for line in after[person][0]:
            print(f"  {line}")
    return 0 if all(after[p] == before[p] for p in after) else 1


if __name__ == "__main__":
    raise SystemExit(main())
