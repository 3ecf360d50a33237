"""Vector search with filters that keep recall on pgvector 0.6 (no iterative index scans).

HNSW applies filters after its scan, so a selective filter would starve the results. Per
query: count the rows the filters keep; when few, compute exact distances over just those
rows (B-tree indexes find them); otherwise over-fetch from HNSW with a raised ef_search and
filter the candidates, falling back to exact when too few survive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql

from spotify_assets.lib.bundles import validate_bundle_hash
from spotify_assets.lib.search.filters import TEXT_COLUMNS, Filter
from spotify_assets.lib.store.embeddings import vector_cast

EXACT_THRESHOLD = 20_000  # rows: below this, exact search over the filtered rows
MAX_EF_SEARCH = 1000  # pgvector's upper bound
DETAIL_COLUMNS = (
    "name",
    "artists",
    "genre",
    "release_year",
    "tempo",
    "energy",
    "valence",
    "danceability",
    "acousticness",
    "instrumentalness",
)


@dataclass
class SearchPlan:
    strategy: str  # exact | hnsw | hnsw→exact
    filtered_rows: int | None = None
    candidates: int | None = None
    ef_search: int | None = None


@dataclass
class SearchHit:
    rank: int
    track_id: str
    score: float  # cosine similarity
    details: dict = field(default_factory=dict)


def _where(filters: Sequence[Filter]) -> tuple[sql.Composable, list]:
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list = []
    for f in filters:
        column = sql.SQL("t.{}").format(sql.Identifier(f.column))
        if f.column in TEXT_COLUMNS:
            parts.append(sql.SQL("lower({}) {} lower(%s)").format(column, sql.SQL(f.op)))
        else:
            parts.append(sql.SQL("{} {} %s").format(column, sql.SQL(f.op)))
        params.append(f.value)
    return sql.SQL(" AND ").join(parts), params


def _exact(conn, bundle_hash, dims, query, where, params, limit):
    statement = sql.SQL(
        """WITH scored AS MATERIALIZED (
               SELECT e.track_id, (e.embedding::{cast}) <=> %s::{cast} AS distance
               FROM tracks t
               JOIN track_embeddings e ON e.track_id = t.track_id AND e.bundle_hash = {bundle}
               WHERE {where})
           SELECT track_id, distance FROM scored ORDER BY distance, track_id LIMIT %s"""
    ).format(cast=vector_cast(dims), bundle=sql.Literal(bundle_hash), where=where)
    return conn.execute(statement, [query, *params, limit]).fetchall()


def _hnsw(conn, bundle_hash, dims, query, where, params, limit, candidates):
    conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(candidates),))
    statement = sql.SQL(
        """WITH nearest AS MATERIALIZED (
               SELECT track_id, (embedding::{cast}) <=> %s::{cast} AS distance
               FROM track_embeddings WHERE bundle_hash = {bundle}
               ORDER BY (embedding::{cast}) <=> %s::{cast} LIMIT %s)
           SELECT n.track_id, n.distance FROM nearest n JOIN tracks t USING (track_id)
           WHERE {where} ORDER BY n.distance, n.track_id LIMIT %s"""
    ).format(cast=vector_cast(dims), bundle=sql.Literal(bundle_hash), where=where)
    return conn.execute(statement, [query, query, candidates, *params, limit]).fetchall()


def search_vectors(
    conn: psycopg.Connection,
    bundle_hash: str,
    dims: int,
    query: np.ndarray,
    filters: Sequence[Filter] = (),
    limit: int = 10,
    exact_threshold: int = EXACT_THRESHOLD,
    overfetch: float = 10.0,
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
    where, params = _where(filters)
    with conn.transaction():
        total = conn.execute(
            "SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]
        kept = total
        if filters:
            kept = conn.execute(
                sql.SQL(
                    "SELECT count(*) FROM tracks t JOIN track_embeddings e ON e.track_id = "
                    "t.track_id AND e.bundle_hash = {} WHERE {}"
                ).format(sql.Literal(bundle_hash), where),
                params,
            ).fetchone()[0]
        use_exact = strategy == "exact" or (
            strategy == "auto" and (kept <= exact_threshold or total <= exact_threshold)
        )
        if use_exact:
            plan = SearchPlan("exact", filtered_rows=kept)
            rows = _exact(conn, bundle_hash, dims, query, where, params, limit)
        else:
            selectivity = max(kept / total, 1e-6) if total else 1.0
            candidates = int(min(MAX_EF_SEARCH, max(100, overfetch * limit / selectivity)))
            plan = SearchPlan(
                "hnsw", filtered_rows=kept, candidates=candidates, ef_search=candidates
            )
            rows = _hnsw(conn, bundle_hash, dims, query, where, params, limit, candidates)
            if len(rows) < min(limit, kept) and strategy == "auto":
                plan.strategy = "hnsw→exact"
                rows = _exact(conn, bundle_hash, dims, query, where, params, limit)
        details = _details(conn, [r[0] for r in rows])
    hits = [
        SearchHit(rank, track_id, 1.0 - float(distance), details.get(track_id, {}))
        for rank, (track_id, distance) in enumerate(rows, start=1)
    ]
    return hits, plan


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
