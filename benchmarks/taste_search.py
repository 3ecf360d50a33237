"""Taste search ("<genre> songs I like") on real people's libraries, against four baselines.

Needs a home where the TidyTuesday catalog and the people's exports are imported and embedded
(`spotify-assets catalog …`, `spotify-assets import EXPORT --user e`). Per person and seed: a
quarter of their liked songs that are in the catalog with a genre are held out (test); the
reference set is the rest of their liked songs (library songs without features included). For
each genre with ≥ 3 held-out songs, the query "<genre> songs I like" should find them.

The blend (k nearest reference songs, profile weight, audio weight) is chosen on a validation
split carved from the non-test songs (a quarter of them held out, the rest as reference), never
on the test split. Baselines, on the same candidates (the filters the query's words give) with
the reference songs left out: (a) by popularity, (c) by semantic score of the style words
"<genre> songs", (d) random; and (b) semantic-only "<genre> songs" over the whole catalog.

    SPOTIFY_ASSETS_HOME=… HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/taste_search.py \
        [--users e f] [--seeds 7 42]
"""

from __future__ import annotations

import argparse
import itertools
import platform
from collections import defaultdict

import numpy as np

from spotify_assets.lib.metrics import ndcg_at_k, recall_at_k
from spotify_assets.lib.search.engine import search_vectors
from spotify_assets.lib.search.service import known_genres
from spotify_assets.lib.search.taste import TasteConfig, taste_scores
from spotify_assets.lib.search.taste_service import gather, rank
from spotify_assets.lib.store.taste import TasteRepository

GRID = [
    TasteConfig(k, w, a, p)
    for k, w, a, p in itertools.product(
        (1, 3, 10, 30), (0.5, 0.7, 0.85, 1.0), (0.0, 0.3), (0.0, 0.3, 0.6)
    )
]
METHODS = ("taste (val-chosen)", "taste (default)", "a: filters by popularity",
           "b: semantic only", "c: filters + semantic", "d: random in filters")  # fmt: skip


def mrr(ranked: list[str], relevant: set[str]) -> float:
    return next((1 / i for i, t in enumerate(ranked, start=1) if t in relevant), 0.0)


def metrics(ranked: list[str], relevant: set[str]) -> np.ndarray:
    return np.array([recall_at_k(ranked, relevant, 50), ndcg_at_k(ranked, relevant, 10),
                     mrr(ranked, relevant)])  # fmt: skip


def split(ids: list[str], share: float, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    chosen = set(rng.choice(len(ids), size=round(share * len(ids)), replace=False).tolist())
    return [t for i, t in enumerate(ids) if i in chosen], [
        t for i, t in enumerate(ids) if i not in chosen
    ]


def queries(held: list[str], genres_of: dict[str, list[str]]) -> dict[str, set[str]]:
    """genre → held-out songs of that genre, for genres with at least 3."""
    by_genre: dict[str, set[str]] = defaultdict(set)
    for t in held:
        for g in genres_of[t]:
            by_genre[g].add(t)
    return {g: ts for g, ts in sorted(by_genre.items()) if len(ts) >= 3}


def taste_ranking(pool, config: TasteConfig) -> list[str]:
    return [h.hit.track_id for h in rank(pool, config, max(1, len(pool.found))).hits]


def quick_ranking(pool, config: TasteConfig, popularity: np.ndarray) -> list[str]:
    """The same scores as `rank`, without building hits (for the validation grid)."""
    style = np.array([h.score for h in pool.found])
    scores = taste_scores(pool.vectors, style, pool.ref_vectors, config, *pool.audio, popularity,
                          pool.population)  # fmt: skip
    return [pool.found[i].track_id for i in np.argsort(-scores.score, kind="stable")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", nargs="+", default=["e", "f"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[7, 42])
    args = parser.parse_args()

    from spotify_assets.cli.runtime import resources

    print(f"CPU: {platform.processor() or platform.machine()}")
    with resources("database", "compute") as r:
        db = r.database.get()
        from spotify_assets.lib.bundles import load_bundles

        bundle = load_bundles().default_bundle
        embedder = r.compute.embedder(bundle)
        genres = known_genres(db)
        for user in args.users:
            with db.connect() as conn:
                liked = TasteRepository(conn).liked(user)
                rows = conn.execute(
                    """SELECT t.track_id, t.genres FROM tracks t JOIN track_embeddings e
                         ON e.track_id = t.track_id AND e.bundle_hash = %s
                       WHERE t.track_id = ANY(%s) AND cardinality(t.genres) > 0""",
                    (bundle.hash, liked),
                ).fetchall()
            genres_of = {t: [g.lower() for g in gs] for t, gs in rows}
            eligible = [t for t in liked if t in genres_of]
            print(f"\nuser {user}: {len(liked):,} liked songs, {len(eligible):,} in the catalog "
                  "with a genre")  # fmt: skip
            for seed in args.seeds:
                rng = np.random.default_rng(seed)
                test, rest = split(eligible, 0.25, rng)
                val, _ = split(rest, 0.25, rng)
                # validation: reference = liked minus test and validation songs
                val_ref = [t for t in liked if t not in set(test) | set(val)]
                val_q = queries(val, genres_of)
                totals = np.zeros(len(GRID))
                for genre, relevant in val_q.items():
                    pool = gather(db, bundle, embedder, f"{genre} songs I like", user,
                                  genres=genres, references=val_ref, audio=True)  # fmt: skip
                    popularity = np.array(
                        [h.details.get("popularity") for h in pool.found], dtype=float
                    )
                    for i, config in enumerate(GRID):
                        m = metrics(quick_ranking(pool, config, popularity), relevant)
                        totals[i] += m.sum()
                chosen = GRID[int(np.argmax(totals))] if val_q else TasteConfig()
                test_ref = [t for t in liked if t not in set(test)]
                test_q = queries(test, genres_of)
                print(f"  seed {seed}: {len(test)} held out, {len(test_q)} test queries "
                      f"({', '.join(f'{g} {len(ts)}' for g, ts in test_q.items())}); "
                      f"{len(val_q)} validation queries → k={chosen.k}, "
                      f"profile weight {chosen.profile_weight}, audio weight {chosen.audio_weight}, "
                      f"popularity weight {chosen.popularity_weight}")  # fmt: skip
                scores = {m: np.zeros(3) for m in METHODS}
                for genre, relevant in test_q.items():
                    pool = gather(db, bundle, embedder, f"{genre} songs I like", user,
                                  genres=genres, references=test_ref, audio=True)  # fmt: skip
                    found = [h.track_id for h in pool.found]
                    popular = sorted(pool.found, key=lambda h: -(h.details.get("popularity") or -1))
                    shuffled = list(found)
                    np.random.default_rng(seed).shuffle(shuffled)
                    with db.connect() as conn:
                        vector = embedder.embed([f"{genre} songs"], "query")[0]
                        hits, _ = search_vectors(conn, bundle.hash, bundle.embedding.dims,
                                                 vector, (), 500 + len(test_ref))  # fmt: skip
                    semantic = [h.track_id for h in hits if h.track_id not in set(test_ref)]
                    rankings = {
                        METHODS[0]: taste_ranking(pool, chosen),
                        METHODS[1]: taste_ranking(pool, TasteConfig()),
                        METHODS[2]: [h.track_id for h in popular],
                        METHODS[3]: semantic,
                        METHODS[4]: found,
                        METHODS[5]: shuffled,
                    }
                    for method, ranked in rankings.items():
                        scores[method] += metrics(ranked, relevant)
                    kept = len(relevant & set(found))
                    print(f"    {genre:<6} candidates {len(found):>5,}, relevant {len(relevant)} "
                          f"({kept} pass the understood filters)")  # fmt: skip
                print(f"    {'method':<24}{'Recall@50':>10}{'NDCG@10':>9}{'MRR':>7}")
                for method, total in scores.items():
                    mean = total / max(1, len(test_q))
                    print(f"    {method:<24}{mean[0]:>10.3f}{mean[1]:>9.3f}{mean[2]:>7.3f}")


if __name__ == "__main__":
    main()
