"""Hybrid search: a query's embedding plus numeric / genre filters that keep recall."""

from spotify_assets.lib.search.engine import SearchHit, SearchPlan, search_vectors
from spotify_assets.lib.search.filters import Filter, FilterError, parse_query, parse_where

__all__ = [
    "Filter",
    "FilterError",
    "SearchHit",
    "SearchPlan",
    "parse_query",
    "parse_where",
    "search_vectors",
]
