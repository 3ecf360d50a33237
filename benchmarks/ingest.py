"""Catalog ingest speed: the project's loader vs pandas.DataFrame.to_sql, same run, same server.

Generates a 600,000-row catalog in the Kaggle 600K `tracks.csv` layout, then
1. loads it with `load_catalog` (parse + validate + hash + COPY/merge, one transaction),
2. writes the same parsed rows with `DataFrame.to_sql` (SQLAlchemy + psycopg, pandas defaults)
   into another database on the same server,
and prints rows/s for both and their ratio. Uses DATABASE_URL when set, else a throwaway
embedded server.

    .venv/bin/python benchmarks/ingest.py [--rows 600000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.store import Database
from spotify_assets.lib.store.server import embedded_server, ensure_database, with_database

WORDS = [
    "midnight",
    "golden",
    "electric",
    "silent",
    "broken",
    "velvet",
    "neon",
    "wild",
    "river",
    "dream",
    "fire",
    "rain",
    "echo",
]


def generate_600k_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    ids = ["".join(r) for r in alphabet[rng.integers(0, 62, size=(rows, 22))]]
    words = np.array(WORDS)
    names = np.char.add(
        np.char.add(words[rng.integers(0, len(WORDS), rows)], " "),
        words[rng.integers(0, len(WORDS), rows)],
    )
    artist_pool = [f"Artist {i}" for i in range(20000)]
    first = rng.integers(0, len(artist_pool), rows)
    duo = rng.random(rows) < 0.15
    second = rng.integers(0, len(artist_pool), rows)
    artists = [
        f"['{artist_pool[a]}', '{artist_pool[b]}']" if d else f"['{artist_pool[a]}']"
        for a, b, d in zip(first, second, duo, strict=True)
    ]
    years = rng.integers(1921, 2021, rows)
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": names,
            "popularity": rng.integers(0, 100, rows),
            "duration_ms": rng.integers(60000, 400000, rows),
            "explicit": rng.integers(0, 2, rows),
            "artists": artists,
            "id_artists": "['0LyfQWJT6nXafLPZqxe9Of']",
            "release_date": [f"{y}-01-01" for y in years],
            "danceability": rng.random(rows).round(3),
            "energy": rng.random(rows).round(3),
            "key": rng.integers(0, 12, rows),
            "loudness": (-rng.random(rows) * 30).round(3),
            "mode": rng.integers(0, 2, rows),
            "speechiness": rng.random(rows).round(4),
            "acousticness": rng.random(rows).round(4),
            "instrumentalness": rng.random(rows).round(4),
            "liveness": rng.random(rows).round(4),
            "valence": rng.random(rows).round(4),
            "tempo": (60 + rng.random(rows) * 140).round(3),
            "time_signature": 4,
        }
    )
    frame.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        tmp_path = Path(tmp)
        csv_path = tmp_path / "tracks.csv"
        t0 = time.perf_counter()
        generate_600k_csv(csv_path, args.rows)
        print(
            f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.1f}s"
        )

        import os

        base = os.environ.get("DATABASE_URL")
        server = None
        if not base:
            server = embedded_server(tmp_path / "pgdata", cleanup_mode="delete")
            base = server.get_uri()
        for name in ("bench_loader", "bench_to_sql"):
            with psycopg.connect(with_database(base, "postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name}")
            ensure_database(base, name)

        loader_db = Database(with_database(base, "bench_loader"))
        loader_db.migrate()
        t0 = time.perf_counter()
        report = load_catalog(loader_db, csv_path, "kaggle_600k")
        loader_s = time.perf_counter() - t0
        assert report.inserted == args.rows, report

        t0 = time.perf_counter()
        again = load_catalog(loader_db, csv_path, "kaggle_600k")
        reload_s = time.perf_counter() - t0
        assert again.written == 0, again

        # to_sql gets the file already parsed and validated: only its write is timed.
        frame = pd.read_csv(csv_path)
        from sqlalchemy import create_engine

        engine = create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(with_database(base, "bench_to_sql")),
        )
        t0 = time.perf_counter()
        frame.to_sql("tracks", engine, if_exists="replace", index=False)
        to_sql_s = time.perf_counter() - t0
        engine.dispose()

        rows = args.rows
        print(
            f"project loader (parse+validate+hash+COPY+merge): {loader_s:6.1f}s "
            f"{rows / loader_s:>10,.0f} rows/s"
        )
        print(f"project loader, unchanged reload (0 rows written): {reload_s:6.1f}s")
        print(
            f"pandas.DataFrame.to_sql (write only):            {to_sql_s:6.1f}s "
            f"{rows / to_sql_s:>10,.0f} rows/s"
        )
        print(f"ratio loader/to_sql rows/s: {to_sql_s / loader_s:.1f}x")
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
