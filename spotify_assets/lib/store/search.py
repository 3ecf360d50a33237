"""Search reads over `track_embeddings` (and `tracks` for display): filtered vector queries, the
counts that choose a strategy or explain an empty result, and search evaluation's ground truth.

The search strategy (exact vs HNSW, ef_search sizing, fallbacks) lives in lib/search/engine.py;
this module only holds the SQL it runs. Filters become a predicate on `track_embeddings e` with
whitelisted identifiers and every value as a parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import psycopg
from psycopg import sql

from spotify_assets.lib.store.embeddings import (
    FILTER_COLUMNS,
    INTEGER_FILTER_COLUMNS,
    LIST_FILTER_COLUMNS,
    TEXT_FILTER_COLUMNS,
    index_name,
    vector_cast,
)


class FilterLike(Protocol):
    """What a predicate needs of a filter (lib/search/filters.py's Filter)."""

    column: str
    op: str
    value: Any


def where_sql(filters: Sequence[FilterLike]) -> tuple[sql.Composable, list]:
    """The filters as a predicate on `track_embeddings e`: whitelisted identifiers, values as
    parameters. Whole numbers on integer columns are sent as integers, so the B-tree is used.
    A genre filter compares each of the track's genres (GIN index on their lower-case forms):
    `=` holds when one equals the value, `!=` when the track has genres and none does (as a
    NULL genre never compared either way)."""
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    params: list = []
    for f in filters:
        column = sql.SQL("e.{}").format(sql.Identifier(f.column))
        value = f.value
        if f.column in LIST_FILTER_COLUMNS:
            keys = sql.SQL("{}({})").format(sql.Identifier(LIST_FILTER_COLUMNS[f.column]), column)
            has = sql.SQL("{} @> ARRAY[lower(%s)]").format(keys)
            if f.op == "=":
                parts.append(has)
            else:
                parts.append(sql.SQL("(cardinality({}) > 0 AND NOT {})").format(keys, has))
        elif f.column in TEXT_FILTER_COLUMNS:
            parts.append(sql.SQL("lower({}) {} lower(%s)").format(column, sql.SQL(f.op)))
        else:
            parts.append(sql.SQL("{} {} %s").format(column, sql.SQL(f.op)))
            if (
                f.column in INTEGER_FILTER_COLUMNS
                and float(value).is_integer()
                and abs(value) < 2**53
            ):
                value = int(value)
        params.append(value)
    return sql.SQL(" AND ").join(parts), params


class PreferenceLike(Protocol):
    """What a ranking needs of a soft preference (lib/search/understand.py's Preference)."""

    column: str
    low: float
    high: float


def preference_sql(preferences: Sequence[PreferenceLike]) -> tuple[sql.Composable, list]:
    """The mean closeness of `track_embeddings e` to the preferences: per preference a linear
    ramp from 0 at `low` to 1 at `high`, clamped; a missing value counts 0."""
    if not preferences:
        return sql.SQL("0"), []
    parts, params = [], []
    for p in preferences:
        if p.column not in FILTER_COLUMNS or p.column in TEXT_FILTER_COLUMNS:
            raise ValueError(f"cannot prefer on {p.column!r}")
        parts.append(
            sql.SQL("COALESCE(LEAST(1, GREATEST(0, (e.{}::float8 - %s) / %s)), 0)").format(
                sql.Identifier(p.column)
            )
        )
        params += [float(p.low), float(p.high) - float(p.low)]
    total = sql.SQL(" + ").join(parts)
    return sql.SQL("(({}) / {})").format(total, sql.Literal(len(preferences))), params


SEARCH_WORK_MEM = "32MB"  # per search transaction; see prefer_index_scans
ITERATIVE_SCAN_VERSION = (0, 8)  # pgvector's first version with iterative index scans
_iterative: dict[tuple, bool] = {}  # (host, port, dbname) -> whether its pgvector has them


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


@dataclass(frozen=True)
class Nearest:
    """What every read of the nearest vectors is asked: one bundle's vectors nearest `query`
    among the rows `where` (with its `params`) keeps."""

    bundle_hash: str
    dims: int
    query: np.ndarray
    where: sql.Composable
    params: list


class SearchRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def prefer_index_scans(self) -> None:
        """For the current transaction: vectors and filter columns are read from memory or SSD;
        with the default (spinning disk) page cost the planner prefers whole-table scans to the
        filter's B-tree. And no parallel workers: a search is one short query among many
        concurrent ones, and starting workers cost more than they saved (a genre's 16K rows
        counted in 56 ms with two workers, 29 ms without, on 2 busy cores). And room for the
        filters' bitmaps: past 4 MB (Postgres' default work_mem) a bitmap of ~200K rows turns
        lossy, and then every row of every page it names is re-checked, the genre's keys
        computed anew per row (genre "edm" after 2015 on 940K tracks: 405 → 84 ms)."""
        self.conn.execute(
            "SELECT set_config('random_page_cost', '1.1', true), "
            "set_config('max_parallel_workers_per_gather', '0', true), "
            f"set_config('work_mem', '{SEARCH_WORK_MEM}', true)"
        )

    def iterative_scans(self) -> bool:
        """Whether this database's pgvector continues an HNSW scan past ef_search until enough
        rows pass the filters (0.8+; the embedded pgserver's 0.6.2 does not). Asked once per
        database and process."""
        info = self.conn.info
        key = (info.host, info.port, info.dbname)
        if key not in _iterative:
            row = self.conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()
            _iterative[key] = bool(row) and version_tuple(row[0]) >= ITERATIVE_SCAN_VERSION
        return _iterative[key]

    def exact(self, asked: Nearest, limit: int) -> list[tuple[str, float]]:
        """(track_id, cosine distance) of the nearest filtered rows, computed exactly. The
        column is compared uncast: no index is on it, so the planner reads the filtered rows
        (the HNSW index is on the cast expression), and the cast cost ~15% of the time."""
        statement = sql.SQL(
            """SELECT e.track_id, e.embedding <=> %s::{cast} AS distance
               FROM track_embeddings e WHERE e.bundle_hash = {bundle} AND {where}
               ORDER BY distance, e.track_id LIMIT %s"""
        ).format(cast=vector_cast(asked.dims), bundle=sql.Literal(asked.bundle_hash),
                 where=asked.where)  # fmt: skip
        return self.conn.execute(statement, [asked.query, *asked.params, limit]).fetchall()

    def hnsw(
        self, asked: Nearest, limit: int, candidates: int, vectors: bool = False
    ) -> list[tuple]:
        """(track_id, cosine distance): `candidates` nearest from the HNSW index (ef_search
        raised to match for this transaction), then filtered. `vectors`: each row also has
        its vector as `vector_send` bytes (a 4-byte header, then big-endian float4s), read
        from the row the index led to instead of once more afterwards."""
        self.conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(candidates),))
        sent = sql.SQL(", vector_send(embedding) AS sent" if vectors else "")
        statement = sql.SQL(
            """WITH nearest AS MATERIALIZED (
                   SELECT track_id, {columns}, (embedding::{cast}) <=> %s::{cast} AS distance
                          {sent}
                   FROM track_embeddings WHERE bundle_hash = {bundle}
                   ORDER BY (embedding::{cast}) <=> %s::{cast} LIMIT %s)
               SELECT e.track_id, e.distance {sent_out} FROM nearest e
               WHERE {where} ORDER BY e.distance, e.track_id LIMIT %s"""
        ).format(
            cast=vector_cast(asked.dims),
            bundle=sql.Literal(asked.bundle_hash),
            where=asked.where,
            columns=sql.SQL(", ").join(map(sql.Identifier, FILTER_COLUMNS)),
            sent=sent,
            sent_out=sql.SQL(", e.sent" if vectors else ""),
        )
        args = [asked.query, asked.query, candidates, *asked.params, limit]
        return self.conn.execute(statement, args, binary=vectors).fetchall()

    def hnsw_iterative(self, asked: Nearest, limit: int, pool: int, max_tuples: int) -> list[tuple]:
        """(track_id, cosine distance): the filters applied inside the HNSW scan, which goes on
        (pgvector 0.8's iterative scan, relaxed order) until `pool` rows pass or `max_tuples`
        were read; the pool's nearest `limit`, re-sorted. The pool is larger than the page:
        relaxed order returns rows as the graph meets them, and the nearest passing rows are
        not always met first ("r&b nostalgic teenage memories" on 940K tracks: none of the
        exact top 10 at a pool of 10, 8 at 100). A filter the planner expects to keep few
        rows is read through its B-tree and sorted instead, which is exact (pgvector 0.8
        costs both)."""
        self.conn.execute(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
            "set_config('hnsw.ef_search', %s, true), set_config('hnsw.max_scan_tuples', %s, true)",
            (str(min(pool, 1000)), str(max_tuples)),
        )
        statement = sql.SQL(
            """WITH nearest AS MATERIALIZED (
                   SELECT e.track_id, (e.embedding::{cast}) <=> %s::{cast} AS distance
                   FROM track_embeddings e WHERE e.bundle_hash = {bundle} AND {where}
                   ORDER BY (e.embedding::{cast}) <=> %s::{cast} LIMIT %s)
               SELECT track_id, distance FROM nearest ORDER BY distance, track_id LIMIT %s"""
        ).format(cast=vector_cast(asked.dims), bundle=sql.Literal(asked.bundle_hash),
                 where=asked.where)  # fmt: skip
        args = [asked.query, *asked.params, asked.query, pool, limit]
        return self.conn.execute(statement, args).fetchall()

    def most_popular(
        self, bundle_hash: str, where: sql.Composable, params: list, limit: int
    ) -> list[tuple[str]]:
        """(track_id,) of the bundle's embedded tracks that pass the filters, most popular
        first."""
        statement = sql.SQL(
            """SELECT e.track_id FROM track_embeddings e
               WHERE e.bundle_hash = {bundle} AND {where}
               ORDER BY e.popularity DESC NULLS LAST, e.track_id LIMIT %s"""
        ).format(bundle=sql.Literal(bundle_hash), where=where)
        return self.conn.execute(statement, [*params, limit]).fetchall()

    def most_extreme(
        self,
        bundle_hash: str,
        where: sql.Composable,
        params: list,
        preferences: Sequence[PreferenceLike],
        limit: int,
    ) -> list[tuple[str]]:
        """(track_id,) of the filtered rows with each preferred column's `limit` most extreme
        values in the preferred direction: an index scan per column on a large catalog."""
        parts, values = [], []
        for p in preferences:
            if p.column not in FILTER_COLUMNS or p.column in TEXT_FILTER_COLUMNS:
                raise ValueError(f"cannot prefer on {p.column!r}")
            direction = sql.SQL("DESC" if p.high > p.low else "ASC")
            parts.append(
                sql.SQL(
                    """(SELECT e.track_id FROM track_embeddings e
                        WHERE e.bundle_hash = {bundle} AND {where} AND e.{column} IS NOT NULL
                        ORDER BY e.{column} {direction} LIMIT %s)"""
                ).format(
                    bundle=sql.Literal(bundle_hash),
                    where=where,
                    column=sql.Identifier(p.column),
                    direction=direction,
                )
            )
            values += [*params, limit]
        if not parts:
            return []
        return self.conn.execute(sql.SQL(" UNION ").join(parts), values).fetchall()

    def exact_preferred(
        self,
        asked: Nearest,
        preferences: Sequence[PreferenceLike],
        nearest: int,
        preferred: int,
    ) -> list[tuple[str, float, float]]:
        """(track_id, cosine distance, closeness to the preferences) of the `nearest` most
        similar filtered rows and the `preferred` closest to the preferences (ties by
        popularity), from one pass over the filtered rows (the column compared uncast, as in
        `exact`: the pass reads every filtered row anyway)."""
        closeness, extra = preference_sql(preferences)
        statement = sql.SQL(
            """WITH f AS MATERIALIZED (
                   SELECT e.track_id, e.embedding <=> %s::{cast} AS distance,
                          {closeness} AS closeness, e.popularity
                   FROM track_embeddings e WHERE e.bundle_hash = {bundle} AND {where})
               (SELECT track_id, distance, closeness FROM f
                ORDER BY distance, track_id LIMIT %s)
               UNION
               (SELECT track_id, distance, closeness FROM f
                ORDER BY closeness DESC, popularity DESC NULLS LAST, track_id LIMIT %s)"""
        ).format(
            cast=vector_cast(asked.dims),
            closeness=closeness,
            bundle=sql.Literal(asked.bundle_hash),
            where=asked.where,
        )
        args = [asked.query, *extra, *asked.params, nearest, preferred]
        return self.conn.execute(statement, args).fetchall()

    def filtered_vectors(
        self, bundle_hash: str, where: sql.Composable, params: list
    ) -> tuple[list[str], list[int | None], bytes]:
        """(track ids, popularity, vectors) of every filtered row of the bundle, aligned (one
        stream of rows aggregated), in no particular order. The vectors come as one bytea of
        `vector_send` values (per vector: a 4-byte header, then big-endian float4s): thousands
        of them in one value instead of one decoded Python object each."""
        statement = sql.SQL(
            """SELECT coalesce(array_agg(e.track_id), '{{}}'),
                      coalesce(array_agg(e.popularity), '{{}}'),
                      coalesce(string_agg(vector_send(e.embedding), ''::bytea), ''::bytea)
               FROM track_embeddings e WHERE e.bundle_hash = {bundle} AND {where}"""
        ).format(bundle=sql.Literal(bundle_hash), where=where)
        row = self.conn.execute(statement, params, binary=True).fetchone()
        return list(row[0]), list(row[1]), bytes(row[2])

    def vectors_of(self, bundle_hash: str, track_ids: Sequence[str]) -> tuple[list[str], bytes]:
        """(track ids, their vectors as one bytea of `vector_send` values, aligned) of the
        given tracks of the bundle, in no particular order (as `filtered_vectors`)."""
        row = self.conn.execute(
            """SELECT coalesce(array_agg(e.track_id), '{}'),
                      coalesce(string_agg(vector_send(e.embedding), ''::bytea), ''::bytea)
               FROM track_embeddings e WHERE e.bundle_hash = %s AND e.track_id = ANY(%s)""",
            (bundle_hash, list(track_ids)),
            binary=True,
        ).fetchone()
        return list(row[0]), bytes(row[1])

    def scored(
        self,
        bundle_hash: str,
        dims: int,
        query: np.ndarray,
        track_ids: Sequence[str],
        preferences: Sequence[PreferenceLike],
    ) -> list[tuple[str, float, float]]:
        """(track_id, cosine distance to `query`, closeness to the preferences) of the given
        tracks of the bundle."""
        closeness, extra = preference_sql(preferences)
        statement = sql.SQL(
            """SELECT e.track_id, (e.embedding::{cast}) <=> %s::{cast}, {closeness}
               FROM track_embeddings e
               WHERE e.bundle_hash = {bundle} AND e.track_id = ANY(%s)"""
        ).format(cast=vector_cast(dims), bundle=sql.Literal(bundle_hash), closeness=closeness)
        return self.conn.execute(statement, [query, *extra, list(track_ids)]).fetchall()

    def indexed_rows(self, bundle_hash: str) -> int | None:
        """Vectors under the bundle's HNSW index (from statistics), or None without an index."""
        row = self.conn.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s AND relkind = 'i'",
            (index_name(bundle_hash),),
        ).fetchone()
        if row is None:
            return None
        if row[0] < 0:  # never analysed
            return self.conn.execute(
                "SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s", (bundle_hash,)
            ).fetchone()[0]
        return int(row[0])

    def kept_rows(self, bundle_hash: str, where: sql.Composable, params: list, cap: int) -> int:
        """Rows the filters keep, counted only up to cap + 1: enough to choose a strategy."""
        statement = sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM track_embeddings e "
            "WHERE e.bundle_hash = {} AND {} LIMIT %s) kept"
        ).format(sql.Literal(bundle_hash), where)
        return self.conn.execute(statement, [*params, cap + 1]).fetchone()[0]

    def estimated_rows(self, bundle_hash: str, where: sql.Composable, params: list) -> float:
        """The planner's row estimate for the filters (B-tree statistics), for sizing
        ef_search."""
        statement = sql.SQL(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM track_embeddings e WHERE e.bundle_hash = {} AND {}"
        ).format(sql.Literal(bundle_hash), where)
        return float(self.conn.execute(statement, params).fetchone()[0][0]["Plan"]["Plan Rows"])

    def details(self, track_ids: list[str], columns: Sequence[str]) -> dict[str, dict]:
        """track_id → {column: value} from `tracks`, for showing hits."""
        if not track_ids:
            return {}
        statement = sql.SQL("SELECT track_id, {} FROM tracks WHERE track_id = ANY(%s)").format(
            sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        return {
            row[0]: dict(zip(columns, row[1:], strict=True))
            for row in self.conn.execute(statement, (track_ids,))
        }

    def count_matching(self, bundle_hash: str, filters: Sequence[FilterLike]) -> int:
        """Embedded tracks of the bundle that pass every filter (no filters: all its vectors)."""
        where, params = where_sql(filters)
        statement = sql.SQL(
            "SELECT count(*) FROM track_embeddings e WHERE e.bundle_hash = %s AND {}"
        ).format(where)
        return self.conn.execute(statement, [bundle_hash, *params]).fetchone()[0]

    def count_missing(self, bundle_hash: str, columns: Sequence[str]) -> tuple[int, dict[str, int]]:
        """(embedded tracks of the bundle lacking a value in any of `columns`, how many lack
        each one): a filter on such a column cannot match them (most library tracks have no
        features); per column, so a message names the column that is missing, not all."""
        if not columns:
            return 0, {}
        missing = sql.SQL(" OR ").join(
            sql.SQL("e.{} IS NULL").format(sql.Identifier(c)) for c in columns
        )
        each = sql.SQL(", ").join(
            sql.SQL("count(*) FILTER (WHERE e.{} IS NULL)").format(sql.Identifier(c))
            for c in columns
        )
        statement = sql.SQL(
            "SELECT count(*) FILTER (WHERE {}), {} FROM track_embeddings e WHERE e.bundle_hash = %s"
        ).format(missing, each)
        total, *counts = self.conn.execute(statement, [bundle_hash]).fetchone()
        return total, dict(zip(columns, counts, strict=True))

    def null_patterns(self, bundle_hash: str) -> list[tuple[tuple[str, ...], int]]:
        """(the filter columns a row lacks, how many rows lack just those) over the bundle's
        vectors, in one pass: `count_missing` for any set of columns follows from these few
        rows (a catalog track lacks nothing or a genre, a library song every feature)."""
        flags = sql.SQL(", ").join(
            sql.SQL("e.{} IS NULL").format(sql.Identifier(c)) for c in FILTER_COLUMNS
        )
        statement = sql.SQL(
            "SELECT {flags}, count(*) FROM track_embeddings e WHERE e.bundle_hash = %s "
            "GROUP BY {flags}"
        ).format(flags=flags)
        return [
            (tuple(c for c, null in zip(FILTER_COLUMNS, row[:-1], strict=True) if null), row[-1])
            for row in self.conn.execute(statement, [bundle_hash])
        ]

    def distinct_lower_values(self, bundle_hash: str, column: str) -> list[tuple[str]]:
        """(value,) of a text filter column, lower-cased, distinct and sorted; nulls left out.
        For genre: each genre of a multi-genre track on its own."""
        if column in LIST_FILTER_COLUMNS:
            return self.conn.execute(
                sql.SQL(
                    "SELECT DISTINCT g FROM track_embeddings e, unnest({keys}(e.{c})) AS g "
                    "WHERE e.bundle_hash = %s ORDER BY 1"
                ).format(
                    keys=sql.Identifier(LIST_FILTER_COLUMNS[column]), c=sql.Identifier(column)
                ),
                (bundle_hash,),
            ).fetchall()
        return self.conn.execute(
            sql.SQL(
                "SELECT DISTINCT lower(e.{c}) FROM track_embeddings e "
                "WHERE e.bundle_hash = %s AND e.{c} IS NOT NULL ORDER BY 1"
            ).format(c=sql.Identifier(column)),
            (bundle_hash,),
        ).fetchall()

    def has_values(self, bundle_hash: str, column: str) -> bool:
        """Whether any embedded track of the bundle has a value in this filter column."""
        return self.conn.execute(
            sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM track_embeddings e "
                "WHERE e.bundle_hash = %s AND e.{c} IS NOT NULL)"
            ).format(c=sql.Identifier(column)),
            (bundle_hash,),
        ).fetchone()[0]

    def tracks_have_values(self, bundle_hash: str, column: str) -> bool:
        """Whether a track embedded under the bundle has a value in `tracks` (the source of
        the filter columns, copied by search_index)."""
        return self.conn.execute(
            sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM track_embeddings e JOIN tracks t USING (track_id) "
                "WHERE e.bundle_hash = %s AND t.{c} IS NOT NULL)"
            ).format(c=sql.Identifier(column)),
            (bundle_hash,),
        ).fetchone()[0]

    def value_range(self, bundle_hash: str, column: str) -> tuple[Any, Any]:
        """(min, max) of a numeric filter column over the bundle's vectors; (None, None) when
        no track has a value."""
        return self.conn.execute(
            sql.SQL(
                "SELECT min(e.{c}), max(e.{c}) FROM track_embeddings e WHERE e.bundle_hash = %s"
            ).format(c=sql.Identifier(column)),
            (bundle_hash,),
        ).fetchone()

    def ground_truth_tracks(self, bundle_hash: str) -> tuple[list[str], list[tuple]]:
        """(columns, rows): track_id, every filter column and genres of every track embedded
        under the bundle, from `tracks` (what search evaluation's relevance is defined on)."""
        columns = ["track_id", *FILTER_COLUMNS, "genres"]
        statement = sql.SQL(
            """SELECT {} FROM tracks t JOIN track_embeddings e
                 ON e.track_id = t.track_id AND e.bundle_hash = %s"""
        ).format(sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in columns))
        return columns, self.conn.execute(statement, (bundle_hash,)).fetchall()

    def ground_truth_playlists(self, bundle_hash: str) -> list[tuple[str, list[str]]]:
        """(name, member track ids in playlist order) of every playlist with at least 5
        members embedded under the bundle, by playlist id."""
        return self.conn.execute(
            """SELECT p.name, array_agg(m.track_id ORDER BY m.position)
               FROM playlists p JOIN playlist_tracks m USING (playlist_id)
               JOIN track_embeddings e ON e.track_id = m.track_id AND e.bundle_hash = %s
               GROUP BY p.playlist_id, p.name HAVING count(*) >= 5 ORDER BY p.playlist_id""",
            (bundle_hash,),
        ).fetchall()
