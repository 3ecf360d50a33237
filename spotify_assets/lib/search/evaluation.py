"""Offline search evaluation against ground truth the catalog itself provides.

Two suites:
- suite: natural queries grouped in classes, relevance from audio features and genres
  (lib/search/suite.py); P@10 and NDCG@10, hybrid vs semantic-only vs a random list.
- playlists: each playlist's name is a query and its members are relevant (TidyTuesday);
  NDCG@10 and Recall@100 next to a popularity and a random baseline from the same run.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from statistics import mean

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.metrics import ndcg_at_k, recall_at_k
from spotify_assets.lib.search.engine import search_vectors
from spotify_assets.lib.search.suite import ground_truth, run_suite
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.search import SearchRepository

log = logging.getLogger(__name__)


def evaluate_search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    max_genres: int = 10,
    max_playlists: int | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict[str, dict]:
    """{suite: {metric: value, ..., "queries": [...]}} for one bundle. `max_genres`: also ask
    for the catalog's most common genres by name (typed with spaces)."""
    dims = bundle.embedding.dims
    tracks = ground_truth(db, bundle)
    with db.connect() as conn:
        playlists = SearchRepository(conn).ground_truth_playlists(bundle.hash)
    results: dict[str, dict] = {}

    report = run_suite(db, bundle, embedder, max_catalog_genres=max_genres)
    if report.rows:
        summary = report.summary()
        classes = report.by_class().round(4).reset_index().to_dict(orient="records")
        results["suite"] = {**summary, "classes": classes, "queries": report.rows}
        progress(f"search_evaluation suite: {len(report.rows)} queries, {summary}")

    if max_playlists is not None:
        playlists = playlists[:max_playlists]
    if playlists:
        popular = tracks.sort_values(["popularity", "track_id"], ascending=[False, True])
        popular_ids = popular["track_id"].tolist()[:100]
        rng = random.Random(7)
        all_ids = tracks["track_id"].tolist()
        per_query = []
        with db.connect() as conn:
            for name, members in playlists:
                relevant = set(members)
                vector = embedder.embed([name], "query")[0]
                hits, _ = search_vectors(conn, bundle.hash, dims, vector, [], 100)
                ranked = [h.track_id for h in hits]
                random_ids = rng.sample(all_ids, min(100, len(all_ids)))
                per_query.append(
                    {
                        "query": name,
                        "members": len(relevant),
                        "ndcg@10": ndcg_at_k(ranked, relevant, 10),
                        "recall@100": recall_at_k(ranked, relevant, 100),
                        "popularity_ndcg@10": ndcg_at_k(popular_ids, relevant, 10),
                        "popularity_recall@100": recall_at_k(popular_ids, relevant, 100),
                        "random_ndcg@10": ndcg_at_k(random_ids, relevant, 10),
                        "random_recall@100": recall_at_k(random_ids, relevant, 100),
                    }
                )
        summary = {
            k: mean(r[k] for r in per_query) for k in per_query[0] if k not in ("query", "members")
        }
        results["playlists"] = {**summary, "playlists": len(per_query), "queries": per_query[:50]}
        progress(f"search_evaluation playlists: {len(per_query)} playlists, {summary}")
    return results
