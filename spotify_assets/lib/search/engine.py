"""Vector search with filters that keep recall on pgvector 0.6 (no iterative index scans)
and use them on 0.8+.

HNSW applies filters after its scan, so a selective filter would starve the results. Per
query: count the rows the filters keep; when few, compute exact distances over just those
rows (B-tree indexes find them); otherwise over-fetch from HNSW with a raised ef_search and
filter the candidates, falling back to exact when too few survive.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg

from spotify_assets.lib.bundles import validate_bundle_hash
from spotify_assets.lib.search.filters import Filter
from spotify_assets.lib.store.search import (
    Nearest,
    PreferenceLike,
    SearchRepository,
    where_sql,
)

EXACT_THRESHOLD = 20_000  # rows: below this, exact search over the filtered rows
MAX_EF_SEARCH = 1000  # pgvector's upper bound
# 150 gave recall@10 0.92 on unfiltered queries over 100K real-shaped MiniLM vectors, 300 gives
# 0.99 for +2 ms p50, same p95 (benchmarks/search_latency.py)
MIN_EF_SEARCH = 300
# Soft preferences: candidates from each side (semantic, preference) before re-ranking, and
# the preference's share of the combined score (the rest: similarity, scaled to the pool)
PREFERENCE_POOL = 300
SEMANTIC_POOL = 100  # the similarity side only needs the top of its ranking
# its HNSW over-fetch: the pool is a set of candidates, not the answer (ef_search ~670 instead
# of 1,000 for a filter keeping 30% of the catalog: 30 → 20 ms)
SEMANTIC_OVERFETCH = 2.0
PREFERENCE_WEIGHT = 0.5
# pgvector 0.8+ (iterative scans): a filtered search past the exact threshold reads the HNSW
# graph until this many rows pass the filters (then the nearest are kept), or until it has
# read ITERATIVE_MAX_TUPLES index tuples; fewer rows than the page fall back to exact search.
# 8,000 instead of pgvector's 20,000: a filter rare near the query ("party in the club
# tonight", energy < 0.3) read toward 20,000 for ~90 ms; on the 1M-track home's 54 filtered
# queries p95 90 → 46 ms with 95% of the same top 10, and the search suites scored the same
ITERATIVE_POOL = 100
ITERATIVE_MAX_TUPLES = 8_000
# ... and exact search only up to this many filtered rows: reading 20K scattered rows of 940K
# took 100-230 ms, the iterative scan 5-60 ms for filters the planner guessed at 5-18K rows
# and that kept 15-52K
ITERATIVE_EXACT_THRESHOLD = 5_000
# filtered rows above which the preference side reads each preferred column's B-tree (its most
# extreme rows) instead of scoring every filtered row: 120 ms → a few ms on 100K unfiltered
# tracks. Read that way for every query (threshold 0), both search suites scored the same as
# with the scan (TidyTuesday P@10 0.958 vs 0.955 and 0.956 vs 0.958; Kaggle sample equal); but
# under a filter the index walk reads and drops the rows the filter refuses (a genre keeping 7%
# of 100K: 54 ms vs 25 ms for the scan), so the filtered rows are scored up to the exact bound
PREFERENCE_SCAN_THRESHOLD = EXACT_THRESHOLD
DETAIL_COLUMNS = (
    "name",
    "artists",
    "album_name",
    "genre",
    "release_year",
    "popularity",
    "tempo",
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "instrumentalness",
    "loudness",
    "liveness",
    "speechiness",
    "mode",
)


@dataclass
class SearchPlan:
    strategy: str  # exact | hnsw | hnsw→exact | filters only
    filtered_rows: int | None = None
    candidates: int | None = None
    ef_search: int | None = None
    estimated: bool = False  # filtered_rows is the planner's estimate, not a count

    def kept(self) -> str:
        if self.filtered_rows is None:
            return "?"
        return f"≈{self.filtered_rows:,}" if self.estimated else f"{self.filtered_rows:,}"


@dataclass
class SearchHit:
    rank: int
    track_id: str
    score: float  # cosine similarity; NaN when listed by filters alone (no query)
    details: dict = field(default_factory=dict)
    vector: np.ndarray | None = None  # the stored vector, when the search read it anyway


def search_vectors(
    conn: psycopg.Connection,
    bundle_hash: str,
    dims: int,
    query: np.ndarray,
    filters: Sequence[Filter] = (),
    limit: int = 10,
    exact_threshold: int = EXACT_THRESHOLD,
    overfetch: float = 5.0,
    strategy: str = "auto",
    details: bool = True,
    enough: int | None = None,
) -> tuple[list[SearchHit], SearchPlan]:
    """Top `limit` tracks of one bundle by cosine similarity to `query`, within `filters`.

    `strategy`: auto | exact | hnsw (the last two force a path, for evaluation). `details`:
    False leaves the hits' display columns out (candidates that are re-ranked first).
    `enough`: fewer HNSW survivors than `limit` but at least this many are kept rather than
    read again exactly (a page of 10 asked with room for merged versions).
    """
    validate_bundle_hash(bundle_hash)
    query = np.asarray(query, dtype=np.float32)
    if query.shape != (dims,):
        raise ValueError(f"query vector has shape {query.shape}, bundle declares {dims} dims")
    limit = max(1, int(limit))
    where, params = where_sql(filters)
    asked = Nearest(bundle_hash, dims, query, where, params)
    with conn.transaction():
        repo = SearchRepository(conn)
        repo.prefer_index_scans()
        indexed = repo.indexed_rows(bundle_hash)
        iterative = bool(filters and indexed and repo.iterative_scans())
        exact_threshold = exact_bound(iterative, exact_threshold)
        kept, estimated = rows_kept(
            repo, bundle_hash, where, params, filters, indexed, exact_threshold
        )
        wanted = min(limit, enough or limit)
        if strategy == "exact" or (
            strategy == "auto" and (not indexed or (kept or 0) <= exact_threshold)
        ):
            plan = SearchPlan("exact", filtered_rows=kept, estimated=estimated)
            rows = repo.exact(asked, limit)
        elif iterative:
            pool = max(ITERATIVE_POOL, limit)
            plan = SearchPlan("hnsw iterative", filtered_rows=kept, candidates=pool,
                              ef_search=min(pool, MAX_EF_SEARCH), estimated=estimated)  # fmt: skip
            rows = repo.hnsw_iterative(asked, limit, pool, ITERATIVE_MAX_TUPLES)
            if len(rows) < wanted and strategy == "auto":  # the filter is rare near the query
                plan.strategy = "hnsw iterative→exact"
                rows = repo.exact(asked, limit)
        else:
            selectivity = 1.0
            if filters and indexed:
                selectivity = (kept or 0) / indexed
            selectivity = min(max(selectivity, 1e-6), 1.0)
            candidates = int(
                min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, overfetch * limit / selectivity))
            )
            plan = SearchPlan(
                "hnsw",
                filtered_rows=kept,
                candidates=candidates,
                ef_search=candidates,
                estimated=estimated,
            )
            rows = repo.hnsw(asked, limit, candidates)
            if len(rows) < wanted and strategy == "auto" and candidates < MAX_EF_SEARCH:
                # the filter keeps fewer of the query's neighbours than of the catalog (songs
                # without features cluster): the widest scan first, as exact search reads
                # every filtered row ("minor key ballads", 170K rows at 940K tracks: 8 of 20
                # survived ef 552, 481 ms exact)
                plan.candidates = plan.ef_search = MAX_EF_SEARCH
                rows = repo.hnsw(asked, limit, MAX_EF_SEARCH)
            if len(rows) < wanted and strategy == "auto":
                plan.strategy = "hnsw→exact"
                rows = repo.exact(asked, limit)
        shown = repo.details([r[0] for r in rows], DETAIL_COLUMNS) if details else {}
    hits = [
        SearchHit(rank, track_id, 1.0 - float(distance), shown.get(track_id, {}))
        for rank, (track_id, distance) in enumerate(rows, start=1)
    ]
    return hits, plan


def nearest_except(
    conn: psycopg.Connection,
    bundle_hash: str,
    dims: int,
    query: np.ndarray,
    filters: Sequence[Filter],
    count: int,
    exclude: Collection[str],
    keep: Callable[[dict], bool] | None = None,
    columns: Sequence[str] = DETAIL_COLUMNS,
) -> tuple[list[SearchHit], SearchPlan]:
    """The `count` tracks nearest `query` within `filters`, leaving out the ids in `exclude`
    and the hits whose details (`columns`) `keep` refuses (a person's own songs under other
    ids), as an exact search for `count + len(exclude)` then left out would give them.

    A catalog under the HNSW index is read through it: the most ef_search allows, the
    excluded left out; only when fewer than `count` remain (the excluded crowd the query's
    neighbourhood) is the whole filtered set scanned. Asking `search_vectors` for `count +
    len(exclude)` instead (thousands for a person with many liked songs) always fell back to
    that scan: HNSW returns at most ef_search rows."""
    validate_bundle_hash(bundle_hash)
    query = np.asarray(query, dtype=np.float32)
    if query.shape != (dims,):
        raise ValueError(f"query vector has shape {query.shape}, bundle declares {dims} dims")
    count = max(1, int(count))
    where, params = where_sql(filters)
    asked = Nearest(bundle_hash, dims, query, where, params)
    skip = set(exclude)

    def left(rows: list[tuple]) -> list[SearchHit]:
        """The first `count` rows not excluded, their details read only as far as needed:
        a quarter more than still wanted at a time (reading all 1,000 HNSW rows' details took
        ~40 ms of a taste search that keeps 500)."""
        rows = [r for r in rows if r[0] not in skip]
        hits: list[SearchHit] = []
        start = 0
        while start < len(rows) and len(hits) < count:
            wanted = count - len(hits)
            chunk = rows[start : start + wanted + max(wanted // 4, 10)]
            start += len(chunk)
            shown = repo.details([r[0] for r in chunk], columns)
            for t, d, *sent in chunk:
                vector = unsent(sent[0], dims)[0] if sent else None
                hit = SearchHit(0, t, 1.0 - float(d), shown.get(t, {}), vector)
                if keep is None or keep(hit.details):
                    hits.append(hit)
        hits = hits[:count]
        for rank, hit in enumerate(hits, start=1):
            hit.rank = rank
        return hits

    with conn.transaction():
        repo = SearchRepository(conn)
        repo.prefer_index_scans()
        indexed = repo.indexed_rows(bundle_hash)
        kept, estimated = rows_kept(repo, bundle_hash, where, params, filters, indexed)
        plan = SearchPlan("exact", filtered_rows=kept, estimated=estimated)
        if indexed and (kept or 0) > EXACT_THRESHOLD:
            plan = SearchPlan("hnsw", filtered_rows=kept, candidates=MAX_EF_SEARCH,
                              ef_search=MAX_EF_SEARCH, estimated=estimated)  # fmt: skip
            rows = repo.hnsw(asked, MAX_EF_SEARCH, MAX_EF_SEARCH, vectors=True)
            if len(hits := left(rows)) >= count:
                return hits, plan
            plan.strategy = "hnsw→exact"
        rows = repo.exact(asked, count + len(skip))
        return left(rows), plan


@dataclass
class FilteredVectors:
    """Every track a filter set keeps, with what scoring them needs and no display columns."""

    track_ids: np.ndarray  # str
    popularity: np.ndarray  # NaN where unknown
    vectors: np.ndarray  # n × dims, float32, unit norm (as stored: embeddings_complete)
    _rows: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    def rows_of(self, track_ids: Collection[str]) -> np.ndarray:
        """The row of each of `track_ids` that is here (others left out): a lookup per id,
        where `np.isin` over the set's ids sorted thousands of strings per search (24 ms)."""
        if self._rows is None:  # built once per kept set; a race builds the same dict twice
            self._rows = {str(t): i for i, t in enumerate(self.track_ids)}
        rows = self._rows
        return np.fromiter((rows[t] for t in track_ids if t in rows), dtype=np.int64)

    def similarity(self, query: np.ndarray) -> np.ndarray:
        """Cosine of every row to `query`."""
        query = np.asarray(query, dtype=np.float32)
        return self.vectors @ (query / (np.linalg.norm(query) or 1.0))

    def nearest(
        self,
        query: np.ndarray,
        count: int,
        exclude: Collection[str],
        similarity: np.ndarray | None = None,
    ) -> np.ndarray:
        """Indices of the `count` rows nearest `query` (cosine) that are not in `exclude`,
        nearest first, ties by track id: what an exact search with ORDER BY distance gives.
        `similarity`: `self.similarity(query)`, when the caller has it already."""
        if similarity is None:
            similarity = self.similarity(query)
        allowed_mask = np.ones(len(self.track_ids), dtype=bool)
        allowed_mask[self.rows_of(exclude)] = False
        allowed = np.flatnonzero(allowed_mask)
        if len(allowed) > count:
            allowed = allowed[np.argpartition(-similarity[allowed], count - 1)[:count]]
        order = np.lexsort((self.track_ids[allowed], -similarity[allowed]))
        return allowed[order]

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes)


def filtered_vectors(
    conn: psycopg.Connection, bundle_hash: str, dims: int, filters: Sequence[Filter]
) -> FilteredVectors:
    """Every track within `filters` with its vector and popularity, read in one value."""
    validate_bundle_hash(bundle_hash)
    where, params = where_sql(filters)
    with conn.transaction():
        repo = SearchRepository(conn)
        repo.prefer_index_scans()
        ids, popularity, blob = repo.filtered_vectors(bundle_hash, where, params)
    vectors = unsent(blob, dims)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    result = FilteredVectors(
        np.asarray(ids, dtype=str),
        np.array([np.nan if p is None else p for p in popularity], dtype=float),
        vectors,
    )
    for array in (result.track_ids, result.popularity, result.vectors):
        array.setflags(write=False)  # shared by the searches while it is cached
    return result


def unsent(blob: bytes, dims: int) -> np.ndarray:
    """`vector_send` values laid end to end (each a 4-byte header, then `dims` big-endian
    float4s) as an n × dims float32 array: how vectors are read in one value."""
    return np.frombuffer(blob, dtype=">f4").reshape(-1, dims + 1)[:, 1:].astype(np.float32)


def embedded_vectors(
    conn: psycopg.Connection, bundle_hash: str, dims: int, track_ids: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    """(those of `track_ids` embedded under the bundle, in their order; their vectors,
    float32), read as one value: one Python object per vector took ~25 ms for a taste search's
    500 candidates, ~0.1 s for a person's 2,500 liked songs."""
    validate_bundle_hash(bundle_hash)
    if not track_ids:
        return [], np.zeros((0, dims), dtype=np.float32)
    ids, blob = SearchRepository(conn).vectors_of(bundle_hash, list(track_ids))
    row = {t: i for i, t in enumerate(ids)}
    kept = [t for t in track_ids if t in row]
    return kept, unsent(blob, dims)[[row[t] for t in kept]]


def vectors_of(
    conn: psycopg.Connection, bundle_hash: str, dims: int, track_ids: Sequence[str]
) -> np.ndarray:
    """The vectors of `track_ids`, in their order; KeyError when one is not embedded."""
    kept, vectors = embedded_vectors(conn, bundle_hash, dims, track_ids)
    if len(kept) < len(track_ids):
        missing = sorted(set(track_ids) - set(kept))
        raise KeyError(f"{len(missing)} tracks have no vector under {bundle_hash}: {missing[:3]}")
    return vectors


def exact_bound(iterative: bool, exact_threshold: int = EXACT_THRESHOLD) -> int:
    """Filtered rows up to which exact search is the plan: lower where the server's iterative
    scans can search the rest through the index."""
    return min(exact_threshold, ITERATIVE_EXACT_THRESHOLD) if iterative else exact_threshold


def rows_kept(
    repo: SearchRepository,
    bundle_hash: str,
    where,
    params: list,
    filters: Sequence[Filter],
    indexed: int | None,
    exact_threshold: int = EXACT_THRESHOLD,
) -> tuple[int | None, bool]:
    """(rows the filters keep, whether that is the planner's estimate). On a catalog larger
    than the exact threshold the estimate decides the strategy: counting reads every kept row
    (87 ms for two ranges keeping 28% of 100K tracks; the estimate: ~1 ms, within 10% of the
    count on the latency benchmark's filters). A wrong estimate costs time, not recall: too
    few HNSW survivors fall back to exact search."""
    if not filters:
        return indexed, False
    if indexed and indexed > exact_threshold:
        return min(round(repo.estimated_rows(bundle_hash, where, params)), indexed), True
    return repo.kept_rows(bundle_hash, where, params, exact_threshold), False


def filtered_tracks(
    conn: psycopg.Connection,
    bundle_hash: str,
    filters: Sequence[Filter],
    limit: int = 10,
) -> tuple[list[SearchHit], SearchPlan]:
    """Without a query: the bundle's embedded tracks that pass `filters`, most popular first
    (scores are NaN)."""
    validate_bundle_hash(bundle_hash)
    limit = max(1, int(limit))
    where, params = where_sql(filters)
    with conn.transaction():
        repo = SearchRepository(conn)
        repo.prefer_index_scans()
        kept = repo.kept_rows(bundle_hash, where, params, EXACT_THRESHOLD)
        rows = repo.most_popular(bundle_hash, where, params, limit)
        details = repo.details([r[0] for r in rows], DETAIL_COLUMNS)
    hits = [
        SearchHit(rank, track_id, math.nan, details.get(track_id, {}))
        for rank, (track_id,) in enumerate(rows, start=1)
    ]
    return hits, SearchPlan("filters only", filtered_rows=kept)


def blend_preferences(
    rows: Sequence[tuple[str, float, float]], weight: float = PREFERENCE_WEIGHT
) -> dict[str, float]:
    """track_id → (1 - weight) × similarity scaled to the candidates' range + weight ×
    closeness to the preferences, from `SearchRepository.scored` rows."""
    similarity = {r[0]: 1.0 - float(r[1]) for r in rows}
    low, high = min(similarity.values()), max(similarity.values())
    spread = (high - low) or 1.0
    return {
        r[0]: (1 - weight) * (similarity[r[0]] - low) / spread + weight * float(r[2]) for r in rows
    }


def preferred_search(
    conn: psycopg.Connection,
    bundle_hash: str,
    dims: int,
    query: np.ndarray,
    filters: Sequence[Filter],
    preferences: Sequence[PreferenceLike],
    limit: int = 10,
    pool: int = PREFERENCE_POOL,
    weight: float = PREFERENCE_WEIGHT,
    scan_threshold: int | None = None,
) -> tuple[list[SearchHit], SearchPlan]:
    """Top `limit` tracks within `filters` by similarity and closeness to soft preferences.

    Candidates: the most similar tracks and the `pool` closest to the preferences; each is
    scored (1 - weight) * similarity scaled to the candidates' range + weight * mean
    closeness. A track without a preferred feature is a candidate like any other, with
    closeness 0 for it. Up to `scan_threshold` filtered rows (and within the exact threshold)
    one pass over them gives both sides; beyond, the similar side is the usual filtered search
    and the preferred side each preference's `pool` most extreme rows, read from its column's
    index.
    """
    query = np.asarray(query, dtype=np.float32)
    semantic = max(min(pool, SEMANTIC_POOL), limit)
    where, params = where_sql(filters)
    if scan_threshold is None:
        scan_threshold = PREFERENCE_SCAN_THRESHOLD
    validate_bundle_hash(bundle_hash)
    with conn.transaction():
        repo = SearchRepository(conn)
        repo.prefer_index_scans()
        indexed = repo.indexed_rows(bundle_hash)
        kept, estimated = rows_kept(repo, bundle_hash, where, params, filters, indexed)
        bound = exact_bound(bool(filters and indexed and repo.iterative_scans()))
        one_pass = (kept or 0) <= scan_threshold and (not indexed or (kept or 0) <= bound)
        if one_pass:
            plan = SearchPlan("exact", filtered_rows=kept, estimated=estimated)
            rows = repo.exact_preferred(
                Nearest(bundle_hash, dims, query, where, params), preferences, semantic, pool
            )
    if not one_pass:
        similar, plan = search_vectors(
            conn,
            bundle_hash,
            dims,
            query,
            filters,
            semantic,
            overfetch=SEMANTIC_OVERFETCH,
            details=False,
            enough=limit,  # the pool's similar side: its top is what counts
        )
        with conn.transaction():
            repo = SearchRepository(conn)
            repo.prefer_index_scans()
            preferred = repo.most_extreme(bundle_hash, where, params, preferences, pool)
            ids = list(dict.fromkeys([h.track_id for h in similar] + [r[0] for r in preferred]))
            rows = repo.scored(bundle_hash, dims, query, ids, preferences)
    if not rows:
        return [], plan
    similarity = {r[0]: 1.0 - float(r[1]) for r in rows}
    closeness = {r[0]: float(r[2]) for r in rows}
    combined = blend_preferences(rows, weight)
    ranked = sorted(combined, key=lambda t: (-combined[t], t))[: max(1, int(limit))]
    with conn.transaction():
        details = SearchRepository(conn).details(ranked, DETAIL_COLUMNS)
    plan.strategy = f"{plan.strategy} + preference re-rank"
    plan.candidates = len(rows)
    hits = []
    for rank, t in enumerate(ranked, start=1):
        d = {**details.get(t, {}), "similarity": similarity[t], "preference": closeness[t]}
        hits.append(SearchHit(rank, t, combined[t], d))
    return hits, plan
