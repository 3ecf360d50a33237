"""Search latency on the user's path: `service.search` on a ≥100K real-shaped catalog, and a
cold `spotify-assets search` process.

The catalog is built once under $SPOTIFY_ASSETS_HOME (reused by later runs): rows resampled
from TidyTuesday and the Kaggle sample with jittered audio features and recombined names,
artists and genres, written in the Kaggle 114K layout, loaded by the real loader, described
and embedded with the default bundle's model, HNSW index built. Then, in one warm process,
varied queries (plain, genre, numeric, selective) go through `service.search`; it prints
p50/p95/max per class and overall, filtered recall@10 of the shipped strategy vs exact search,
and the cold CLI time (median of 3) with the embedded server running and stopped.

    SPOTIFY_ASSETS_HOME=/tmp/x nice -n 10 .venv/bin/python benchmarks/search_latency.py \
        [--rows 100000] [--queries 120] [--cli-runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.settings import home_dir

DATA = Path(os.environ.get("SPOTIFY_ASSETS_DATA", "/work/shared/data"))
TIDY = DATA / "tidytuesday" / "spotify_songs.parquet"
KAGGLE = DATA / "kaggle_114k" / "sample_music_dataset.csv"
TARGET_P95_MS = 50.0
TARGET_RECALL = 0.95
TARGET_CLI_S = 3.0
UNIT_FEATURES = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness",
                 "liveness", "valence")  # fmt: skip


def synthesize(rows: int, seed: int = 14) -> pd.DataFrame:
    """`rows` tracks in the Kaggle 114K layout, shaped like the two real sources: each row's
    features are a real row's, jittered; its name joins words of two real titles; artist,
    album and genre come from other real rows (so descriptions read like real ones)."""
    rng = np.random.default_rng(seed)
    tidy = pd.read_parquet(TIDY)
    kaggle = pd.read_csv(KAGGLE)
    base = pd.concat(
        [
            tidy.rename(columns={"track_name": "name", "track_artist": "artist",
                                 "track_album_name": "album", "track_popularity": "popularity"})
            .assign(genre=tidy["playlist_subgenre"].where(rng.random(len(tidy)) < 0.5,
                                                          tidy["playlist_genre"]),
                    year=pd.to_numeric(tidy["track_album_release_date"].str[:4],
                                       errors="coerce")),
            kaggle.rename(columns={"track_name": "name", "primary_genre": "genre"}).assign(
                artist=None, album=None, popularity=np.nan, year=np.nan),
        ],
        ignore_index=True,
    )  # fmt: skip
    base = base.dropna(subset=["name"]).reset_index(drop=True)
    pick = lambda: rng.integers(0, len(base), rows)  # noqa: E731
    rows_ = base.iloc[pick()].reset_index(drop=True)
    words_a = base["name"].iloc[pick()].str.split().str[:3].str.join(" ").to_numpy()
    words_b = base["name"].iloc[pick()].str.split().str[-2:].str.join(" ").to_numpy()
    names = np.where(rng.random(rows) < 0.5, words_a + " " + words_b, rows_["name"].to_numpy())
    artists = base["artist"].dropna().to_numpy()
    frame = pd.DataFrame(
        {
            "track_id": [f"lat{i:07d}" for i in range(rows)],
            "track_name": names,
            "artists": artists[rng.integers(0, len(artists), rows)],
            "album_name": base["album"]
            .dropna()
            .to_numpy()[rng.integers(0, base["album"].notna().sum(), rows)],
            "track_genre": base["genre"].iloc[pick()].to_numpy(),
            "popularity": rng.integers(0, 100, rows),
            "year": base["year"]
            .dropna()
            .to_numpy()[rng.integers(0, base["year"].notna().sum(), rows)]
            .astype(int),
            "duration_ms": (rows_["duration_ms"] * rng.normal(1, 0.05, rows)).round().astype(int),
        }
    )
    for column in AUDIO_FEATURES:
        frame[column] = jitter(column, rows_[column].to_numpy(dtype=float), rng)
    return frame


def jitter(column: str, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real row's feature values, moved a little and kept in their range, so generated rows
    read like real ones without repeating them (this benchmark and many_people.py)."""
    if column in UNIT_FEATURES:
        return np.clip(values + rng.normal(0, 0.03, len(values)), 0, 1).round(4)
    if column == "tempo":
        return np.clip(values * rng.normal(1, 0.02, len(values)), 40, 240).round(3)
    if column == "loudness":
        return (values + rng.normal(0, 0.5, len(values))).round(3)
    return values


def build_catalog(db, bundle, rows: int) -> None:
    """Load, describe, embed and index `rows` tracks once; a later run reuses them."""
    from spotify_assets.lib.analyses.update import update_track_analyses
    from spotify_assets.lib.catalog import load_catalog
    from spotify_assets.lib.embeddings.update import update_track_embeddings
    from spotify_assets.lib.models.embedder import load_embedder
    from spotify_assets.lib.store.embeddings import EmbeddingRepository

    done = home_dir() / f"search_latency_{rows}.done"
    if done.exists():
        return
    path = home_dir() / f"search_latency_{rows}.csv"
    if not path.exists():
        synthesize(rows).to_csv(path, index=False)
    started = time.perf_counter()
    report = load_catalog(db, path, "kaggle_114k")
    print(f"loaded {report.written:,} tracks in {time.perf_counter() - started:.0f} s", flush=True)
    update_track_analyses(db, progress=lambda m: print(m, flush=True))
    started = time.perf_counter()
    embedder = load_embedder(bundle.embedding)
    update_track_embeddings(db, bundle, embedder, progress=lambda m: print(m, flush=True))
    print(f"embedded in {time.perf_counter() - started:.0f} s", flush=True)
    with db.connect() as conn:
        repo = EmbeddingRepository(conn)
        repo.use_index_build_memory()
        repo.ensure_index(bundle.hash, bundle.embedding.dims)
    done.write_text("ok\n")


PLAIN = [
    "dreamy late night drive", "songs about heartbreak", "summer road trip anthems",
    "rainy sunday morning coffee", "music for a house party", "songs to cry to",
    "epic cinematic build up", "chill beats to study to", "love songs for a wedding",
    "workout motivation", "songs about the ocean", "nostalgic teenage memories",
    "driving through the desert at night", "feel good throwback hits", "moody atmospheric tracks",
    "songs like a sunset", "party in the club tonight", "gentle guitar and soft vocals",
    "dark brooding bass", "bright horns and handclaps", "a song for a long flight",
    "remix of a pop hit", "live recording with crowd noise", "songs with a whistle melody",
    "female vocalist ballad", "male rapper storytelling", "latin dance floor",
    "heavy riffs and screaming", "soft lullaby", "jazzy lounge evening", "country heartbreak",
    "anthem for a stadium", "songs about money", "melancholic piano", "bouncy bassline",
    "songs for a breakup", "dance all night", "sunny morning", "midnight city lights",
    "festival main stage drop",
]  # fmt: skip
NUMERIC = ["tempo>140", "energy<0.3", "valence>0.8", "danceability>0.7 and energy>0.6",
           "acousticness>0.8", "tempo<90 and valence<0.3", "release_year>=2015",
           "release_year<1990", "speechiness>0.3", "instrumentalness>0.5"]  # fmt: skip


def queries(genres: list[str], count: int, seed: int = 3) -> list[tuple[str, str, str | None]]:
    """(class, query, where): plain text; a genre named in the text; numeric --where filters;
    selective filters (a rare genre, or several narrow ranges)."""
    rng = np.random.default_rng(seed)
    common, rare = genres[:20], genres[-30:]
    out = []
    for i in range(count):
        phrase = PLAIN[i % len(PLAIN)]
        kind = ("plain", "genre", "numeric", "selective")[i % 4]
        if kind == "plain":
            out.append((kind, phrase, None))
        elif kind == "genre":
            out.append((kind, f"{common[rng.integers(len(common))]} {phrase}", None))
        elif kind == "numeric":
            out.append((kind, phrase, NUMERIC[rng.integers(len(NUMERIC))]))
        else:
            where = (f"genre='{rare[rng.integers(len(rare))]}'" if i % 8 == 3
                     else "popularity>97 and tempo>150 and energy>0.8")  # fmt: skip
            out.append((kind, phrase, where))
    return out


def percentiles(ms: list[float]) -> str:
    q = np.percentile(ms, [50, 95])
    return f"p50 {q[0]:6.1f}  p95 {q[1]:6.1f}  max {max(ms):6.1f} ms  (n={len(ms)})"


def cli_seconds(query: str, runs: int) -> list[float]:
    """Wall seconds of `spotify-assets search QUERY` in fresh processes."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "spotify_assets.cli", "search", query,
                              "--limit", "5"], capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - started)
        if run.returncode not in (0, 1) or "Traceback" in run.stderr:
            raise RuntimeError(run.stderr[-2000:])
    return times


def server_running() -> bool:
    return (home_dir() / "pgdata" / "postmaster.pid").exists()


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--partial",
        action="store_true",
        help="use the vectors embedded so far (an unfinished build): index them",
    )
    args = parser.parse_args()  # fmt: skip
    if not TIDY.exists() or not KAGGLE.exists():
        print(f"needs {TIDY} and {KAGGLE}", file=sys.stderr)
        return 2

    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.store import Database, resolve_database_url

    bundle = load_bundles().default_bundle
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")  # fmt: skip
    print(f"CPU {cpu}, {os.cpu_count()} cores; {load()}")
    query = "calm acoustic piano for a rainy night"
    cold_stopped = None
    if not server_running():  # measured first: this process keeps the server up afterwards
        cold_stopped = cli_seconds(query, args.cli_runs)

    db = Database(resolve_database_url(), keep_open=True)
    if args.partial:
        from spotify_assets.lib.store.embeddings import EmbeddingRepository

        with db.connect() as conn:
            repo = EmbeddingRepository(conn)
            repo.use_index_build_memory()
            repo.ensure_index(bundle.hash, bundle.embedding.dims)
    else:
        build_catalog(db, bundle, args.rows)
    if args.build_only:
        return 0
    with db.connect() as conn:  # statistics as after the search_index step (an index built at
        conn.execute("ANALYZE track_embeddings")  # a partial build has stale ones)
    cold_running = cli_seconds(query, args.cli_runs)
    measure_warm(db, bundle, args.queries)

    print("\ncold `spotify-assets search` (fresh process, median of "
          f"{args.cli_runs}), target < {TARGET_CLI_S:.0f} s; {load()}")  # fmt: skip
    for label, times in (("server running", cold_running), ("server stopped", cold_stopped)):
        if times is None:
            print(f"  {label}: not measured (the server was already held by another process)")
            continue
        median = statistics.median(times)
        print(f"  {label}: {median:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)}) "
              f"= {median / TARGET_CLI_S:.2f}x target")  # fmt: skip
    return 0


def measure_warm(db, bundle, count: int) -> None:
    """The user path in one warm process, new (numpy queries, cached genres, kept connection)
    vs the previous path (sentence-transformers queries, a genre scan and new connections per
    query), interleaved in rounds of 10 queries; then recall@10 of the shipped strategy vs exact."""
    from spotify_assets.lib.models.backends import make_embedder
    from spotify_assets.lib.models.embedder import load_embedder
    from spotify_assets.lib.search.engine import search_vectors
    from spotify_assets.lib.search.service import collapse_versions, known_genres, search
    from spotify_assets.lib.store import Database
    from spotify_assets.lib.store.tracks import TrackRepository

    spec = bundle.embedding
    fast = make_embedder(spec, "local", "cpu", "auto", queries=True)
    torch_embedder = load_embedder(spec, "cpu", "fp32")
    fresh = Database(db.url)  # a connection per block, as before

    def previous_genres() -> list[str]:
        with fresh.connect() as conn:
            return TrackRepository(conn).genres()

    with db.connect() as conn:
        vectors = conn.execute("SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s",
                               (bundle.hash,)).fetchone()[0]  # fmt: skip
        ranked = conn.execute(
            "SELECT g, count(*) FROM tracks, unnest(genres) g GROUP BY g ORDER BY 2 DESC, 1"
        ).fetchall()
    genres = [g for g, n in ranked if "'" not in g]
    print(f"catalog: {vectors:,} vectors of {bundle.name}, {len(genres)} genres")
    workload = queries(genres, count)
    for _, text, where in workload[:4]:  # warm both paths (first-use costs are not per query)
        search(db, bundle, fast, text, where=where)
        search(fresh, bundle, torch_embedder, text, where=where, genres=previous_genres())
    timings: dict[str, dict[str, list[float]]] = {"new": {}, "previous": {}, "best of 3": {}}
    results = []
    for start in range(0, len(workload), 10):  # rounds of 10 queries, previous then new:
        rounds = workload[start : start + 10]  # torch's threads spin a moment after each use
        for kind, text, where in rounds:
            started = time.perf_counter()
            search(fresh, bundle, torch_embedder, text, where=where, genres=previous_genres())
            timings["previous"].setdefault(kind, []).append((time.perf_counter() - started) * 1e3)
        time.sleep(0.5)
        for kind, text, where in rounds:
            runs = []
            for _ in range(3):  # the first is the figure; the best of 3 dodges the busy box
                started = time.perf_counter()
                result = search(db, bundle, fast, text, where=where)
                runs.append((time.perf_counter() - started) * 1e3)
            timings["new"].setdefault(kind, []).append(runs[0])
            timings["best of 3"].setdefault(kind, []).append(min(runs))
            results.append((kind, text, result))
    started = time.perf_counter()
    for _ in range(20):
        fast.embed([workload[0][1]], "query")
    embed_ms = (time.perf_counter() - started) * 50
    started = time.perf_counter()
    for _ in range(20):
        known_genres(db)
    genres_ms = (time.perf_counter() - started) * 50

    print(f"\nwarm `service.search` latency ({load()}), target p95 < {TARGET_P95_MS:.0f} ms")
    for kind in ("plain", "genre", "numeric", "selective", "overall"):
        for path, label in (("new", kind), ("best of 3", ""), ("previous", "")):
            ms = (timings[path].get(kind) if kind != "overall"
                  else [t for ts in timings[path].values() for t in ts])  # fmt: skip
            print(f"  {label:<9} {path:<9} {percentiles(ms)}")
    new_all = [t for ts in timings["new"].values() for t in ts]
    old_all = [t for ts in timings["previous"].values() for t in ts]
    p95 = float(np.percentile(new_all, 95))
    best = float(np.percentile([t for ts in timings["best of 3"].values() for t in ts], 95))
    print(f"  overall p95 {p95:.1f} ms = {p95 / TARGET_P95_MS:.2f}x target (best of 3: "
          f"{best:.1f} ms = {best / TARGET_P95_MS:.2f}x); p50 new/previous "
          f"{np.median(new_all) / np.median(old_all):.2f}; query embedding {embed_ms:.1f} ms, "
          f"known_genres (cached) {genres_ms:.2f} ms")  # fmt: skip
    plans: dict[str, int] = {}
    for _, _, r in results:
        plans[r.plan.strategy] = plans.get(r.plan.strategy, 0) + 1
    print(f"  plans: {plans}")

    recalls: dict[str, list[float]] = {}
    reranked = 0
    with db.connect() as conn:
        for kind, text, result in results:
            if result.preferences:  # ranked by a blend with soft preferences, not similarity
                reranked += 1
                continue
            vector = fast.embed([text], "query")[0]
            exact, _ = search_vectors(
                conn, bundle.hash, spec.dims, vector, result.filters, 20, strategy="exact"
            )  # fmt: skip  (the service fetches 20)
            exact = collapse_versions(exact)[:10]  # as the service merges versions of a song
            if exact:
                truth = {h.track_id for h in exact}
                found = {h.track_id for h in result.hits[:10]}
                recalls.setdefault(kind, []).append(len(truth & found) / len(truth))
    print(f"\nrecall@10 of the shipped strategy vs exact search (target ≥ {TARGET_RECALL}); "
          f"{reranked} queries re-ranked by soft preferences left out")  # fmt: skip
    every = [r for rs in recalls.values() for r in rs]
    for kind, rs in recalls.items():
        print(f"  {kind:<9} {np.mean(rs):.3f} (min {min(rs):.2f}, n={len(rs)})")
    print(f"  overall   {np.mean(every):.3f} = {np.mean(every) / TARGET_RECALL:.2f}x target")


if __name__ == "__main__":
    raise SystemExit(main())
