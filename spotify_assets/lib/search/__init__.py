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
    parse_where,
    range_notes,
)
from spotify_assets.lib.search.inputs import (
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    normalize_query,
    parse_limit,
)
from spotify_assets.lib.search.understand import (
    Preference,
    Understanding,
    parse_query,
    understand_query,
)

__all__ = [
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "Filter",
    "FilterError",
    "Preference",
    "SearchHit",
    "SearchInputError",
    "SearchPlan",
    "Understanding",
    "filtered_tracks",
    "normalize_query",
    "parse_limit",
    "parse_query",
    "parse_where",
    "range_notes",
    "search_vectors",
    "understand_query",
    "where_sql",
]
