"""Filtered vector search on ≥ 20,000 vectors in the real Postgres + pgvector."""

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.bundles import EmbeddingSpec, ModelBundle
from spotify_assets.lib.search import Filter, search_vectors
from spotify_assets.lib.search.filters import matching_ids
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository

N, DIMS = 20_000, 64
BUNDLE = ModelBundle("synthetic", EmbeddingSpec(model="synthetic/clusters", dims=DIMS))


@pytest.fixture(scope="module")
def corpus(server_url):
    return build_corpus(server_url)


def build_corpus(server_url: str, name: str = "t_search_corpus"):
    """20,000 clustered unit vectors with feature columns, indexed like a real bundle."""
    import psycopg

    from spotify_assets.lib.store import Database
    from spotify_assets.lib.store.server import with_database

    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(with_database(server_url, name))
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(50, DIMS))
    vectors = centers[rng.integers(0, 50, N)] + rng.normal(scale=0.6, size=(N, DIMS))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    ids = [f"t{i:06d}" for i in range(N)]
    tracks = pd.DataFrame(
        {
            "track_id": ids,
            "name": [f"Track {i}" for i in range(N)],
            "genre": np.where(rng.random(N) < 0.01, "polka", "pop"),  # 1%
            "tempo": rng.uniform(60, 200, N).round(2),
            "valence": rng.random(N).round(4),  # valence < 0.1 keeps 10%
            "source_format": "synthetic",
            "source_file": "-",
            "row_hash": ids,
        }
    )
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(BUNDLE)
        repo.upsert(BUNDLE, tracks.assign(content_hash=ids), vectors)
        conn.commit()
        conn.execute("SET maintenance_work_mem = '256MB'")
        repo.ensure_index(BUNDLE.hash, DIMS)
    # queries land near the data, as text queries land near track descriptions
    queries = vectors[rng.integers(0, N, 20)] + rng.normal(scale=0.05, size=(20, DIMS))
    return db, tracks, vectors, queries.astype(np.float32)


def recall(db, queries, filters, strategy, **kwargs):
    scores = []
    with db.connect() as conn:
        for q in queries:
            q = q / np.linalg.norm(q)
            exact, _ = search_vectors(conn, BUNDLE.hash, DIMS, q, filters, 10, strategy="exact")
            got, plan = search_vectors(
                conn, BUNDLE.hash, DIMS, q, filters, 10, strategy=strategy, **kwargs
            )
            truth = {h.track_id for h in exact}
            scores.append(len(truth & {h.track_id for h in got}) / len(truth))
    return float(np.mean(scores)), plan


def test_exact_search_is_really_exact(corpus):
    db, tracks, vectors, queries = corpus
    q = queries[0] / np.linalg.norm(queries[0])
    with db.connect() as conn:
        hits, plan = search_vectors(conn, BUNDLE.hash, DIMS, q, [Filter("genre", "=", "polka")], 10)
    mask = (tracks.genre == "polka").to_numpy()
    scores = vectors[mask] @ q
    expected = tracks.track_id[mask].to_numpy()[np.argsort(-scores)[:10]]
    assert plan.strategy == "exact"
    assert [h.track_id for h in hits] == list(expected)
    assert np.allclose([h.score for h in hits], np.sort(scores)[::-1][:10], atol=1e-4)


@pytest.mark.parametrize(
    ("filters", "share"),
    [([Filter("genre", "=", "polka")], 0.01), ([Filter("valence", "<", 0.1)], 0.10)],
    ids=["1%", "10%"],
)
def test_filtered_recall_against_exact(corpus, filters, share):
    db, tracks, _, queries = corpus
    assert abs(len(matching_ids(tracks, filters)) / N - share) < 0.01
    auto, plan = recall(db, queries, filters, "auto")
    assert auto >= 0.95, plan
    assert not plan.estimated and plan.filtered_rows == len(matching_ids(tracks, filters))
    # Past the exact threshold (here forced low) 10% goes to HNSW with over-fetch and keeps
    # recall; at 1% even ef_search=1000 finds only ~10 matches, which is why auto goes exact.
    hnsw, plan = recall(db, queries, filters, "auto", exact_threshold=100)
    # beyond the threshold the planner's estimate decides (a count reads every kept row)
    assert plan.estimated and abs(plan.filtered_rows / (share * N) - 1) < 0.25, plan
    assert plan.kept().startswith("≈")
    if share >= 0.1:
        assert plan.strategy == "hnsw" and plan.ef_search >= 400
        assert hnsw >= 0.95, plan
    else:
        assert plan.strategy in ("hnsw", "hnsw→exact")


def test_unfiltered_search_uses_hnsw_with_good_recall(corpus):
    db, _, _, queries = corpus
    score, plan = recall(db, queries, [], "auto", exact_threshold=1000)
    assert plan.strategy == "hnsw" and score >= 0.95


@pytest.mark.parametrize(
    "value", ["x'; DROP TABLE tracks; --", "pop' OR '1'='1", "'); DELETE FROM track_embeddings; --"]
)
def test_injection_strings_in_filter_values_are_inert(corpus, value):
    db, _, _, queries = corpus
    with db.connect() as conn:
        hits, _ = search_vectors(
            conn,
            BUNDLE.hash,
            DIMS,
            queries[1] / np.linalg.norm(queries[1]),
            [Filter("genre", "=", value)],
            10,
        )
        assert hits == []
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == N
        assert conn.execute("SELECT count(*) FROM track_embeddings").fetchone()[0] == N


GENRES = {"a": "rap;pop rap", "b": "Pop Rap", "c": "rap", "d": "pop", "e": None, "f": "trap"}


@pytest.fixture
def genre_catalog(db):
    """Six tracks, some with several genres, embedded under a 4-dim bundle."""
    ids = list(GENRES)
    tracks = pd.DataFrame(
        {
            "track_id": ids,
            "name": ids,
            "genre": list(GENRES.values()),
            "source_format": "synthetic",
            "source_file": "-",
            "row_hash": ids,
        }
    )
    small = ModelBundle("genres", EmbeddingSpec(model="synthetic/genres", dims=4))
    vectors = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]]
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(small)
        repo.upsert(small, tracks.assign(content_hash=ids), vectors)
    return db, small, tracks


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("genre='rap'", {"a", "c"}),  # "rap;pop rap" has rap; "trap" is not rap
        ("genre='POP RAP'", {"a", "b"}),  # any element, case-insensitive
        ("genre='pop'", {"d"}),  # a whole genre, not part of "pop rap"
        ("genre!='rap'", {"b", "d", "f"}),  # a track without genres is neither
        ("genre='rap;pop rap'", set()),  # the joined text is not a genre
    ],
)
def test_a_genre_filter_matches_any_of_a_track_s_genres(genre_catalog, where, expected):
    from spotify_assets.lib.search import parse_where
    from spotify_assets.lib.search.engine import filtered_tracks
    from spotify_assets.lib.search.explain import count_matching

    db, small, tracks = genre_catalog
    filters = parse_where(where)
    with db.connect() as conn:
        hits, _ = filtered_tracks(conn, small.hash, filters, limit=10)
        exact, _ = search_vectors(conn, small.hash, 4, np.eye(4)[0], filters, 10, strategy="exact")
        assert count_matching(conn, small.hash, filters) == len(expected)
    assert {h.track_id for h in hits} == {h.track_id for h in exact} == expected
    assert matching_ids(tracks, filters) == expected  # the pandas mirror agrees


def test_an_empty_genre_result_lists_each_genre_once(genre_catalog):
    from spotify_assets.lib.search import parse_where
    from spotify_assets.lib.search.explain import explain_empty

    db, small, _ = genre_catalog
    with db.connect() as conn:
        why = explain_empty(conn, small.hash, parse_where("genre='jazz'"))
    assert why == (
        "no track has genre = 'jazz' (genre values in this catalog: pop, pop rap, rap, trap)"
    )


def _exact_except(db, q, count, exclude):
    with db.connect() as conn:
        hits, _ = search_vectors(conn, BUNDLE.hash, DIMS, q, [], count + len(exclude),
                                 strategy="exact")  # fmt: skip
    return [h.track_id for h in hits if h.track_id not in exclude][:count]


def test_nearest_except_leaves_out_the_excluded_as_an_exact_search_would(corpus, monkeypatch):
    """A person's own songs are left out of taste candidates: through HNSW (the most ef_search
    allows) when enough remain, by scanning when the excluded crowd the neighbourhood."""
    from spotify_assets.lib.search import engine

    db, _, _, queries = corpus
    q = queries[1] / np.linalg.norm(queries[1])
    everything = _exact_except(db, q, 2000, set())
    with db.connect() as conn:  # 20,000 vectors: within the exact threshold
        exclude = set(everything[:300:2])
        hits, plan = engine.nearest_except(conn, BUNDLE.hash, DIMS, q, [], 200, exclude)
        assert plan.strategy == "exact"
        assert [h.track_id for h in hits] == _exact_except(db, q, 200, exclude)
        assert [h.rank for h in hits] == list(range(1, 201)) and hits[0].details["name"]

        monkeypatch.setattr(engine, "EXACT_THRESHOLD", 1000)  # the catalog is "large" now
        hits, plan = engine.nearest_except(conn, BUNDLE.hash, DIMS, q, [], 200, exclude)
        assert plan.strategy == "hnsw" and len(hits) == 200
        assert not exclude & {h.track_id for h in hits}
        truth = set(_exact_except(db, q, 200, exclude))
        assert len(truth & {h.track_id for h in hits}) / 200 >= 0.9
        # each hit carries the vector the index led to: the stored one
        stored = engine.vectors_of(conn, BUNDLE.hash, DIMS, [h.track_id for h in hits])
        assert np.array_equal(np.stack([h.vector for h in hits]), stored)
        assert np.allclose(np.einsum("ij,j->i", stored, q) / np.linalg.norm(stored, axis=1),
                           [h.score for h in hits], atol=1e-5)  # fmt: skip

        crowd = set(everything[:950])  # the excluded fill what HNSW can return
        hits, plan = engine.nearest_except(conn, BUNDLE.hash, DIMS, q, [], 200, crowd)
        assert plan.strategy == "hnsw→exact"
        assert [h.track_id for h in hits] == _exact_except(db, q, 200, crowd)

        with pytest.raises(KeyError):
            engine.vectors_of(conn, BUNDLE.hash, DIMS, [hits[0].track_id, "not-a-track"])
        odd = {t for t in everything if int(t[1:]) % 2}  # `keep` refuses by details
        hits, _ = engine.nearest_except(conn, BUNDLE.hash, DIMS, q, [], 50, set(),
                                        keep=lambda d: int(d["name"].split()[1]) % 2 == 0)  # fmt: skip
        assert len(hits) == 50 and not odd & {h.track_id for h in hits}


def test_filtered_vectors_rank_as_an_exact_search_does(corpus):
    """A genre's rows read once (vectors in one value) and ranked in numpy: the same tracks in
    the same order as the exact search, the excluded left out."""
    from spotify_assets.lib.search import engine

    db, tracks, vectors, queries = corpus
    filters = [Filter("valence", "<", 0.1)]
    q = queries[4] / np.linalg.norm(queries[4])
    with db.connect() as conn:
        rows = engine.filtered_vectors(conn, BUNDLE.hash, DIMS, filters)
        exact, _ = search_vectors(conn, BUNDLE.hash, DIMS, q, filters, 120, strategy="exact")
    assert sorted(rows.track_ids) == sorted(matching_ids(tracks, filters))
    by_id = dict(zip(tracks.track_id, vectors, strict=True))
    assert np.allclose(rows.vectors[:5], np.stack([by_id[t] for t in rows.track_ids[:5]]), atol=1e-6)
    ranked = [h.track_id for h in exact]
    exclude = set(ranked[:40:3])
    got = [rows.track_ids[i] for i in rows.nearest(q, 60, exclude)]
    assert got == [t for t in ranked if t not in exclude][:60]
    # ids not in the set are ignored; the similarity given is the one computed
    with_unknown = [*exclude, "not-a-track"]
    assert len(rows.rows_of(with_unknown)) == len(exclude)
    again = rows.nearest(q, 60, with_unknown, rows.similarity(q))
    assert [rows.track_ids[i] for i in again] == got
    assert np.isnan(rows.popularity).all()  # the corpus has no popularity


def test_too_few_survivors_widen_the_scan_before_reading_every_filtered_row(corpus):
    """A filter keeping 1% past the exact threshold, scanned at ef_search ~500 (overfetch 0.5):
    ~5 of 10 survive, so the scan is widened to ef_search 1,000 before the exact search; with
    `enough` 1 the first scan's survivors are kept."""
    db, tracks, _, queries = corpus
    polka = [Filter("genre", "=", "polka")]
    truth = set(matching_ids(tracks, polka))
    plans = []
    with db.connect() as conn:
        for q in queries:
            q = q / np.linalg.norm(q)
            hits, plan = search_vectors(conn, BUNDLE.hash, DIMS, q, polka, 10,
                                        exact_threshold=100, overfetch=0.5)  # fmt: skip
            assert {h.track_id for h in hits} <= truth and len(hits) == 10
            plans.append(plan)
            few, first = search_vectors(conn, BUNDLE.hash, DIMS, q, polka, 10, exact_threshold=100,
                                        overfetch=0.5, enough=1)  # fmt: skip
            assert first.strategy == "hnsw" and first.ef_search < 1000 and 1 <= len(few) <= 10
            assert {h.track_id for h in few} <= truth
            assert [h.score for h in few] == sorted((h.score for h in few), reverse=True)
    widened = [p for p in plans if p.strategy == "hnsw" and p.ef_search == 1000]
    assert widened, plans  # some kept the wider scan's 10 instead of reading every row
    assert all(p.ef_search == 1000 for p in plans)  # none had 10 at ef_search ~500
