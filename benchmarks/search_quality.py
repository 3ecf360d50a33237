"""Search quality against the truth: the query suite (lib/search/suite.py) on real catalogs.

Each catalog is loaded into its own database of the embedded server (SPOTIFY_ASSETS_HOME, or
DATABASE_URL's server), described and embedded with the default bundle (the real MiniLM; all
reused when present), then every suite query runs through the search service twice: hybrid
(query understanding on) and semantic-only (`--no-understand`). Prints P@10 and NDCG@10 per
query class and overall next to a random list's expected P@10 (the class's base rate).

    HF_HUB_OFFLINE=1 SPOTIFY_ASSETS_HOME=/tmp/x .venv/bin/python benchmarks/search_quality.py \
        [--catalog tidytuesday=PATH] [--catalog kaggle_sample=PATH] [--queries] [--sample N] \
        [--suite main|blind|both]

`--suite blind` runs the held-out suite (lib/search/suite_blind.py), written without seeing the
parser, to show how far the main suite's figures generalise.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.search.suite import INTENTS, run_suite
from spotify_assets.lib.search.suite_blind import BLIND_INTENTS
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.embeddings import EmbeddingRepository

DATA = Path(__file__).resolve().parents[2] / "shared/data"
CATALOGS = {
    "tidytuesday": DATA / "tidytuesday/spotify_songs.parquet",
    "kaggle_sample": DATA / "kaggle_114k/sample_music_dataset.csv",
}
SUITES = {"main": INTENTS, "blind": BLIND_INTENTS}
quiet = lambda _: None  # noqa: E731


def prepare(name: str, path: Path, bundle, embedder, sample: int | None = None) -> Database:
    """The catalog in its own database, embedded and indexed (everything reused when present).
    `sample`: embed only the first `sample` track ids in sorted order (Spotify ids are random,
    so that is a uniform sample); search and relevance then cover just those tracks."""
    db = Database(resolve_database_url(dbname=f"search_quality_{name}"))
    load_catalog(db, path)
    update_track_analyses(db, progress=quiet)
    only = None
    if sample:
        with db.connect() as conn:
            only = sorted(AnalysisRepository(conn).texts()["track_id"])[:sample]
    update_track_embeddings(db, bundle, embedder, batch_size=256, progress=quiet, only=only)
    with db.connect() as conn:
        repo = EmbeddingRepository(conn)
        repo.sync_filter_columns(bundle.hash)
        repo.ensure_index(bundle.hash, bundle.embedding.dims)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", action="append", default=[], help="name=PATH")
    parser.add_argument("--queries", action="store_true", help="print every query's figures")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument(
        "--sample", type=int, default=None, help="embed only this many tracks of each catalog"
    )
    parser.add_argument("--suite", choices=[*SUITES, "both"], default="main")
    parser.add_argument("--bundle", default=None,
                        help="a bundle by name (a fine-tuned one: registered under this home)")  # fmt: skip
    parser.add_argument("--compare", default=None, metavar="BUNDLE",
                        help="also run BUNDLE and print the gate's search half (paired "
                             "hybrid NDCG@10 per phrasing, bootstrap CI) vs --bundle")  # fmt: skip
    args = parser.parse_args()
    suites = list(SUITES) if args.suite == "both" else [args.suite]
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    catalogs = dict(c.split("=", 1) for c in args.catalog) or CATALOGS
    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    embedder = load_embedder(bundle.embedding, "cpu", "fp32")
    pd.set_option("display.width", 200)
    for name, path in catalogs.items():
        if not Path(path).exists():
            print(f"{name}: {path} is absent, skipped")
            continue
        started = time.perf_counter()
        db = prepare(name, Path(path), bundle, embedder, args.sample)
        print(f"\n{name}: loaded and embedded in {time.perf_counter() - started:.0f}s")
        if args.prepare_only:
            continue
        other = None
        if args.compare:
            other = bundles.by_name(args.compare)
            other_embedder = load_embedder(other.embedding, "cpu", "fp32")
            prepare(name, Path(path), other, other_embedder, args.sample)
        for suite in suites:
            reports = {}
            pairs = [(bundle, embedder)] + ([(other, other_embedder)] if other else [])
            for which, which_embedder in pairs:
                started = time.perf_counter()
                report = run_suite(db, which, which_embedder, intents=SUITES[suite])
                reports[which.name] = report
                print(f"{name} ({path}), {report.tracks:,} tracks, {which.name}, {suite} suite:")
                print(report.by_class().round(3).to_string())
                if args.queries:
                    print(report.frame().round(3).to_string())
                print(f"skipped (fewer than {report.min_relevant} relevant tracks): "
                      f"{report.skipped}")  # fmt: skip
                print(f"suite time {time.perf_counter() - started:.0f}s")
            if other:
                from spotify_assets.lib.finetune.gate import decide, paired
                from spotify_assets.lib.finetune.promotion import search_scores

                for metric in (
                    "hybrid_p@10",
                    "hybrid_ndcg@10",
                    "semantic_p@10",
                    "semantic_ndcg@10",
                ):
                    scores = paired(search_scores(reports[bundle.name], metric),
                                    search_scores(reports[other.name], metric))  # fmt: skip
                    print(f"{other.name} vs {bundle.name}, {suite} suite: "
                          f"{decide({f'search {metric}': scores}).reason}")  # fmt: skip


if __name__ == "__main__":
    main()
