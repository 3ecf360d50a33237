"""Natural-language search: check the inputs, parse filters, embed the query, search, explain.

Every input is checked before any SQL runs (SearchInputError, one line). With an empty query
and `where` filters, the search lists the matching tracks by popularity instead. An empty
result carries `why_empty`, from counts per filter (lib/search/explain.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.search.engine import (
    SearchHit,
    SearchPlan,
    filtered_tracks,
    search_vectors,
)
from spotify_assets.lib.search.explain import explain_empty
from spotify_assets.lib.search.filters import (
    Filter,
    format_value,
    parse_query,
    parse_where,
    range_notes,
)
from spotify_assets.lib.search.inputs import empty_query_error, normalize_query, parse_limit
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.search import SearchRepository
from spotify_assets.lib.store.tracks import TrackRepository


@dataclass
class SearchRequest:
    query: str  # normalised; "" lists the tracks the filters match
    filters: list[Filter]  # explicit (--where) only
    limit: int
    notes: list[str] = field(default_factory=list)  # warnings: what was removed, odd ranges


@dataclass
class SearchResult:
    query: str
    filters: list[Filter]
    hits: list[SearchHit]
    plan: SearchPlan
    notes: list[str] = field(default_factory=list)
    why_empty: str | None = None  # set when hits is empty
    # tracks the filters could not consider: they lack a filtered column (e.g. no features)
    without_values: int = 0


def check_request(
    query: str | bytes | None, where: str | None = None, limit: int | str | None = 10
) -> SearchRequest:
    """The inputs checked and normalised, without touching the database or the model."""
    text, notes = normalize_query(query)
    filters = parse_where(where)
    number = parse_limit(limit)
    if not text and not filters:
        raise empty_query_error(notes)
    return SearchRequest(text, filters, number, notes + range_notes(filters))


def known_genres(db: Database) -> list[str]:
    with db.connect() as conn:
        return TrackRepository(conn).genres()


def understood_filters(
    db: Database, text: str, explicit: list[Filter], genres: list[str] | None = None
) -> list[Filter]:
    """`explicit` plus the filters `text` states in words (an explicit one wins per column):
    the one place a query's words become filters (the taste search uses it too)."""
    stated = parse_query(text, genres if genres is not None else known_genres(db))
    columns = {f.column for f in explicit}
    return [*explicit, *(f for f in stated if f.column not in columns)]


def search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    query: str,
    limit: int | str = 10,
    where: str | None = None,
    understand: bool = True,
    genres: list[str] | None = None,
) -> SearchResult:
    """`understand`: also apply filters stated in the query's words ("fast", "sad", "80s").

    Raises SearchInputError (FilterError for filters) before any SQL for a bad input."""
    request = check_request(query, where, limit)
    filters = list(request.filters)
    if understand and request.query:
        filters = understood_filters(db, request.query, filters, genres)
    vector = embedder.embed([request.query], "query")[0] if request.query else None
    with db.connect() as conn:
        if vector is None:
            hits, plan = filtered_tracks(conn, bundle.hash, filters, request.limit)
        else:
            hits, plan = search_vectors(
                conn, bundle.hash, bundle.embedding.dims, vector, filters, request.limit
            )
        why = None if hits else explain_empty(conn, bundle.hash, filters, bundle.name)
        columns = sorted({f.column for f in filters})
        without = SearchRepository(conn).count_missing(bundle.hash, columns)
    return SearchResult(request.query, filters, hits, plan, request.notes, why, without)


def format_result(result: SearchResult) -> str:
    lines = [f"query: {result.query or '(none: tracks the filters match, most popular first)'}"]
    understood = ", ".join(f.describe() for f in result.filters) or "none"
    lines.append(f"filters understood: {understood}")
    lines.append(
        f"plan: {result.plan.strategy} (rows kept by filters: {result.plan.filtered_rows})"
    )
    if result.without_values:
        columns = " or ".join(sorted({f.column for f in result.filters}))
        lines.append(
            f"not considered: {result.without_values:,} tracks without {columns} (songs without "
            "audio features or a genre cannot match a filter on them)"
        )
    conditions = [f"{f.column} {f.op} {format_value(f.value)}" for f in result.filters]
    for hit in result.hits:
        d = hit.details
        artists = ", ".join(d.get("artists") or []) or "?"
        features = _features(d)
        if math.isnan(hit.score):
            score = f"popularity {d.get('popularity') if d.get('popularity') is not None else '?'}"
            why = ", ".join(conditions)
        else:
            score = f"score {hit.score:.3f}"
            why = ", ".join(["semantic match", *conditions])
        lines.append(
            f"{hit.rank:>3}. {d.get('name')} — {artists} [{d.get('genre') or '?'}] "
            f"{score} | {features} | why: {why}"
        )
    return "\n".join(lines)


def _features(details: dict) -> str:
    """The song's known features; never a number it does not have."""
    shown = [
        f"{label} {details[column]:{fmt}}"
        for column, label, fmt in (("tempo", "tempo", ".0f"), ("energy", "energy", ".2f"),
                                   ("valence", "valence", ".2f"),
                                   ("acousticness", "acoustic", ".2f"))
        if details.get(column) is not None
    ]  # fmt: skip
    return ", ".join(shown) or "no audio features"
