"""Many people on one deployment: a 400K-track catalog and 200 people's libraries (about
1,000,000 tracks) in one Postgres with pgvector, through the project's own storage code.

Phases, each printed with its figures and targets:
1. A fresh home (embedded Postgres + pgvector, `Database(resolve_database_url())`).
2. Real-shaped vectors cheaply: a few thousand TidyTuesday descriptions (the extractor's own
   `analyze`) embedded once with the default bundle's model; every generated track's vector is
   a perturbed copy of one of them (Gaussian noise, re-normalized): a catalog track's is the
   real row's its genre and features came from, a library song's (a name only) one picked by a
   hash of its description. Names, artists, albums, genres and features are recombined from
   real rows.
3. The catalog: a TidyTuesday-layout file (each track in its base row's catalog playlist, as
   TidyTuesday's own file has them) loaded by `load_catalog`, described by
   `update_track_analyses` (descriptions, artist profiles, the lexical `track_search` words),
   vectors written with `EmbeddingRepository.upsert`; then the bundle's HNSW index with
   `EmbeddingRepository.ensure_index`, as `embed_bundle`'s `search_index` does before anyone
   imports (`--index-at end` builds it after the people instead).
4. People: each gets a real privacy export written to disk (Playlist1.json, YourLibrary.json,
   StreamingHistory_music_N.json: a library of 2,000-10,000 songs, 30-70% not in the catalog,
   10-60 playlists, liked songs, 5,000-70,000 plays), parsed by `read_export` (not timed), then
   timed: the writes `spotify-assets import` makes, in its order, minus Dagster's run launching
   and the embedding model - register (`PersonRepository.ensure`), playlists (the `playlists`
   asset: `export_playlists` reading the tracks its items may be + `store_playlists`), liked songs
   (`store_candidates`), history (`import_history`), [co-listening (`update_colistening`) with
   `--colistening`], then `embed_library`: enrichment offline (`enrich_tracks` without
   clients), `update_track_analyses`, `update_track_embeddings` (the model replaced by the
   perturbed vectors), the completeness check's reads, and the coverage the import prints.
   The readers inside `export_playlists` and `import_history` answer from the parsed export.
5. In one warm process (`Database(url, keep_open=True)`, the query embedder of
   `cli.runtime.query_embedder`): global search p50/p95 through `service.search`, and search
   relative to a person's library through `taste_service.taste_search`.
6. The web app (`web.app.create_app`) under uvicorn in a thread, with 10 concurrent client
   threads (httpx) for a fixed time; `--web-server process` runs `spotify-assets serve` in its
   own process instead (the clients then share no interpreter lock with it).
7. The 30-minute `update` schedule for N people, evaluated against the real instance
   (`dagster.yaml`: run queue, concurrency limits) and the real schedule definition.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DAGSTER_DISABLE_TELEMETRY=1 \\
        .venv/bin/python benchmarks/many_people.py [--home DIR] [--reuse] \\
        [--catalog 400000] [--people 200] [--index-at catalog|end] [--index-memory auto] \\
        [--colistening] [--queries 120] [--web-seconds 60] [--clients 10] \\
        [--web-server thread|process]

Small first: `--people 3 --catalog 20000` takes a few minutes. `--home DIR` keeps the home;
an interrupted build resumes there (people already imported are kept), `--reuse` only measures.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import json
import os
import re
import resource
import shutil
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TIDY = SHARED / "tidytuesday" / "spotify_songs.parquet"
TARGET_IMPORT_RATIO = 1.2  # last people's import time / the first person's
TARGET_SEARCH_P95_MS = 50.0
TARGET_WEB_P95_MS = 250.0
SCHEDULE_MINUTES = 30  # the `update` schedule's cron: */30
LAST = 5  # "the last people": their median import time against the first's
FEATURES = ("danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
            "instrumentalness", "liveness", "valence", "tempo")  # fmt: skip
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


# -- home and settings ------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", help="keep the home here (default: a new temporary folder)")
    parser.add_argument("--reuse", action="store_true", help="the home is built: only measure")
    parser.add_argument("--catalog", type=int, default=400_000, help="catalog tracks")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bases", type=int, default=4000, help="real texts embedded")
    parser.add_argument("--noise", type=float, default=0.02, help="per-dimension sigma")
    parser.add_argument("--shared-pool", type=int, default=20_000,
                        help="songs no catalog has that several people share (10%% of a "
                        "person's new songs come from it)")  # fmt: skip
    parser.add_argument("--index-at", choices=("catalog", "end"), default="catalog")
    parser.add_argument("--index-memory", default="auto",
                        help="maintenance_work_mem for the HNSW build: auto (fits the graph), "
                        "project (use_index_build_memory alone: 512MB) or a size like 2GB")  # fmt: skip
    parser.add_argument("--colistening", action="store_true",
                        help="also time `update_colistening` in each import (model fitting)")  # fmt: skip
    parser.add_argument("--build-only", action="store_true", help="build, print, measure nothing")
    parser.add_argument("--people-range", metavar="A:B",
                        help="import only people A..B-1 (a second build process beside the "
                        "first; the timed first and last people should be imported alone)")  # fmt: skip
    parser.add_argument("--queries", type=int, default=120, help="global searches")
    parser.add_argument("--taste-queries", type=int, default=100, help="person-scoped searches")
    parser.add_argument("--passes", type=int, default=2,
                        help="run the search workloads this many times (the last is warm: "
                        "the server's pages and the process' caches filled)")  # fmt: skip
    parser.add_argument("--web-seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--web-server", choices=("thread", "process"), default="thread",
                        help="the app in a thread of this process, or `spotify-assets serve`")  # fmt: skip
    parser.add_argument("--web-workers", type=int, default=1,
                        help="`serve --workers N` (with --web-server process)")  # fmt: skip
    return parser.parse_args()


def prepare_home(args: argparse.Namespace) -> Path:
    """The home every project module reads its settings from: set before they are imported.
    DATABASE_URL is dropped so that nothing is written into a server named elsewhere."""
    home = Path(args.home or tempfile.mkdtemp(prefix="many-people-")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["SPOTIFY_ASSETS_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("DAGSTER_PG_URL", None)
    os.environ.pop("DAGSTER_HOME", None)
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DAGSTER_DISABLE_TELEMETRY"):
        os.environ.setdefault(name, "1")
    os.environ.setdefault("RECCOBEATS_API_BASE", "off")
    return home


class State:
    """What was built, per phase and per person, in the home (so an interrupted build resumes
    and `--reuse` can print the build's figures)."""

    def __init__(self, home: Path):
        self.path = home / "many_people.json"
        self.data: dict = json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def set(self, key: str, value) -> None:
        self.data[key] = value
        self._write()

    def _write(self) -> None:
        """Whole or not at all (a rename): another build process reads it meanwhile."""
        part = self.path.with_suffix(f".{os.getpid()}.tmp")
        part.write_text(json.dumps(self.data, indent=1))
        os.replace(part, self.path)

    def add_import(self, person: str, record: dict) -> None:
        """One person's import, merged into the file as it is now: build processes that
        import other people (`--people-range`) write beside this one."""
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.path.exists():
                self.data = json.loads(self.path.read_text())
            self.data.setdefault("imports", {})[person] = record
            self._write()

    def imported(self) -> set[str]:
        """Who is imported, by any build process."""
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            if self.path.exists():
                self.data = json.loads(self.path.read_text())
        return set(self.data.get("imports", {}))


@contextlib.contextmanager
def timed(parts: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        parts[name] = parts.get(name, 0.0) + time.perf_counter() - started


def noop(_message: str) -> None:
    pass


def throttled(every: float = 30.0):
    """A progress printer that speaks at most every `every` seconds."""
    last = [0.0]

    def say(message: str) -> None:
        if time.monotonic() - last[0] >= every:
            last[0] = time.monotonic()
            print(f"    {message}", flush=True)

    return say


def spotify_id(prefix: str, serial: int) -> str:
    """A 22-character base62 id, as Spotify's (so enrichment and URIs treat it as one)."""
    digits = ""
    while serial:
        serial, rest = divmod(serial, 62)
        digits = BASE62[rest] + digits
    return prefix + digits.rjust(21, "0")


def serial_of(track_id: str) -> int:
    value = 0
    for char in track_id[1:]:
        value = value * 62 + BASE62.index(char)
    return value


# -- real rows and vectors --------------------------------------------------------------------


@dataclass
class Real:
    """TidyTuesday, one row per track, in the project's field names; `base` rows are the ones
    embedded (every generated vector is a perturbed copy of one of theirs)."""

    rows: pd.DataFrame
    base: np.ndarray  # row positions of the embedded texts
    playlist_names: np.ndarray


def load_real(seed: int, bases: int) -> Real:
    raw = pd.read_parquet(TIDY)
    rows = raw.drop_duplicates("track_id").dropna(subset=["track_name", "track_artist"])
    rows = rows.rename(columns={
        "track_name": "name", "track_artist": "artist", "track_album_name": "album",
        "track_album_id": "album_id", "track_album_release_date": "release_date",
        "track_popularity": "popularity", "playlist_genre": "genre",
        "playlist_subgenre": "subgenre"}).reset_index(drop=True)  # fmt: skip
    rng = np.random.default_rng(seed)
    base = rng.permutation(len(rows))[: min(bases, len(rows))]
    names = raw["playlist_name"].dropna().unique()
    return Real(rows, np.sort(base), np.asarray(names, dtype=object))


def base_vectors(real: Real, bundle, home: Path) -> np.ndarray:
    """The base rows' descriptions (as `update_track_analyses` writes them) embedded once with
    the bundle's model; cached in the home."""
    cache = home / f"many_people_bases_{len(real.base)}.npy"
    if cache.exists():
        return np.load(cache)
    from spotify_assets.lib.analyses.describe import analyze
    from spotify_assets.lib.models.embedder import load_embedder

    picked = real.rows.iloc[real.base]
    texts = [
        analyze({**{f: r[f] for f in FEATURES}, "name": r["name"], "artists": [r["artist"]],
                 "album_name": r["album"], "genre": r["genre"], "subgenre": r["subgenre"],
                 "release_year": _year(r["release_date"]), "popularity": r["popularity"],
                 "duration_ms": r["duration_ms"], "explicit": None}).description
        for r in picked.to_dict("records")
    ]  # fmt: skip
    started = time.perf_counter()
    embedder = load_embedder(bundle.embedding, device="cpu")
    vectors = np.asarray(embedder.embed(texts, "document"), dtype=np.float32)
    print(f"  embedded {len(texts):,} real descriptions with {bundle.embedding.model} in "
          f"{time.perf_counter() - started:.0f} s (e.g. {texts[0][:90]!r})", flush=True)  # fmt: skip
    np.save(cache, vectors)
    return vectors


def _year(date: object) -> int | None:
    text = str(date or "")[:4]
    return int(text) if text.isdigit() else None


def perturbed(bases: np.ndarray, which: np.ndarray, noise: float, rng) -> np.ndarray:
    """Unit vectors near the chosen base vectors."""
    vectors = bases[which] + rng.normal(0.0, noise, (len(which), bases.shape[1]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


class PerturbedEmbedder:
    """Stands in for the model inside `update_track_embeddings` (whose throughput
    benchmarks/embed.py measures): a text's vector is a perturbed base vector, both chosen by a
    hash of the text, so a re-run gives the same vector."""

    precision = "perturbed"

    def __init__(self, bases: np.ndarray, noise: float):
        self.bases, self.noise = bases, noise
        self.seconds = 0.0  # spent here: the model's share, left out of the import's time

    def embed(self, texts: list[str], kind: str = "document") -> np.ndarray:
        started = time.perf_counter()
        out = self._embed(texts)
        self.seconds += time.perf_counter() - started
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.bases.shape[1]), dtype=np.float32)
        for i, text in enumerate(texts):
            digest = zlib.crc32(text.encode("utf-8"))
            rng = np.random.default_rng(digest)
            out[i] = perturbed(self.bases, np.array([digest % len(self.bases)]), self.noise, rng)
        return out


# -- the catalog ------------------------------------------------------------------------------


def recombined(real: Real, rng, count: int) -> dict[str, np.ndarray]:
    """Names (half joined from two real titles, half a real title), artists and albums from
    other real rows: they read like real ones and rarely repeat a real song."""
    rows = real.rows
    titles = rows["name"].to_numpy(object)
    head = pd.Series(titles[rng.integers(0, len(rows), count)]).str.split().str[:3].str.join(" ")
    tail = pd.Series(titles[rng.integers(0, len(rows), count)]).str.split().str[-2:].str.join(" ")
    own = titles[rng.integers(0, len(rows), count)]
    names = np.where(rng.random(count) < 0.5, (head + " " + tail).to_numpy(object), own)
    pick = rng.integers(0, len(rows), count)
    return {"name": names, "artist": rows["artist"].to_numpy(object)[pick],
            "album": rows["album"].to_numpy(object)[rng.integers(0, len(rows), count)]}  # fmt: skip


@dataclass
class Catalog:
    frame: pd.DataFrame  # the TidyTuesday layout the loader reads
    base: np.ndarray  # per catalog track: the base vector it perturbs
    weights: np.ndarray  # how likely a person has each track (earlier tracks are popular)


def make_catalog(real: Real, count: int, seed: int) -> Catalog:
    rng = np.random.default_rng(seed + 1)
    base = rng.integers(0, len(real.base), count)
    source = real.rows.iloc[real.base[base]].reset_index(drop=True)
    names = recombined(real, rng, count)
    frame = pd.DataFrame({
        "track_id": [spotify_id("c", i) for i in range(count)],
        "track_name": names["name"], "track_artist": names["artist"],
        "track_popularity": np.clip(source["popularity"] + rng.integers(-10, 11, count), 0, 100),
        "track_album_id": source["album_id"].to_numpy(), "track_album_name": names["album"],
        "track_album_release_date": source["release_date"].to_numpy(),
        "playlist_genre": source["genre"].to_numpy(),
        "playlist_subgenre": source["subgenre"].to_numpy(),
        "playlist_id": source["playlist_id"].to_numpy(),
        "playlist_name": source["playlist_name"].to_numpy(),
        "duration_ms": (source["duration_ms"] * rng.normal(1, 0.05, count)).round().astype(int),
    })  # fmt: skip
    from search_latency import jitter  # the same jitter as the search benchmark's catalog

    for column in FEATURES:
        frame[column] = jitter(column, source[column].to_numpy(dtype=float), rng)
    weights = 1.0 / (np.arange(count) + 2000.0) ** 0.7
    return Catalog(frame, base, weights / weights.sum())


def build_catalog(db, bundle, catalog: Catalog, bases: np.ndarray, noise: float,
                  home: Path) -> dict[str, float]:  # fmt: skip
    """Load, describe and embed the catalog through the project's writers; seconds per step."""
    from spotify_assets.lib.analyses.update import update_track_analyses
    from spotify_assets.lib.catalog import load_catalog

    seconds: dict[str, float] = {}
    path = home / "many_people_catalog.parquet"
    catalog.frame.to_parquet(path, index=False)
    with timed(seconds, "load (load_catalog)"):
        report = load_catalog(db, path, "tidytuesday")
    print(f"  loaded {report.inserted:,} catalog tracks in {seconds['load (load_catalog)']:.0f} s",
          flush=True)  # fmt: skip
    with timed(seconds, "describe (update_track_analyses)"):
        update_track_analyses(db, batch_size=20_000, progress=throttled())
    print(f"  described in {seconds['describe (update_track_analyses)']:.0f} s", flush=True)
    with timed(seconds, "vectors (EmbeddingRepository.upsert)"):
        write_catalog_vectors(db, bundle, catalog, bases, noise)
    print(f"  vectors written in {seconds['vectors (EmbeddingRepository.upsert)']:.0f} s",
          flush=True)  # fmt: skip
    path.unlink()
    return seconds


def write_catalog_vectors(db, bundle, catalog: Catalog, bases: np.ndarray, noise: float,
                          batch: int = 20_000) -> None:  # fmt: skip
    """Each catalog track's vector from the base its fields came from, under the content hash
    its description has: `update_track_embeddings` then finds them current."""
    from spotify_assets.lib.store.analyses import AnalysisRepository
    from spotify_assets.lib.store.embeddings import EmbeddingRepository

    with db.connect() as conn:
        texts = AnalysisRepository(conn).texts()[["track_id", "content_hash"]]
    rng = np.random.default_rng(11)
    for start in range(0, len(texts), batch):
        part = texts.iloc[start : start + batch]
        which = catalog.base[[serial_of(t) for t in part["track_id"]]]
        with db.connect() as conn, conn.transaction():
            repo = EmbeddingRepository(conn)
            repo.register_bundle(bundle)
            repo.upsert(bundle, part, perturbed(bases, which, noise, rng))


def index_memory(setting: str, vectors: int, dims: int) -> str | None:
    """maintenance_work_mem for the build: None keeps the project's 512MB (`project`, or `auto`
    when the graph fits in it); `auto` otherwise sizes it to hold the whole HNSW graph (about 4
    bytes a dimension plus 1 KB of links per vector, +20%), at most a quarter of the memory."""
    if setting != "auto":
        return None if setting == "project" else setting
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    need = vectors * (4 * dims + 1024) * 1.2
    return None if need <= 512 * 2**20 else f"{int(min(need, memory / 4) / 2**20)}MB"


def build_index(db, bundle, setting: str) -> dict:
    """`EmbeddingRepository.ensure_index` after `use_index_build_memory`, with more memory when
    the graph needs it (parallel maintenance workers: Postgres' setting, 2 by default);
    pgvector's notices (a graph that stopped fitting in memory) are kept."""
    from psycopg import sql

    from spotify_assets.lib.store.embeddings import EmbeddingRepository

    notices: list[str] = []
    with db.connect() as conn:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        repo = EmbeddingRepository(conn)
        vectors = repo.count(bundle.hash)
        repo.use_index_build_memory()
        memory = index_memory(setting, vectors, bundle.embedding.dims)
        if memory:
            conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(memory)))
        used = conn.execute("SHOW maintenance_work_mem").fetchone()[0]
        used_workers = conn.execute("SHOW max_parallel_maintenance_workers").fetchone()[0]
        started = time.perf_counter()
        built = repo.ensure_index(bundle.hash, bundle.embedding.dims)
        seconds = time.perf_counter() - started
    return {"vectors": vectors, "seconds": seconds, "built": built, "memory": used,
            "workers": int(used_workers), "raised": memory is not None, "notices": notices}  # fmt: skip


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One person's sizes: drawn from the ranges, or their midpoints for the people whose
    import times are compared (the first and the last few), so that they compare like with
    like and only the database around them has grown."""

    songs: int
    new_share: float  # of the songs, not in the catalog
    playlists: int
    items_per_song: float  # playlist items per library song
    liked_share: float
    plays: int

    @classmethod
    def drawn(cls, rng) -> Shape:
        return cls(int(rng.integers(2000, 10_001)), rng.uniform(0.3, 0.7),
                   int(rng.integers(10, 61)), rng.uniform(0.8, 1.5), rng.uniform(0.1, 0.4),
                   int(rng.integers(5000, 70_001)))  # fmt: skip

    @classmethod
    def midpoint(cls) -> Shape:
        return cls(6000, 0.5, 35, 1.15, 0.25, 37_500)


@dataclass
class Library:
    """One person's songs: id (None for a song known by name only), title, artist, album."""

    ids: np.ndarray
    titles: np.ndarray
    artists: np.ndarray
    albums: np.ndarray
    in_catalog: int


def shared_pool(real: Real, count: int, seed: int) -> pd.DataFrame:
    """Songs no catalog has that several people have (the same Spotify id in each export)."""
    rng = np.random.default_rng(seed + 2)
    names = recombined(real, rng, count)
    return pd.DataFrame({"id": [spotify_id("s", i) for i in range(count)], **names})


def person_library(real: Real, catalog: Catalog, pool: pd.DataFrame, index: int, shape: Shape,
                   rng) -> Library:  # fmt: skip
    """2,000-10,000 songs, 30-70% of them not in the catalog (a tenth of those shared)."""
    new = round(shape.songs * shape.new_share)
    known = shape.songs - new
    picked = rng.choice(len(catalog.frame), size=known, replace=False, p=catalog.weights)
    cat = catalog.frame.iloc[picked]
    shared = min(len(pool), new // 10)
    pooled = pool.iloc[rng.choice(len(pool), size=shared, replace=False)] if shared else pool[:0]
    own = recombined(real, rng, new - shared)
    own_ids = [spotify_id("p", index * 10_000_000 + j) for j in range(new - shared)]
    return Library(
        np.concatenate([cat["track_id"].to_numpy(object), pooled["id"].to_numpy(object),
                        np.asarray(own_ids, dtype=object)]),
        np.concatenate([cat["track_name"].to_numpy(object), pooled["name"].to_numpy(object),
                        own["name"]]),
        np.concatenate([cat["track_artist"].to_numpy(object), pooled["artist"].to_numpy(object),
                        own["artist"]]),
        np.concatenate([cat["track_album_name"].to_numpy(object),
                        pooled["album"].to_numpy(object), own["album"]]),
        known,
    )  # fmt: skip


def write_export(real: Real, library: Library, shape: Shape, folder: Path, rng) -> dict[str, int]:
    """A basic privacy export as Spotify ships it: playlists and liked songs with track URIs,
    a history named by artist + title. Returns what it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    size = len(library.ids)

    def item(i: int) -> dict:
        return {"trackName": library.titles[i], "artistName": library.artists[i],
                "albumName": library.albums[i], "trackUri": f"spotify:track:{library.ids[i]}"}  # fmt: skip

    count = shape.playlists
    items = int(size * shape.items_per_song)
    sizes = np.maximum(1, rng.multinomial(items, rng.dirichlet(np.ones(count))))
    names = rng.choice(real.playlist_names, size=count)
    playlists = [
        {"name": str(name), "lastModifiedDate": "2024-05-01", "description": None,
         "numberOfFollowers": 0,
         "items": [{"track": item(int(i)), "episode": None, "audiobook": None,
                    "localTrack": None, "addedDate": "2024-05-01"}
                   for i in rng.choice(size, size=min(int(n), size), replace=False)]}
        for name, n in zip(names, sizes, strict=True)
    ]  # fmt: skip
    (folder / "Playlist1.json").write_text(json.dumps({"playlists": playlists}))
    liked = rng.choice(size, size=int(size * shape.liked_share), replace=False)
    tracks = [{"artist": library.artists[i], "album": library.albums[i],
               "track": library.titles[i], "uri": f"spotify:track:{library.ids[i]}"}
              for i in liked]  # fmt: skip
    (folder / "YourLibrary.json").write_text(json.dumps({"tracks": tracks, "albums": []}))
    plays = write_history(library, shape.plays, folder, rng)
    return {"songs": size, "in_catalog": library.in_catalog, "playlists": count,
            "playlist_items": int(sum(len(p["items"]) for p in playlists)),
            "liked": len(liked), "plays": plays}  # fmt: skip


def write_history(library: Library, count: int, folder: Path, rng, per_file: int = 10_000) -> int:
    """5,000-70,000 plays over about two years, a few songs played most (Zipf), a quarter of
    plays skipped; StreamingHistory_music_N.json files of 10,000 plays, as Spotify splits them."""
    order = rng.permutation(len(library.ids))
    weights = 1.0 / (np.arange(len(order)) + 10.0)
    songs = order[rng.choice(len(order), size=count, p=weights / weights.sum())]
    start = datetime(2023, 1, 1, tzinfo=UTC)
    minutes = np.sort(rng.integers(0, 700 * 24 * 60, count))
    skipped = rng.random(count) < 0.25
    played = np.where(skipped, rng.integers(1000, 29_000, count),
                      np.clip(rng.normal(200_000, 50_000, count), 60_000, 480_000)).astype(int)  # fmt: skip
    rows = [{"endTime": (start + timedelta(minutes=int(m))).strftime("%Y-%m-%d %H:%M"),
             "artistName": library.artists[s], "trackName": library.titles[s], "msPlayed": int(p)}
            for m, s, p in zip(minutes, songs, played, strict=True)]  # fmt: skip
    for number, first in enumerate(range(0, count, per_file)):
        path = folder / f"StreamingHistory_music_{number}.json"
        path.write_text(json.dumps(rows[first : first + per_file]))
    return count


def import_person(db, bundle, embedder, folder: Path, person: str,
                  colistening: bool) -> dict[str, float]:  # fmt: skip
    """The writes of `spotify-assets import` for one parsed export, in its order; seconds per
    part. The export's readers answer from the parse done before the clock starts."""
    from spotify_assets.lib.analyses.update import update_track_analyses
    from spotify_assets.lib.catalog.coverage import library_coverage
    from spotify_assets.lib.catalog.enrich import enrich_tracks
    from spotify_assets.lib.catalog.known import known_in
    from spotify_assets.lib.embeddings.update import update_track_embeddings
    from spotify_assets.lib.export import read_export
    from spotify_assets.lib.listening.ingest import import_history
    from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
    from spotify_assets.lib.playlists.sources import export_playlists
    from spotify_assets.lib.store.analyses import AnalysisRepository
    from spotify_assets.lib.store.embeddings import EmbeddingRepository
    from spotify_assets.lib.store.listening import PlayRepository
    from spotify_assets.lib.store.matching import CandidateRepository
    from spotify_assets.lib.store.people import PersonRepository
    from spotify_assets.lib.store.playlists import PlaylistRepository

    contents = read_export(folder, person)  # parsing: not timed (import reads every file first)
    parsed = {"spotify_assets.lib.export.playlists.read_playlist_export": contents.playlists,
              "spotify_assets.lib.listening.ingest.read_history": contents.history}  # fmt: skip
    parts: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        for target, value in parsed.items():
            stack.enter_context(mock.patch(target, lambda *_a, _v=value, **_k: _v))
        with timed(parts, "register"), db.connect() as conn:
            PersonRepository(conn).ensure(person)
        with timed(parts, "playlists"):  # the `playlists` asset, source=export
            data = export_playlists(folder, functools.partial(known_in, db), person)
            store_playlists(db, data, person, "export")
            with db.connect() as conn:
                PlaylistRepository(conn).counts()
        with timed(parts, "liked"):  # the `candidates` asset, list=liked
            liked = contents.liked
            store_candidates(db, person, "liked", liked.items, liked.accounts, liked.rejected)
            with db.connect() as conn:
                CandidateRepository(conn).count()
        with timed(parts, "history"):  # the `listening_history` asset
            import_history(db, folder, person, None, None, None)
            with db.connect() as conn:
                PlayRepository(conn).count(person)
    if colistening:
        from spotify_assets.lib.colistening.update import update_colistening

        with timed(parts, "colistening"):
            update_colistening(db, person)
    with timed(parts, "enrich"):  # offline: no Spotify credentials, ReccoBeats off
        enrich_tracks(db, None, None, spotify_skipped="no credentials", reccobeats_skipped="off")
    with timed(parts, "describe"):
        update_track_analyses(db, progress=noop)
        with db.connect() as conn:
            AnalysisRepository(conn).count()
    model = embedder.seconds
    with timed(parts, "embed"):
        update_track_embeddings(db, bundle, embedder, progress=noop)
    parts["embed"] -= embedder.seconds - model  # the stand-in for the model is not the import's
    with timed(parts, "check"), db.connect() as conn:  # the embeddings_complete check
        AnalysisRepository(conn).count()
        EmbeddingRepository(conn).stats(bundle.hash)
    with timed(parts, "coverage"):
        library_coverage(db, person, bundle.hash)
    return parts


def build_people(db, bundle, real: Real, catalog: Catalog, bases: np.ndarray, args,
                 state: State, home: Path) -> None:  # fmt: skip
    """Every person not imported yet: their export, then the timed import."""
    embedder = PerturbedEmbedder(bases, args.noise)
    pool = shared_pool(real, args.shared_pool, args.seed)
    scratch = home / "exports"
    start, stop = (int(n) for n in (args.people_range or f"0:{args.people}").split(":"))
    for index in range(start, min(stop, args.people)):
        person = f"p{index:03d}"
        if person in state.imported():
            continue
        rng = np.random.default_rng([args.seed, index])
        probe = index == 0 or index >= args.people - LAST
        shape = Shape.midpoint() if probe else Shape.drawn(rng)
        library = person_library(real, catalog, pool, index, shape, rng)
        folder = scratch / person
        sizes = write_export(real, library, shape, folder, rng)
        parts = import_person(db, bundle, embedder, folder, person, args.colistening)
        shutil.rmtree(folder)
        state.add_import(person, {"parts": parts, "sizes": sizes})
        print(person_line(person + ("*" if probe else ""), sizes, parts), flush=True)


def person_line(person: str, sizes: dict[str, int], parts: dict[str, float]) -> str:
    slowest = sorted(parts.items(), key=lambda kv: -kv[1])[:4]
    return (f"  {person}: {sizes['songs']:,} songs ({sizes['in_catalog']:,} in the catalog), "
            f"{sizes['playlists']} playlists, {sizes['liked']:,} liked, {sizes['plays']:,} "
            f"plays: import {sum(parts.values()):.1f} s ("
            + ", ".join(f"{k} {v:.1f}" for k, v in slowest) + ")")  # fmt: skip


def import_figures(imports: dict) -> None:
    """First vs last people's import time, and where the time goes."""
    people = sorted(imports)
    if not people:
        return
    totals = {p: sum(imports[p]["parts"].values()) for p in people}
    first, last = people[0], (people[1:] or people)[-LAST:]
    tail = statistics.median(totals[p] for p in last)
    ratio = tail / totals[first]
    verdict = "PASS" if ratio <= TARGET_IMPORT_RATIO else "FAIL"
    print(f"\nimport time per person (the import's writes; parsing and the model left out), "
          f"target last/first <= {TARGET_IMPORT_RATIO}x")  # fmt: skip
    print(f"  first ({first}): {totals[first]:.1f} s; last {len(last)} "
          f"({last[0]}..{last[-1]}): median {tail:.1f} s; ratio {ratio:.2f}x "
          f"= {ratio / TARGET_IMPORT_RATIO:.2f}x target  {verdict}")  # fmt: skip
    print(f"  all {len(people)}: median {statistics.median(totals.values()):.1f} s, "
          f"sum {sum(totals.values()) / 60:.1f} min")  # fmt: skip
    names = list(imports[first]["parts"])
    print(
        "  per part, first -> last people's median (s): "
        + ", ".join(
            f"{n} {imports[first]['parts'][n]:.2f} -> "
            f"{statistics.median(imports[p]['parts'].get(n, 0.0) for p in last):.2f}"
            for n in names
        )
    )
    print(f"  (the first and the last {LAST} people have the same sizes: "
          f"{imports[first]['sizes']})")  # fmt: skip


# -- measuring --------------------------------------------------------------------------------


PHRASES = [
    "dreamy late night drive", "songs about heartbreak", "summer road trip anthems",
    "rainy sunday morning coffee", "music for a house party", "songs to cry to",
    "epic cinematic build up", "chill beats to study to", "love songs for a wedding",
    "workout motivation", "nostalgic teenage memories", "feel good throwback hits",
    "moody atmospheric tracks", "party in the club tonight", "gentle guitar and soft vocals",
    "dark brooding bass", "bright horns and handclaps", "live recording with crowd noise",
    "female vocalist ballad", "male rapper storytelling", "latin dance floor",
    "heavy riffs and screaming", "jazzy lounge evening", "melancholic piano", "bouncy bassline",
    "fast energetic songs", "slow sad acoustic", "happy upbeat pop", "quiet instrumental focus",
    "songs from the 90s", "after 2015 edm", "over 140 bpm", "minor key ballads",
]  # fmt: skip
WHERE = ["tempo>140", "energy<0.3", "valence>0.8", "danceability>0.7 and energy>0.6",
         "acousticness>0.8", "release_year>=2015", "popularity>90 and tempo>150"]  # fmt: skip
STYLES = ["", "rap", "chill", "sad", "energetic", "rock", "happy", "dark", "acoustic", "latin"]


def global_queries(db, genres: list[str], count: int, rng) -> list[tuple[str, str, str | None]]:
    """(class, query, where): plain text, a genre named, a numeric --where, a song's name,
    an artist's songs."""
    with db.connect() as conn:  # query words only: real names and artists the catalog holds
        named = conn.execute(
            "SELECT name, artists[1] FROM tracks TABLESAMPLE SYSTEM (2) "
            "WHERE source_format <> 'library' AND artists[1] IS NOT NULL LIMIT 500"
        ).fetchall()
    out = []
    for i in range(count):
        phrase = PHRASES[i % len(PHRASES)]
        kind = ("plain", "genre", "numeric", "name", "artist")[i % 5]
        if kind == "genre" and genres:
            out.append((kind, f"{genres[rng.integers(len(genres))]} {phrase}", None))
        elif kind == "numeric":
            out.append((kind, phrase, WHERE[rng.integers(len(WHERE))]))
        elif kind == "name" and named:
            title, artist = named[rng.integers(len(named))]
            out.append((kind, f"{title} {artist}", None))
        elif kind == "artist" and named:
            out.append((kind, f"songs by {named[rng.integers(len(named))][1]}", None))
        else:
            out.append(("plain", phrase, None))
    return out


def taste_queries(db, people: list[str], count: int, rng) -> list[tuple[str, str, str]]:
    """(class, query, person): "<style> songs I like", "... like my most played", "... from my
    playlist NAME", for random people."""
    from spotify_assets.lib.store.taste import TasteRepository

    out = []
    for i in range(count):
        person = people[rng.integers(len(people))]
        style = STYLES[rng.integers(len(STYLES))]
        kind = ("liked", "liked", "most played", "playlist")[i % 4]
        if kind == "liked":
            text = f"{style} songs I like"
        elif kind == "most played":
            text = f"{style} songs like my most played"
        else:
            with db.connect() as conn:
                # a name as a query can carry it: quotes end it, blanks are collapsed
                names = [n for _, n in TasteRepository(conn).playlists(person)
                         if " ".join(n.split()) == n and '"' not in n]  # fmt: skip
            text = f"{style} songs from my playlist {names[rng.integers(len(names))]}"
        out.append((kind, text.strip(), person))
    return out


def percentiles(ms: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(ms, [50, 95])
    return float(p50), float(p95)


def report_latency(title: str, timings: dict[str, list[float]], target: float) -> float:
    print(f"\n{title}, target p95 < {target:.0f} ms")
    every = [t for ts in timings.values() for t in ts]
    for kind, ms in [*timings.items(), ("overall", every)]:
        p50, p95 = percentiles(ms)
        print(f"  {kind:<12} p50 {p50:7.1f}  p95 {p95:7.1f}  max {max(ms):7.1f} ms  (n={len(ms)})")
    p95 = percentiles(every)[1]
    print(f"  overall p95 {p95:.1f} ms = {p95 / target:.2f}x target  "
          f"{'PASS' if p95 < target else 'FAIL'}")  # fmt: skip
    return p95


def measure_search(db, bundle, embedder, people: list[str], args) -> None:
    """Warm global and person-scoped search through the services the CLI and the app call."""
    from spotify_assets.lib.search.service import known_genres, search
    from spotify_assets.lib.search.taste_service import taste_search

    rng = np.random.default_rng(args.seed + 5)
    genres = [g for g in known_genres(db) if "'" not in g]
    workload = global_queries(db, genres, args.queries, rng)
    for _, text, where in workload[:5]:
        search(db, bundle, embedder, text, where=where)  # first-use costs are not per query
    for number in range(1, args.passes + 1):  # the same queries again: warm caches, pages
        timings: dict[str, list[float]] = {}
        plans: dict[str, int] = {}
        for kind, text, where in workload:
            started = time.perf_counter()
            result = search(db, bundle, embedder, text, where=where)
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1e3)
            strategy = re.sub(r"\([\d,]+ songs\)", "(N songs)", result.plan.strategy)
            plans[strategy] = plans.get(strategy, 0) + 1
        report_latency(f"global search (`service.search`, {len(workload)} queries, pass "
                       f"{number} of {args.passes}, {load()})", timings,
                       TARGET_SEARCH_P95_MS)  # fmt: skip
        print(f"  plans: {plans}")

    work = taste_queries(db, people, args.taste_queries, rng)
    taste_search(db, bundle, embedder, work[0][1], work[0][2])
    for number in range(1, args.passes + 1):
        taste: dict[str, list[float]] = {}
        slow: list[tuple[float, str, str, int, int, str]] = []
        for kind, text, person in work:
            started = time.perf_counter()
            result = taste_search(db, bundle, embedder, text, person)
            ms = (time.perf_counter() - started) * 1e3
            taste.setdefault(kind, []).append(ms)
            slow.append((ms, person, text, result.references, result.candidates, result.pool))
        report_latency(f"person-scoped search (`taste_service.taste_search`, {len(work)} "
                       f"queries, random people, pass {number} of {args.passes})", taste,
                       TARGET_SEARCH_P95_MS)  # fmt: skip
    for ms, person, text, references, candidates, pool in sorted(slow, reverse=True)[:3]:
        print(f"  slowest: {ms:.0f} ms  {person} {text!r}: {references:,} reference songs, "
              f"{candidates:,} candidates ({pool})")  # fmt: skip


class Server:
    """The app under uvicorn on a free local port, in a thread (as the browser tests run it)."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def web_paths(people: list[str], rng, count: int) -> list[tuple[str, str]]:
    """(kind, path): half global searches, 30% person-scoped ones, 20% a person's page."""
    from urllib.parse import urlencode

    out = []
    for i in range(count):
        person = people[rng.integers(len(people))]
        roll = rng.random()
        if roll < 0.5:
            query = PHRASES[i % len(PHRASES)]
            out.append(("search", "/search?" + urlencode({"q": query})))
        elif roll < 0.8:
            style = STYLES[rng.integers(len(STYLES))]
            query = f"{style} songs I like".strip()
            out.append(("my songs", "/search?" + urlencode({"q": query, "person": person})))
        else:
            out.append(("person page", f"/p/{person}"))
    return out


@contextlib.contextmanager
def app_server(url: str, bundle, embedder, how: str, workers: int = 1) -> Iterator[str]:
    """The app's base URL: `create_app` under uvicorn in a thread of this process (as the
    browser tests run it), or `spotify-assets serve` in a process of its own."""
    from spotify_assets.lib.store import Database
    from spotify_assets.web.app import AppContext, create_app

    if how == "thread":
        from spotify_assets.cli.serve import one_blas_thread

        one_blas_thread()  # as `serve` sets its process up
        db = Database(url, keep_open=True)  # as `serve` builds it (cli.runtime.app_database)
        with Server(create_app(AppContext(db, bundle, embedder))) as server:
            yield f"http://127.0.0.1:{server.port}"
        return
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = subprocess.Popen([sys.executable, "-m", "spotify_assets.cli", "serve", "--port",
                              str(port), "--workers", str(workers)],
                             stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline or serve.poll() is not None:
                raise RuntimeError("`spotify-assets serve` did not start")
            time.sleep(0.5)
        yield base
    finally:
        serve.terminate()
        serve.wait(30)


def measure_web(url: str, bundle, embedder, people: list[str], args) -> None:
    """Closed-loop clients (no think time) for a fixed duration; latency per kind, errors."""
    import httpx

    results: list[tuple[str, float, str | None]] = []
    lock = threading.Lock()

    def client(base: str, seed: int, deadline: float) -> None:
        paths = web_paths(people, np.random.default_rng(seed), 100_000)
        with httpx.Client(timeout=60) as http:
            for kind, path in paths:
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                error = None
                try:
                    status = http.get(base + path).status_code
                    error = None if status == 200 else f"HTTP {status}"
                except httpx.HTTPError as exc:
                    error = type(exc).__name__
                ms = (time.perf_counter() - started) * 1e3
                with lock:
                    results.append((kind, ms, error))

    if args.web_workers > 1 and args.web_server != "process":
        raise SystemExit("--web-workers needs --web-server process")
    with app_server(url, bundle, embedder, args.web_server, args.web_workers) as base:
        with httpx.Client(timeout=60) as http:  # warm: templates, connections, first queries
            for _, path in web_paths(people, np.random.default_rng(1), 6):
                http.get(base + path)
        started = time.monotonic()
        deadline = started + args.web_seconds
        threads = [threading.Thread(target=client, args=(base, 100 + i, deadline))
                   for i in range(args.clients)]  # fmt: skip
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    timings: dict[str, list[float]] = {}
    for kind, ms, _ in results:
        timings.setdefault(kind, []).append(ms)
    errors = [(kind, e) for kind, _, e in results if e]
    where = ("in a thread of the clients' process" if args.web_server == "thread"
             else f"`spotify-assets serve --workers {args.web_workers}` in its own process")  # fmt: skip
    report_latency(f"web app under {args.clients} concurrent clients ({elapsed:.0f} s, closed "
                   f"loop, no think time; the app {where}; {load()})", timings,
                   TARGET_WEB_P95_MS)  # fmt: skip
    print(f"  {len(results):,} requests, {len(results) / elapsed:.1f} requests/s; errors "
          f"{len(errors)} (target 0)  {'PASS' if not errors else 'FAIL'}"
          + (f": {sorted(set(errors))[:5]}" if errors else ""))  # fmt: skip


def schedule_finding(url: str, people: list[str]) -> None:
    """The `update` schedule's tick for these people against the real instance (dagster.yaml
    on the home's Postgres): runs submitted vs runs allowed at once; and one person's join
    refresh (the `play_features` step every update run does) as a lower bound of a run."""
    import dagster as dg

    from spotify_assets.cli.runtime import dagster_instance
    from spotify_assets.definitions import defs
    from spotify_assets.defs.listening.models import full_retrain_schedule
    from spotify_assets.defs.listening.predictions import update_schedule
    from spotify_assets.defs.partitions import ensure_person_partition
    from spotify_assets.defs.resources import DatabaseResource
    from spotify_assets.lib.listening.ingest import refresh_joins
    from spotify_assets.lib.store import Database

    at = datetime(2026, 1, 5, 12, 30, tzinfo=UTC)
    resources = {"database": DatabaseResource(url=url)}
    with dagster_instance() as instance:
        for person in people:  # as `import` does for each person
            ensure_person_partition(instance, person)
        config = instance.get_concurrency_config()
        ticks = {}
        for schedule in (update_schedule, full_retrain_schedule):
            with dg.build_schedule_context(instance=instance, scheduled_execution_time=at,
                                           resources=resources) as context:  # fmt: skip
                ticks[schedule.name] = list(schedule(context))
        coordinator = type(instance.run_coordinator).__name__
    queue = config.run_queue_config
    job = defs().resolve_job_def("update")
    pools = sorted({n.definition.pool for n in job.graph.nodes if n.definition.pool})
    requests = ticks["update_schedule"]
    tags = sorted({k for r in requests for k in (r.tags or {})})
    limited = [lim for lim in queue.tag_concurrency_limits or [] if lim.get("key") in tags]
    print(f"\nthe {SCHEDULE_MINUTES}-minute schedule for {len(people)} people (the instance "
          f"from dagster.yaml, {coordinator})")  # fmt: skip
    print(f"  run queue: max_concurrent_runs {queue.max_concurrent_runs}; tag concurrency "
          f"limits {queue.tag_concurrency_limits or 'none'}; pools default limit "
          f"{config.pool_config.default_pool_limit} (the update job's steps in pools: "
          f"{pools or 'none'})")  # fmt: skip
    print(f"  one update_schedule tick submits {len(requests)} runs (tags on them: "
          f"{tags or 'none'}; limits matching them: {limited or 'none'}); "
          f"full_retrain_schedule's daily tick {len(ticks['full_retrain_schedule'])} more")  # fmt: skip
    at_once = queue.max_concurrent_runs if queue.max_concurrent_runs >= 0 else len(requests)
    print(f"  -> {len(requests)} queued, {min(at_once, len(requests))} run at once: queued, "
          f"not flooded" if at_once < len(requests) else
          f"  -> all {len(requests)} may run at once: nothing queues them")  # fmt: skip
    db = Database(url)
    person = people[len(people) // 2]
    started = time.perf_counter()
    coverage = refresh_joins(db, person)
    seconds = time.perf_counter() - started
    drain = len(requests) / max(1, at_once) * seconds
    verdict = "drains within the interval" if drain < SCHEDULE_MINUTES * 60 else "GROWS every tick"
    print(f"  one run's join refresh (refresh_joins, {person}, {coverage.plays:,} plays): "
          f"{seconds:.1f} s -> a tick needs >= {drain / 60:.1f} min of queue time at "
          f"{at_once} at once vs {SCHEDULE_MINUTES} min between ticks: the queue {verdict} "
          "(a lower bound: each run also starts a process, predicts, checks drift and draws "
          "the dashboard)")  # fmt: skip


# -- the report -------------------------------------------------------------------------------


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def environment(db) -> None:
    from spotify_assets.lib.store.database import server_version, vector_extension

    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")  # fmt: skip
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    with db.connect() as conn:
        version = server_version(conn)
        vector = vector_extension(conn)
        buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
    print(f"machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GB; {load()}")
    print(f"Postgres {version}, pgvector {vector[1] if vector else 'absent'}, shared_buffers "
          f"{buffers}")  # fmt: skip


def sizes(db, bundle) -> dict[str, int]:
    """What the home holds, through the repositories' counts (and one split by source)."""
    from spotify_assets.lib.store.embeddings import EmbeddingRepository, index_name
    from spotify_assets.lib.store.listening import PlayRepository
    from spotify_assets.lib.store.matching import CandidateRepository
    from spotify_assets.lib.store.people import PersonRepository
    from spotify_assets.lib.store.playlists import PlaylistRepository
    from spotify_assets.lib.store.tracks import TrackRepository

    with db.connect() as conn:
        playlists, members = PlaylistRepository(conn).counts()
        by_source = dict(conn.execute(
            "SELECT source_format = 'library', count(*) FROM tracks GROUP BY 1").fetchall())  # fmt: skip
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        index = conn.execute("SELECT coalesce(pg_relation_size(to_regclass(%s)), 0)",
                             (index_name(bundle.hash),)).fetchone()[0]  # fmt: skip
        return {"tracks": TrackRepository(conn).count(), "catalog tracks": by_source.get(False, 0),
                "library tracks": by_source.get(True, 0),
                "vectors": EmbeddingRepository(conn).count(bundle.hash),
                "people": len(PersonRepository(conn).all()), "playlists": playlists,
                "playlist members": members, "liked + other lists": CandidateRepository(conn).count(),
                "plays": PlayRepository(conn).count(), "database MB": database // 2**20,
                "HNSW index MB": index // 2**20}  # fmt: skip


def analyze_tables(db) -> None:
    """Fresh planner statistics after the bulk build, as autovacuum would soon leave them."""
    with db.connect() as conn:
        for table in ("tracks", "track_embeddings", "track_search", "plays", "play_joins",
                      "candidates", "playlist_tracks"):  # fmt: skip
            conn.execute(f"ANALYZE {table}")


def build(db, bundle, args, state: State, home: Path) -> None:
    """Catalog (once), index (when asked first), then every person not imported yet."""
    real = load_real(args.seed, args.bases)
    bases = base_vectors(real, bundle, home)
    catalog = make_catalog(real, args.catalog, args.seed)
    if state.get("catalog") is None:
        print(f"\nbuilding the catalog: {args.catalog:,} tracks", flush=True)
        seconds = build_catalog(db, bundle, catalog, bases, args.noise, home)
        state.set("catalog", {"tracks": args.catalog, "seconds": seconds})
    if args.index_at == "catalog" and state.get("index") is None:
        state.set("index", build_index(db, bundle, args.index_memory))
        print(f"  HNSW index built in {state.get('index')['seconds']:.0f} s", flush=True)
    print(f"\nimporting {args.people} people (* the first and the last {LAST}: midpoint sizes)",
          flush=True)  # fmt: skip
    build_people(db, bundle, real, catalog, bases, args, state, home)
    if args.index_at == "end" and state.get("index") is None:
        state.set("index", build_index(db, bundle, args.index_memory))


def print_build(state: State) -> None:
    catalog = state.get("catalog") or {}
    print(f"\nbuild times (catalog of {catalog.get('tracks', 0):,} tracks):")
    for step, seconds in (catalog.get("seconds") or {}).items():
        print(f"  {step:<40} {seconds:8.1f} s")
    index = state.get("index")
    if index:
        how = (f"maintenance_work_mem raised from the project's 512MB to {index['memory']}: a "
               "user building an index this size should do the same, or the graph spills out "
               "of memory and the build slows down" if index["raised"]
               else f"maintenance_work_mem {index['memory']} (use_index_build_memory)")  # fmt: skip
        how += f"; {index['workers']} parallel maintenance workers allowed"
        print(f"  {'HNSW index (ensure_index)':<40} {index['seconds']:8.1f} s for "
              f"{index['vectors']:,} vectors; {how}")  # fmt: skip
        for notice in index["notices"]:
            print(f"    pgvector: {notice}")


def main() -> int:
    args = parse_args()
    if not TIDY.exists():
        print(f"skipped: {TIDY} is absent (needs ../shared/data)")
        return 0
    home = prepare_home(args)
    state = State(home)
    if args.reuse and not state.get("imports"):
        print(f"error: --reuse, but {home} holds no build", file=sys.stderr)
        return 2
    built = (state.get("catalog") or {}).get("tracks")
    if not args.reuse and built not in (None, args.catalog):
        print(f"error: {home} holds a catalog of {built:,} tracks, not {args.catalog:,}: "
              "pass --catalog {built} to resume it, or another --home", file=sys.stderr)  # fmt: skip
        return 2
    if not args.reuse and not args.build_only:
        # The build runs in a child: its exit stops the embedded server, so the measurements run
        # on a server started afresh, under the settings `apply_settings` wrote at its first
        # start (shared_buffers applies from the next start).
        child = [sys.executable, __file__, *sys.argv[1:], "--build-only", "--home", str(home)]
        if code := subprocess.run(child, check=False).returncode:
            return code
        print("\nmeasuring in a new process (the embedded server started again)", flush=True)

    from spotify_assets.cli.runtime import query_embedder
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.store import Database, resolve_database_url
    from spotify_assets.lib.store.people import PersonRepository

    bundle = load_bundles().default_bundle
    url = resolve_database_url()
    db = Database(url)
    print(f"home {home}; bundle {bundle.name} ({bundle.embedding.model}, "
          f"{bundle.embedding.dims} dims)")  # fmt: skip
    environment(db)
    if args.build_only or args.reuse:
        if not args.reuse:
            build(db, bundle, args, state, home)
        print_build(state)
        print("\nsizes: " + ", ".join(f"{k} {v:,}" for k, v in sizes(db, bundle).items()))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"peak memory of this process: {peak:.1f} GB")
        import_figures(state.get("imports", {}))
    if args.build_only:
        return 0

    analyze_tables(db)
    from spotify_assets.cli.serve import one_blas_thread, settle_heap

    one_blas_thread()  # this process searches as `serve` does, set up as it is
    warm = Database(url, keep_open=True)
    embedder = query_embedder(bundle)
    embedder.embed(["warm up"], "query")
    settle_heap()
    with warm.connect() as conn:
        people = PersonRepository(conn).all()
    measure_search(warm, bundle, embedder, people, args)
    measure_web(url, bundle, embedder, people, args)
    schedule_finding(url, people)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
