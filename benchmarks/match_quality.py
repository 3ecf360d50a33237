"""Matching quality on a catalog with playlists (TidyTuesday by default), one harness run.

Loads the catalog into the database (DATABASE_URL, else the embedded one), brings analyses,
embeddings, emotions and playlist profiles up to date for the bundle (all reused when
present), then runs the evaluation harness (25% of each playlist with >= 8 members held
out) and prints every system and baseline, overall and within subgenre.

    .venv/bin/python benchmarks/match_quality.py [--catalog PATH] [--bundle NAME] [--seed 42]
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
from spotify_assets.lib.emotions.update import update_track_emotions
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.models.emotions import load_emotion_model
from spotify_assets.lib.playlists.update import update_playlist_profiles
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.store import Database, resolve_database_url

TIDYTUESDAY = Path(__file__).resolve().parents[2] / "shared/data/tidytuesday/spotify_songs.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=str(TIDYTUESDAY))
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--negatives", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    db = Database(resolve_database_url())
    load_catalog(db, args.catalog)
    update_track_analyses(db)
    embedder = load_embedder(bundle.embedding, "cpu", "fp32")
    update_track_embeddings(db, bundle, embedder, batch_size=1024)
    emotions = load_emotion_model(bundle.emotion, embedder)
    if emotions is not None:
        update_track_emotions(db, bundle, emotions)
    profiles = update_playlist_profiles(db, bundle, embedder, owner=None)
    print(f"playlist_profiles: {profiles.as_dict()}")

    started = time.perf_counter()
    with db.connect() as conn:
        world = load_world(conn, bundle, None, None)
    frame = world.playlists.playlists
    inputs = EvalInputs(
        world.tracks, world.playlist_ids, frame["name"].tolist(), frame["description"].tolist(),
        frame["subgenre"].tolist(), world.members, world.profiles.name_vectors,
    )  # fmt: skip
    result = evaluate_matching(
        inputs, MatchConfig(), seed=args.seed, negatives=args.negatives, log=print
    )
    table = pd.DataFrame(result.table()).set_index("system")
    metrics = ("mrr", "recall@1", "recall@5", "ndcg@10", "recall@10")
    order = [c for m in metrics for c in (m, f"{m}_subgenre") if c in table]
    pd.set_option("display.width", 200)
    print(f"\n{bundle.name} ({bundle.hash}) on {args.catalog}, seed {args.seed}:")
    print(table[order].round(4).to_string())
    print(result.details)
    best = max(
        table.loc[b, "ndcg@10"] for b in ("baseline_popular", "baseline_genre", "baseline_audio")
    )
    final = table.loc["ranker" if "ranker" in table.index else "stage1", "ndcg@10"]
    print(
        f"\nNDCG@10: full system {final:.4f} vs best baseline {best:.4f} "
        f"({100 * (final - best):+.1f} points; target >= +10); stage 2 adds "
        f"{100 * (final - table.loc['stage1', 'ndcg@10']):+.1f} points over stage 1 (target >= +3)"
    )
    print(f"harness time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
