"""Offline search evaluation against ground truth the catalog itself provides.

Two suites:
- constraints: queries whose relevant set is defined by features or genre ("sad songs with
  fast tempo" ↔ valence < 0.3 and tempo > 140); P@10 and NDCG@10, semantic-only and hybrid.
- playlists: each playlist's name is a query and its members are relevant (TidyTuesday);
  NDCG@10 and Recall@100 next to a popularity and a random baseline from the same run.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from statistics import mean

import pandas as pd

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.metrics import ndcg_at_k, precision_at_k, recall_at_k
from spotify_assets.lib.search.engine import search_vectors
from spotify_assets.lib.search.filters import Filter, matching_ids, parse_query
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.search import SearchRepository

log = logging.getLogger(__name__)

CONSTRAINT_QUERIES: list[tuple[str, list[Filter]]] = [
    ("sad songs with fast tempo", [Filter("valence", "<", 0.3), Filter("tempo", ">", 140)]),
    ("acoustic songs", [Filter("acousticness", ">", 0.7)]),
    ("instrumental music", [Filter("instrumentalness", ">", 0.5)]),
    ("high energy songs", [Filter("energy", ">", 0.8)]),
    ("happy songs", [Filter("valence", ">", 0.75)]),
    ("slow calm songs", [Filter("tempo", "<", 100), Filter("energy", "<", 0.4)]),
    ("rap with spoken vocals", [Filter("speechiness", ">", 0.33)]),
]
FEATURES = ["track_id", "genre", "valence", "tempo", "acousticness", "instrumentalness",
            "energy", "speechiness", "popularity", "genres"]  # fmt: skip


def evaluate_search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    max_genres: int = 10,
    max_playlists: int | None = None,
    progress: Callable[[str], None] = log.info,
) -> dict[str, dict]:
    """{suite: {metric: value, ..., "queries": [...]}} for one bundle."""
    dims = bundle.embedding.dims
    with db.connect() as conn:
        repo = SearchRepository(conn)
        tracks = pd.DataFrame(repo.ground_truth_tracks(bundle.hash), columns=FEATURES)
        playlists = repo.ground_truth_playlists(bundle.hash)
    genres = tracks["genres"].explode().dropna().value_counts().index[:max_genres].tolist()
    queries = CONSTRAINT_QUERIES + [(f"{g} songs", [Filter("genre", "=", g)]) for g in genres]
    results: dict[str, dict] = {}

    rows = []
    with db.connect() as conn:
        for text, truth in queries:
            relevant = matching_ids(tracks, truth)
            if len(relevant) < 10:
                continue
            vector = embedder.embed([text], "query")[0]
            semantic, _ = search_vectors(conn, bundle.hash, dims, vector, [], 10)
            hybrid_filters = parse_query(text, genres)
            hybrid, _ = search_vectors(conn, bundle.hash, dims, vector, hybrid_filters, 10)
            ranked_s = [h.track_id for h in semantic]
            ranked_h = [h.track_id for h in hybrid]
            rows.append(
                {
                    "query": text,
                    "relevant": len(relevant),
                    "semantic_p@10": precision_at_k(ranked_s, relevant, 10),
                    "semantic_ndcg@10": ndcg_at_k(ranked_s, relevant, 10),
                    "hybrid_p@10": precision_at_k(ranked_h, relevant, 10),
                    "hybrid_ndcg@10": ndcg_at_k(ranked_h, relevant, 10),
                    "random_p@10": len(relevant) / len(tracks),
                }
            )
    if rows:
        summary = {k: mean(r[k] for r in rows) for k in rows[0] if k not in ("query", "relevant")}
        results["constraints"] = {**summary, "queries": rows}
        progress(f"search_evaluation constraints: {len(rows)} queries, {summary}")

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
