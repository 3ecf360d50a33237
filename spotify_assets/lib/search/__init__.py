"""Hybrid search: a query's embedding plus numeric / genre filters that keep recall."""

from spotify_assets.lib.search.engine import (
    SearchHit,
    SearchPlan,
    filtered_tracks,
    search_vectors,
    where_sql,
)
from spotify_assets.lib.search.filters import (
    Filter,
    FilterError,
    SearchInputError,
    parse_query,
    parse_where,
    range_notes,
)
from spotify_assets.lib.search.inputs import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    normalize_query,
    parse_limit,
)

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "Filter",
    "FilterError",
    "SearchHit",
    "SearchInputError",
    "SearchPlan",
    "filtered_tracks",
    "normalize_query",
    "parse_limit",
    "parse_query",
    "parse_where",
    "range_notes",
    "search_vectors",
    "where_sql",
]
