"""Natural-language search: check the inputs, understand the query, embed it, search, explain.

Every input is checked before any SQL runs (SearchInputError, one line). The query's words
become hard filters and soft preferences (lib/search/understand.py); with preferences the
candidates are re-ranked (engine.preferred_search). With an empty query and `where` filters,
the search lists the matching tracks by popularity instead. Versions of one song (same
primary artist and bare title) are shown once. An empty result carries `why_empty`, a short
one `why_fewer`, from counts per filter (lib/search/explain.py).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.cache import VersionedCache
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.names import song_key
from spotify_assets.lib.search.engine import (
    SearchHit,
    SearchPlan,
    filtered_tracks,
    preferred_search,
    search_vectors,
)
from spotify_assets.lib.search.explain import explain_empty, explain_fewer
from spotify_assets.lib.search.filters import (
    Filter,
    format_value,
    parse_where,
    range_notes,
    shown,
)
from spotify_assets.lib.search.inputs import empty_query_error, normalize_query, parse_limit
from spotify_assets.lib.search.lexical import NameRequest, apply_names, artist_songs, name_query
from spotify_assets.lib.search.understand import Preference, Understanding, understand_query
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository
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
    preferences: list[Preference] = field(default_factory=list)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (words, what they became)
    limit: int = 10
    why_fewer: str | None = None  # set when 0 < len(hits) < limit
    without_by_column: dict[str, int] = field(default_factory=dict)  # without_values per column


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


EXTRA_FOR_VERSIONS = 20  # rows fetched beyond the limit, so merging versions still fills it

# database url → (catalog version, its genres): the distinct genres take a scan of `tracks`
# (9 ms of each query on 17.6K tracks); the version is one count, changed by every committed
# write of `tracks` (a catalog load, enrichment, a library import), so a cache never outlives one
_names: dict[tuple[str, str], tuple[tuple[int, int], list[str]]] = {}
_names_lock = threading.Lock()


def _known(db: Database, *columns: str) -> list[list[str]]:
    """The catalog's distinct values of each of `columns` (genre, subgenre), rescanned only
    when the catalog changed since the last call in this process (one version read for all)."""
    out = []
    with db.connect() as conn:
        tracks = TrackRepository(conn)
        version = tracks.catalog_version()  # before the scan: a write between costs a rescan
        for column in columns:
            cached = _names.get((db.url, column))
            if cached is not None and cached[0] == version:
                out.append(list(cached[1]))
                continue
            names = tracks.genres() if column == "genre" else tracks.subgenres()
            with _names_lock:
                _names[(db.url, column)] = (version, names)
            out.append(list(names))
    return out


def known_genres(db: Database) -> list[str]:
    """The catalog's distinct genres (cached per catalog version)."""
    return _known(db, "genre")[0]


def known_subgenres(db: Database) -> list[str]:
    """The catalog's distinct subgenres (cached per catalog version)."""
    return _known(db, "subgenre")[0]


def understood(
    db: Database, text: str, explicit: list[Filter], genres: list[str] | None = None
) -> tuple[list[Filter], Understanding]:
    """`explicit` plus the hard filters `text` states in words (an explicit one wins per
    column), and the whole understanding (preferences, words): the one place a query's words
    are read (the taste search uses it too)."""
    if genres is None:
        genres, subgenres = _known(db, "genre", "subgenre")
    else:  # names given (an evaluation, a test): subgenres only from a catalog that has them
        subgenres = known_subgenres(db) if db is not None else []
    stated = understand_query(text, genres, subgenres)
    columns = {f.column for f in explicit}
    return [*explicit, *(f for f in stated.filters if f.column not in columns)], stated


def understood_filters(
    db: Database, text: str, explicit: list[Filter], genres: list[str] | None = None
) -> list[Filter]:
    """`explicit` plus the hard filters `text` states in words (vague words are preferences,
    not filters: see `understood`)."""
    return understood(db, text, explicit, genres)[0]


def search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    query: str,
    limit: int | str = 10,
    where: str | None = None,
    understand: bool = True,
    genres: list[str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> SearchResult:
    """`understand`: also read the query's words ("fast", "sad", "after 2010", a genre) as
    filters and preferences; False: semantic match and `where` only. `ignore`: words whose
    understood filter or preference is left out (a chip the person removed); the words still
    count for the semantic match.

    Raises SearchInputError (FilterError for filters) before any SQL for a bad input."""
    request = check_request(query, where, limit)
    filters = list(request.filters)
    preferences: list[Preference] = []
    terms: list[tuple[str, str]] = []
    notes = list(request.notes)
    if understand and request.query:
        explicit = {f.column for f in filters}
        filters, stated = understood(db, request.query, filters, genres)
        overridden = {f.source for f in stated.filters if f.column in explicit}
        filters = [f for f in filters if not (f.understood and f.source in ignore)]
        preferences = [p for p in stated.preferences if p.source not in ignore]
        terms = [
            (words, f"{meaning} (not applied: --where filters that column)")
            if words in overridden
            else (words, meaning)
            for words, meaning in stated.terms
            if words not in ignore
        ]
        if removed := sorted(ignore & {words for words, _ in stated.terms}):
            notes.append("removed: " + ", ".join(f"“{shown(w)}”" for w in removed))
    # the query's name words (titles, artists, albums): matched lexically, fused in
    names = (
        name_query(request.query, [w for w, _ in terms]) if understand and request.query else None
    )
    vector = embedder.embed([request.query], "query")[0] if request.query else None
    fetch = request.limit + min(request.limit, EXTRA_FOR_VERSIONS)  # versions are merged
    with db.connect() as conn:

        def run(filters: list[Filter]) -> tuple[list[SearchHit], SearchPlan]:
            if vector is None:
                return filtered_tracks(conn, bundle.hash, filters, fetch)
            if preferences:
                return preferred_search(
                    conn, bundle.hash, bundle.embedding.dims, vector, filters, preferences, fetch
                )
            return search_vectors(conn, bundle.hash, bundle.embedding.dims, vector, filters, fetch,
                                  enough=request.limit)  # fmt: skip

        def name_request(filters: list[Filter]) -> NameRequest:
            return NameRequest(bundle.hash, bundle.embedding.dims, vector, filters, preferences,
                               names, fetch)  # fmt: skip

        # "by X" of an artist here: the page is their songs, so no vector search is needed
        by_artist = None
        if names is not None and vector is not None and names.artist:
            by_artist = artist_songs(conn, name_request(filters))
        checked = list(filters)  # the filters no artist X passed (when by_artist is None)
        if by_artist is not None:
            hits, plan = by_artist.hits, SearchPlan(by_artist.strategy or "artist")
            terms, notes = terms + by_artist.terms, notes + by_artist.notes
        else:
            hits, plan = run(filters)
        if not hits and (unfounded := columnless(conn, bundle.hash, filters)):
            # the query's words asked for a column this catalog lacks (a decade on a catalog
            # without release years): that filter cannot narrow anything, only empty the page
            filters = [f for f in filters if f not in unfounded]
            hits, plan = run(filters)
            dropped = {f.source for f in unfounded}
            terms = [
                (words, f"{meaning} (not applied: no track here has {_columns_of(unfounded)})")
                if words in dropped else (words, meaning)
                for words, meaning in terms
            ]  # fmt: skip
            notes.append(
                f"not applied: {', '.join(f.describe() for f in unfounded)} — no track in this "
                f"catalog has a {_columns_of(unfounded)} value, so it could only empty the result"
            )
        if by_artist is None and names is not None and vector is not None and not names.empty:
            outcome = apply_names(conn, name_request(filters), hits,
                                  artist_checked=filters == checked)  # fmt: skip
            hits, terms, notes = outcome.hits, terms + outcome.terms, notes + outcome.notes
            if outcome.strategy:
                plan = SearchPlan(outcome.strategy, filtered_rows=plan.filtered_rows)
        hits = collapse_versions(hits)[: request.limit]
        why = None if hits else explain_empty(conn, bundle.hash, filters, bundle.name)
        fewer = (
            explain_fewer(conn, bundle.hash, filters, len(hits), request.limit,
                          None if filters else embedded_count(db, conn, bundle.hash))
            if 0 < len(hits) < request.limit
            else None
        )  # fmt: skip
        columns = sorted({f.column for f in filters})
        without, by_column = missing_values(db, conn, bundle.hash, columns)
    return SearchResult(
        request.query, filters, hits, plan, notes, why, without, preferences, terms,
        request.limit, fewer, without_by_column=by_column,
    )  # fmt: skip


# (database url, bundle) → which filter columns its vectors lack, per pattern: counting the
# rows without a value read every vector row (145 ms of a 230 ms genre search at 164K tracks);
# the patterns change only when `track_embeddings` does (vector_changes, migration 0022)
_null_patterns: VersionedCache[list[tuple[tuple[str, ...], int]]] = VersionedCache(size=16)


def _patterns(db: Database, conn, bundle_hash: str) -> list[tuple[tuple[str, ...], int]]:
    version = EmbeddingRepository(conn).vectors_version()  # before the scan, as in _known
    return _null_patterns.get(
        (db.url, bundle_hash), version, lambda: SearchRepository(conn).null_patterns(bundle_hash)
    )


def embedded_count(db: Database, conn, bundle_hash: str) -> int:
    """The bundle's vectors, from its null patterns (a name search with fewer hits than asked
    says how many tracks there are; counting them read every vector row)."""
    return sum(rows for _, rows in _patterns(db, conn, bundle_hash))


def missing_values(
    db: Database, conn, bundle_hash: str, columns: list[str]
) -> tuple[int, dict[str, int]]:
    """(embedded tracks of the bundle lacking a value in any of `columns`, how many lack each
    one), as `SearchRepository.count_missing` counts them, from the bundle's null patterns
    (one scan per change of the vectors in this process)."""
    if not columns:
        return 0, {}
    return missing_counts(_patterns(db, conn, bundle_hash), columns)


def missing_counts(
    patterns: list[tuple[tuple[str, ...], int]], columns: list[str]
) -> tuple[int, dict[str, int]]:
    """(rows lacking any of `columns`, rows lacking each) from (columns lacked, rows) patterns."""
    wanted = set(columns)
    total = sum(rows for lacked, rows in patterns if wanted.intersection(lacked))
    return total, {c: sum(rows for lacked, rows in patterns if c in lacked) for c in columns}


def columnless(conn, bundle_hash: str, filters: list[Filter]) -> list[Filter]:
    """The understood filters on a column no embedded track of the bundle has a value in
    (explicit `--where` filters stay: asked for by name, they are explained, not dropped)."""
    repo = SearchRepository(conn)
    empty = {c for c in {f.column for f in filters if f.understood}
             if not repo.has_values(bundle_hash, c)}  # fmt: skip
    return [f for f in filters if f.understood and f.column in empty]


def _columns_of(filters: list[Filter]) -> str:
    return " or ".join(sorted({f.column for f in filters}))


def version_key(details: dict) -> str:
    """Primary artist + bare title ("Song - Remastered 2011", "Song (Live)", "Song (feat. X)"
    → "song"); "" when the artist or title is unknown (never merged)."""
    artists = details.get("artists") or []
    return song_key(artists[0] if artists else None, details.get("name"))


def collapse_versions(hits: list[SearchHit]) -> list[SearchHit]:
    """One hit per song: later versions (other track ids of the same artist + title) are
    dropped and named in the first one's `also_as`; ranks renumbered."""
    kept: list[SearchHit] = []
    first: dict[str, SearchHit] = {}
    for hit in hits:
        key = version_key(hit.details)
        if key and key in first:
            first[key].details.setdefault("also_as", []).append(
                hit.details.get("name") or hit.track_id
            )
            continue
        if key:
            first[key] = hit
        kept.append(hit)
    for rank, hit in enumerate(kept, start=1):
        hit.rank = rank
    return kept


def format_result(result: SearchResult) -> str:
    """Header lines (query, what was understood, plan, notes), then one line per hit."""
    lines = [f"query: {result.query or '(none: tracks the filters match, most popular first)'}"]
    hard = ", ".join(f.describe() for f in result.filters) or "none"
    lines.append(f"filters understood: {hard}")
    if result.preferences:
        soft = ", ".join(f"{p.describe()} (from “{shown(p.source)}”)" for p in result.preferences)
        lines.append(f"preferences (re-rank, remove nothing): {soft}")
    if result.terms:
        words = "; ".join(f"“{shown(words)}” → {meaning}" for words, meaning in result.terms)
        lines.append(f"words understood: {words}")
    lines.append(f"plan: {result.plan.strategy} (rows kept by filters: {result.plan.kept()})")
    if result.without_values:
        lacking = {c: n for c, n in result.without_by_column.items() if n}
        columns = " or ".join(sorted(lacking or {f.column for f in result.filters}))
        lines.append(
            f"not considered: {result.without_values:,} tracks without {columns} (songs without "
            "audio features or a genre cannot match a filter on them)"
        )
    if result.why_fewer:
        lines.append(f"fewer than {result.limit}: {result.why_fewer}")
    for hit in result.hits:
        line = describe_hit(hit, result.filters)
        also = f" | also as: {'; '.join(line.also_as)}" if line.also_as else ""
        lines.append(
            f"{hit.rank:>3}. {line.name} — {line.artists} [{line.genre or '?'}] "
            f"{line.score} | {line.features} | why: {line.why}{also}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class HitLine:
    """One hit as a person reads it (the CLI's line, the web app's row)."""

    name: str
    artists: str
    genre: str | None
    score: str
    features: str  # the song's own measured features, "no audio features" without any
    why: str
    also_as: list[str]


def describe_hit(hit: SearchHit, filters: list[Filter]) -> HitLine:
    d = hit.details
    conditions = [f"{f.column} {f.op} {format_value(f.value)}" for f in filters]
    if math.isnan(hit.score):
        score = f"popularity {d.get('popularity') if d.get('popularity') is not None else '?'}"
        why = ", ".join(conditions)
    elif "preference" in d:
        score = (
            f"score {hit.score:.3f} (similarity {d['similarity']:.3f}, preference "
            f"{d['preference']:.2f})"
        )
        why = ", ".join(["semantic match", "preferences", *conditions])
    else:
        score = f"score {hit.score:.3f}"
        why = ", ".join(["semantic match", *conditions])
    if d.get("name_match"):
        why = f"name match ({d['name_match']}), {why}"
    return HitLine(
        str(d.get("name")), ", ".join(d.get("artists") or []) or "unknown artist",
        d.get("genre"), score, _features(d), why, list(d.get("also_as") or []),
    )  # fmt: skip


def _features(details: dict) -> str:
    """The song's known features; never a number it does not have."""
    shown = [
        f"{label} {details[column]:{fmt}}"
        for column, label, fmt in (("tempo", "tempo", ".0f"), ("energy", "energy", ".2f"),
                                   ("valence", "valence", ".2f"),
                                   ("acousticness", "acoustic", ".2f"),
                                   ("loudness", "loudness", ".1f"),
                                   ("liveness", "live", ".2f"),
                                   ("speechiness", "speech", ".2f"))
        if details.get(column) is not None
    ]  # fmt: skip
    if details.get("mode") is not None:
        shown.append("major" if details["mode"] == 1 else "minor")
    if details.get("release_year") is not None:
        shown.append(str(details["release_year"]))
    return ", ".join(shown) or "no audio features"
