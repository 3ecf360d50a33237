"""Why a search found nothing, from counts over the same filter columns the engine reads.

In order: the bundle has no vectors (not embedded); some filter alone matches no track (with
the column's actual range or values in this catalog); two filters that each match tracks
exclude each other; or only the whole set of filters together matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import psycopg

from spotify_assets.lib.bundles import validate_bundle_hash
from spotify_assets.lib.search.filters import (
    TEXT_COLUMNS,
    Filter,
    format_number,
    format_value,
    shown,
)
from spotify_assets.lib.store.search import SearchRepository

MAX_VALUES_SHOWN = 8


def count_matching(conn: psycopg.Connection, bundle_hash: str, filters: Sequence[Filter]) -> int:
    """Embedded tracks of the bundle that pass every filter (no filters: all its vectors)."""
    return SearchRepository(conn).count_matching(bundle_hash, filters)


def _tracks(n: int) -> str:
    return f"{n:,} track" if n == 1 else f"{n:,} tracks"


def _catalog_holds(conn: psycopg.Connection, bundle_hash: str, column: str) -> str | None:
    """'tempo in this catalog: 61.2 to 189.1', or None when no track has a value."""
    repo = SearchRepository(conn)
    if column in TEXT_COLUMNS:
        rows = repo.distinct_lower_values(bundle_hash, column)
        if not rows:
            return None
        values = [shown(r[0], 30) for r in rows]
        listed = ", ".join(values[:MAX_VALUES_SHOWN])
        more = f", … ({len(values)} in all)" if len(values) > MAX_VALUES_SHOWN else ""
        return f"{column} values in this catalog: {listed}{more}"
    low, high = repo.value_range(bundle_hash, column)
    if low is None:
        return None
    low, high = format_number(round(float(low), 3)), format_number(round(float(high), 3))
    return f"{column} in this catalog: {low} to {high}"


def _nothing_matches(conn: psycopg.Connection, bundle_hash: str, f: Filter) -> str:
    plain = f"{f.column} {f.op} {format_value(f.value)}"
    origin = (
        f"; that filter was understood from “{shown(f.source)}” in the query "
        "(--no-understand turns that off)"
        if f.understood
        else ""
    )
    holds = _catalog_holds(conn, bundle_hash, f.column)
    if holds is None:
        # the remedy only when the values exist in `tracks` and were not copied yet
        stale = SearchRepository(conn).tracks_have_values(bundle_hash, f.column)
        remedy = " (materialize search_index to copy filter columns from tracks)" if stale else ""
        return f"no track in this catalog has a {f.column} value, so {plain} matches none{remedy}{origin}"
    return f"no track has {plain} ({holds}){origin}"


def explain_empty(
    conn: psycopg.Connection,
    bundle_hash: str,
    filters: Sequence[Filter],
    bundle_name: str | None = None,
) -> str:
    """One line saying why a search of this bundle with these filters returned no track."""
    validate_bundle_hash(bundle_hash)
    name = bundle_name or bundle_hash
    vectors = count_matching(conn, bundle_hash, [])
    if not vectors:
        return (
            f"bundle {name} has no vectors: it is not embedded yet; run `spotify-assets demo` "
            "(or materialize track_embeddings and search_index for it) first"
        )
    if not filters:
        return f"bundle {name} has {_tracks(vectors)} embedded, but the search returned none"
    alone = {f: count_matching(conn, bundle_hash, [f]) for f in filters}
    empty = [f for f in filters if alone[f] == 0]
    if empty:
        return "; ".join(_nothing_matches(conn, bundle_hash, f) for f in empty)
    for a, b in combinations(filters, 2):
        if count_matching(conn, bundle_hash, [a, b]) == 0:
            return (
                f"each filter alone matches tracks ({a.describe()}: {_tracks(alone[a])}, "
                f"{b.describe()}: {_tracks(alone[b])}), but {a.describe()} and {b.describe()} "
                "together match none"
            )
    # no pair excludes itself: name the shortest run of filters that leaves nothing
    for size in range(3, len(filters) + 1):
        if count_matching(conn, bundle_hash, filters[:size]) == 0:
            together = ", ".join(f.describe() for f in filters[:size])
            return (
                "each filter alone and each pair of them match tracks, but together "
                f"{together} match none"
            )
    return (
        f"bundle {name} has {_tracks(count_matching(conn, bundle_hash, filters))} passing "
        "the filters, but the search returned none"
    )


def explain_fewer(
    conn: psycopg.Connection,
    bundle_hash: str,
    filters: Sequence[Filter],
    found: int,
    limit: int,
    embedded: int | None = None,
) -> str:
    """One line saying why a search returned `found` < `limit` tracks: how many pass every
    filter, and how many each filter alone keeps (the smallest first: the one that cut most);
    or that versions of the same songs were merged. `embedded`: the bundle's vectors, when the
    caller knows them (without filters that is the count, which otherwise reads them all)."""
    passing = embedded if embedded is not None and not filters else None
    if passing is None:
        passing = count_matching(conn, bundle_hash, filters)
    if passing > found:
        merged = "versions of the same songs were merged into one line each"
        where = "pass every filter" if filters else "are embedded"
        return f"{_tracks(passing)} {where}, but {merged}"
    if not filters:
        return f"only {_tracks(passing)} are embedded"
    return f"only {_tracks(passing)} pass every filter{_per_filter(conn, bundle_hash, filters)}"


def _per_filter(conn: psycopg.Connection, bundle_hash: str, filters: Sequence[Filter]) -> str:
    if len(filters) == 1:
        return f" ({filters[0].describe()})"
    alone = sorted(((count_matching(conn, bundle_hash, [f]), f) for f in filters),
                   key=lambda pair: pair[0])  # fmt: skip
    listed = "; ".join(f"{f.describe()}: {_tracks(n)} alone" for n, f in alone)
    return f" ({listed})"
