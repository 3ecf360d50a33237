"""Vector search with filters that keep recall on pgvector 0.6 (no iterative index scans).

HNSW applies filters after its scan, so a selective filter would starve the results. Per
query: count the rows the filters keep; when few, compute exact distances over just those
rows (B-tree indexes find them); otherwise over-fetch from HNSW with a raised ef_search and
filter the candidates, falling back to exact when too few survive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql

from spotify_assets.lib.bundles import validate_bundle_hash
from spotify_assets.lib.search.filters import INTEGER_COLUMNS, TEXT_COLUMNS, Filter
from spotify_assets.lib.store.embeddings import FILTER_COLUMNS, index_name, vector_cast

EXACT_THRESHOLD = 20_000  # rows: below this, exact search over the filtered rows
MAX_EF_SEARCH = 1000  # pgvector's upper bound
MIN_EF_SEARCH = 150
DETAIL_COLUMNS = (
    "name",
    "artists",
    "genre",
    "release_year",
    "popularity",
    "tempo",
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "instrumentalness",
)


@dataclass
class SearchPlan:
    strategy: str  # exact | hnsw | hnsw→exact | filters only
    filtered_rows: int | None = None
    candidates: int | None = None
    ef_search: int | None = None


@dataclass
class SearchHit:
    rank: int
    track_id: str
    score: float  # cosine similarity; NaN when listed by filters alone (no query)
    details: dict = field(default_factory=dict)


def where_sql(filters: Sequence[Filter]) -> tuple[sql.Composable, list]:
    """The filters as a predicate on `track_embeddings e`: whitelisted identifiers, values as
    parameters. Whole numbers on integer columns are sent as integers, so the B-tree is used."""
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list = []
    for f in filters:
        column = sql.SQL("e.{}").format(sql.Identifier(f.column))
        value = f.value
        if f.column in TEXT_COLUMNS:
            parts.append(sql.SQL("lower({}) {} lower(%s)").format(column, sql.SQL(f.op)))
        else:
            parts.append(sql.SQL("{} {} %s").format(column, sql.SQL(f.op)))
            if f.column in INTEGER_COLUMNS and float(value).is_integer() and abs(value) < 2**53:
                value = int(value)
        params.append(value)
    return sql.SQL(" AND ").join(parts), params


def _exact(conn, bundle_hash, dims, query, where, params, limit):
    statement = sql.SQL(
        """WITH scored AS MATERIALIZED (
               SELECT e.track_id, (e.embedding::{cast}) <=> %s::{cast} AS distance
               FROM track_embeddings e WHERE e.bundle_hash = {bundle} AND {where})
           SELECT track_id, distance FROM scored ORDER BY distance, track_id LIMIT %s"""
    ).format(cast=vector_cast(dims), bundle=sql.Literal(bundle_hash), where=where)
    return conn.execute(statement, [query, *params, limit]).fetchall()


def _hnsw(conn, bundle_hash, dims, query, where, params, limit, candidates):
    conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(candidates),))
    statement = sql.SQL(
        """WITH nearest AS MATERIALIZED (
               SELECT track_id, {columns}, (embedding::{cast}) <=> %s::{cast} AS distance
               FROM track_embeddings WHERE bundle_hash = {bundle}
               ORDER BY (embedding::{cast}) <=> %s::{cast} LIMIT %s)
           SELECT e.track_id, e.distance FROM nearest e
           WHERE {where} ORDER BY e.distance, e.track_id LIMIT %s"""
    ).format(
        cast=vector_cast(dims),
        bundle=sql.Literal(bundle_hash),
        where=where,
        columns=sql.SQL(", ").join(map(sql.Identifier, FILTER_COLUMNS)),
    )
    return conn.execute(statement, [query, query, candidates, *params, limit]).fetchall()


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
) -> tuple[list[SearchHit], SearchPlan]:
    """Top `limit` tracks of one bundle by cosine similarity to `query`, within `filters`.

    `strategy`: auto | exact | hnsw (the last two force a path, for evaluation).
    """
    validate_bundle_hash(bundle_hash)
    query = np.asarray(query, dtype=np.float32)
    if query.shape != (dims,):
        raise ValueError(f"query vector has shape {query.shape}, bundle declares {dims} dims")
    limit = max(1, int(limit))
    where, params = where_sql(filters)
    with conn.transaction():
        # Vectors and filter columns are read from memory or SSD: with the default (spinning
        # disk) page cost the planner prefers whole-table scans to the filter's B-tree.
        conn.execute("SET LOCAL random_page_cost = 1.1")
        indexed = _indexed_rows(conn, bundle_hash)
        kept = _kept_rows(conn, bundle_hash, where, params, exact_threshold) if filters else indexed
        if strategy == "exact" or (
            strategy == "auto" and (not indexed or (kept or 0) <= exact_threshold)
        ):
            plan = SearchPlan("exact", filtered_rows=kept)
            rows = _exact(conn, bundle_hash, dims, query, where, params, limit)
        else:
            selectivity = 1.0
            if filters and indexed:
                selectivity = _estimated_rows(conn, bundle_hash, where, params) / indexed
            selectivity = min(max(selectivity, 1e-6), 1.0)
            candidates = int(
                min(MAX_EF_SEARCH, max(MIN_EF_SEARCH, overfetch * limit / selectivity))
            )
            plan = SearchPlan(
                "hnsw", filtered_rows=kept, candidates=candidates, ef_search=candidates
            )
            rows = _hnsw(conn, bundle_hash, dims, query, where, params, limit, candidates)
            if len(rows) < limit and strategy == "auto":
                plan.strategy = "hnsw→exact"
                rows = _exact(conn, bundle_hash, dims, query, where, params, limit)
        details = _details(conn, [r[0] for r in rows])
    hits = [
        SearchHit(rank, track_id, 1.0 - float(distance), details.get(track_id, {}))
        for rank, (track_id, distance) in enumerate(rows, start=1)
    ]
    return hits, plan


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
        conn.execute("SET LOCAL random_page_cost = 1.1")
        kept = _kept_rows(conn, bundle_hash, where, params, EXACT_THRESHOLD)
        statement = sql.SQL(
            """SELECT e.track_id FROM track_embeddings e
               WHERE e.bundle_hash = {bundle} AND {where}
               ORDER BY e.popularity DESC NULLS LAST, e.track_id LIMIT %s"""
        ).format(bundle=sql.Literal(bundle_hash), where=where)
        rows = conn.execute(statement, [*params, limit]).fetchall()
        details = _details(conn, [r[0] for r in rows])
    hits = [
        SearchHit(rank, track_id, math.nan, details.get(track_id, {}))
        for rank, (track_id,) in enumerate(rows, start=1)
    ]
    return hits, SearchPlan("filters only", filtered_rows=kept)


def _indexed_rows(conn: psycopg.Connection, bundle_hash: str) -> int | None:
    """Vectors under the bundle's HNSW index (from statistics), or None without an index."""
    row = conn.execute(
        "SELECT reltuples::bigint FROM pg_class WHERE relname = %s AND relkind = 'i'",
        (index_name(bundle_hash),),
    ).fetchone()
    if row is None:
        return None
    if row[0] < 0:  # never analysed
        return conn.execute(
            "SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]
    return int(row[0])


def _kept_rows(conn, bundle_hash: str, where: sql.Composable, params: list, cap: int) -> int:
    """Rows the filters keep, counted only up to cap + 1: enough to choose a strategy."""
    statement = sql.SQL(
        "SELECT count(*) FROM (SELECT 1 FROM track_embeddings e "
        "WHERE e.bundle_hash = {} AND {} LIMIT %s) kept"
    ).format(sql.Literal(bundle_hash), where)
    return conn.execute(statement, [*params, cap + 1]).fetchone()[0]


def _estimated_rows(conn, bundle_hash: str, where: sql.Composable, params: list) -> float:
    """The planner's row estimate for the filters (B-tree statistics), for sizing ef_search."""
    statement = sql.SQL(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM track_embeddings e WHERE e.bundle_hash = {} AND {}"
    ).format(sql.Literal(bundle_hash), where)
    return float(conn.execute(statement, params).fetchone()[0][0]["Plan"]["Plan Rows"])


def _details(conn: psycopg.Connection, track_ids: list[str]) -> dict[str, dict]:
    if not track_ids:
        return {}
    statement = sql.SQL("SELECT track_id, {} FROM tracks WHERE track_id = ANY(%s)").format(
        sql.SQL(", ").join(map(sql.Identifier, DETAIL_COLUMNS))
    )
    return {
        row[0]: dict(zip(DETAIL_COLUMNS, row[1:], strict=True))
        for row in conn.execute(statement, (track_ids,))
    }
