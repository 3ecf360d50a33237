"""The lexical leg of search: a song's own words (title, artists, album) against the query's.

Most songs of a real library are known by name only, so "songs by ¥$", an album name, a
Spanish title or a misspelt artist must not rest on the sentence model alone. Words are folded
one way for the index and the query (`words`); a query word the index does not know is
corrected to the known words one edit away (`typo_variants`); "by <artist>" names the artist
(`name_query`); the lexical ranking is fused with the vector ranking by weighted reciprocal
rank (`fuse`), weighted by how much the query is a name (`name_weight`): a title typed whole
leads the page, a description ("songs like a rainy sunday") is left to the vectors.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from spotify_assets.lib.names import fold_words
from spotify_assets.lib.search.engine import DETAIL_COLUMNS, SearchHit, blend_preferences
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.search import SearchRepository, where_sql
from spotify_assets.lib.store.track_search import TrackSearchRepository

# words that say what is wanted, not which song: never required of a song's name
QUERY_WORDS = frozenset([
    "a", "an", "and", "any", "for", "from", "i", "in", "me", "music", "my", "of", "on", "or",
    "play", "some", "song", "songs", "the", "to", "track", "tracks", "with",
])  # fmt: skip
# of those, the ones that make a query a request rather than a typed name ("music for
# studying" vs "Bohemian Rhapsody"): only its words that name an artist are looked for
ASKING = frozenset(
    ["any", "for", "music", "play", "some", "song", "songs", "track", "tracks", "with"]
)
# a query that describes (compares, speaks of a feel) is not a name, even if its words are
# in some title: "songs like a rainy sunday" is left to the vectors
DESCRIBING = frozenset([
    "like", "similar", "sounds", "sounding", "feel", "feels", "vibe", "vibes", "mood",
])  # fmt: skip
_BY = re.compile(r"(?:^|\s)by\s+(?P<artist>.+)$", re.IGNORECASE)
RRF_K = 60  # the usual constant of reciprocal-rank fusion
NAME_BOOST = 2.0  # a query every word of which is in one song's name: its name matches lead
MIN_TYPO_LENGTH = 4  # shorter words have too many neighbours one edit away
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def words(text: object) -> list[str]:
    """The folded words of a name, in order, each once: the same for the index and queries."""
    return list(dict.fromkeys(fold_words(text)))


@dataclass(frozen=True)
class TrackWords:
    """A track's words per field, as stored in `track_search`."""

    name: list[str]
    artists: list[str]
    album: list[str]

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys([*self.name, *self.artists, *self.album]))


def track_words(name: object, artists: Iterable[object] | None, album: object) -> TrackWords:
    artist_words = [w for artist in (artists or []) for w in words(artist)]
    return TrackWords(words(name), list(dict.fromkeys(artist_words)), words(album))


@dataclass
class LexicalQuery:
    """What of a query can be matched against names: `groups` are the content words (each
    with its typo corrections once known), `artist` the words after "by", and whether the
    query describes rather than names."""

    groups: list[list[str]] = field(default_factory=list)
    artist: list[list[str]] = field(default_factory=list)
    artist_text: str = ""
    describing: bool = False
    plain: bool = True  # nothing but name words: no request words, nothing understood
    # with the understood words too ("How Do You Sleep?": "sleep" also a preference), for a
    # query that may be a title typed whole; empty when nothing was understood
    whole: list[list[str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # every word before "by", small ones too

    @property
    def empty(self) -> bool:
        return not self.groups and not self.artist


def name_query(text: str, understood: Sequence[str] = ()) -> LexicalQuery:
    """The query's name words: without the words search understood as filters or
    preferences (`understood`: their source phrases) and without QUERY_WORDS; "by X" at the
    end names an artist."""
    artist_text = ""
    match = _BY.search(text)
    if match:
        artist_text = match.group("artist").strip()
        text = text[: match.start()]
    taken = {w for phrase in understood for w in words(phrase)}
    tokens = words(text)
    describing = any(w in DESCRIBING for w in tokens)
    plain = not taken and not any(w in ASKING for w in tokens)
    named = [w for w in tokens if w not in QUERY_WORDS and w not in DESCRIBING]
    content = [w for w in named if w not in taken]
    artist = [w for w in words(artist_text) if w not in taken]
    asking = any(w in ASKING for w in tokens)
    whole = [[w] for w in named] if taken and not asking and not describing else []
    return LexicalQuery(
        [[w] for w in content],
        [[w] for w in artist],
        artist_text,
        describing,
        plain,
        whole,
        tokens,
    )


def typo_variants(word: str) -> set[str]:
    """Every word one edit away (a letter deleted, swapped with the next, replaced or
    inserted): the candidates a misspelt query word is checked against."""
    if len(word) < MIN_TYPO_LENGTH or not word.isascii():
        return set()
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | swaps | replaces | inserts) - {word}


def with_corrections(groups: list[list[str]], known: set[str]) -> list[list[str]]:
    """Each group's word, or, when the index does not know it, the known words one edit
    away (the word itself stays: it may be in a name the index has not seen yet)."""
    out = []
    for group in groups:
        word = group[0]
        if word in known:
            out.append([word])
        else:
            out.append([word, *sorted(typo_variants(word) & known)])
    return out


def name_weight(query: LexicalQuery, best_coverage: float) -> float:
    """How much the lexical ranking counts beside the vectors' (which count 1): 0 for a
    description or nothing to match; for a request, its artist matches count 1 (only those
    are looked for); NAME_BOOST for a plain query one song's name holds whole."""
    if not query.groups or query.describing:
        return 0.0
    if not query.plain:
        return 1.0 if best_coverage >= 1.0 else 0.0
    return NAME_BOOST if best_coverage >= 1.0 else best_coverage


def fuse(
    semantic: Sequence[str], lexical: Sequence[tuple[str, float]], weight: float
) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion: each track's 1/(K + rank) in the vector ranking,
    plus `weight` × its name coverage × 1/(K + rank) in the lexical one; best first."""
    score: dict[str, float] = {}
    for rank, track_id in enumerate(semantic, start=1):
        score[track_id] = score.get(track_id, 0.0) + 1.0 / (RRF_K + rank)
    if weight > 0:
        for rank, (track_id, coverage) in enumerate(lexical, start=1):
            score[track_id] = score.get(track_id, 0.0) + weight * coverage / (RRF_K + rank)
    return sorted(score.items(), key=lambda item: (-item[1], item[0]))


def name_rows(tracks: pd.DataFrame) -> pd.DataFrame:
    """`track_search` rows for (track_id, name, artists, album_name, source_md5) rows."""
    built = [
        track_words(name, artists, album)
        for name, artists, album in zip(
            tracks["name"], tracks["artists"], tracks["album_name"], strict=True
        )
    ]
    return pd.DataFrame(
        {
            "track_id": tracks["track_id"].to_numpy(),
            "name_words": [w.name for w in built],
            "artist_words": [w.artists for w in built],
            "album_words": [w.album for w in built],
            "all_words": [w.all for w in built],
            "source_md5": tracks["source_md5"].to_numpy(),
        }
    )


def refresh_track_search(
    db: Database,
    progress: Callable[[str], None] | None = None,
    track_ids: Sequence[str] | None = None,
) -> int:
    """Build the name words of every track (of `track_ids`, when given: the ones written
    since) without them or whose name fields changed; each batch commits on its own (a
    killed run keeps what it wrote). Returns rows written."""
    written = 0
    with db.connect() as reader, reader.transaction():  # a named cursor lives in one
        for tracks in TrackSearchRepository(reader).stale(track_ids=track_ids):
            with db.connect() as conn, conn.transaction():
                written += TrackSearchRepository(conn).upsert(name_rows(tracks))
            if progress:
                progress(f"track_search: {written:,} tracks' name words written")
    return written


LEXICAL_POOL = 50  # name matches fused with the vector ranking
ARTIST_POOL = 2_000  # songs of a named artist ranked by the query's vector
# a name word held by more tracks than this is "common": it does not choose which tracks the
# lexical leg reads when the query has a rarer word (scoring the 12,500 tracks holding any
# word of "Cumbia Sobre el Mar - El Búho Remix" took 120-190 ms of a 214K-track search)
COMMON_WORD_ROWS = 1_000
WORD_STATS_SECONDS = 300.0  # how long a process keeps the word frequencies (from ANALYZE)
_word_stats: dict[str, tuple[float, frozenset[str]]] = {}
_word_stats_lock = threading.Lock()


def common_words(conn) -> frozenset[str]:
    """The name words held by more than COMMON_WORD_ROWS tracks, from the planner's statistics
    (re-read every WORD_STATS_SECONDS per database: a frequency only steers which rows are
    read, so a stale one costs time, never a wrong score)."""
    key = conn.info.dsn
    now = time.monotonic()
    with _word_stats_lock:
        kept = _word_stats.get(key)
    if kept is not None and now - kept[0] < WORD_STATS_SECONDS:
        return kept[1]
    rows = TrackSearchRepository(conn).word_rows()
    common = frozenset(w for w, n in rows.items() if n > COMMON_WORD_ROWS)
    with _word_stats_lock:
        _word_stats[key] = (now, common)
    return common


@dataclass
class NameOutcome:
    """The hits after the lexical leg, and what it did in words (for `words understood`)."""

    hits: list
    terms: list[tuple[str, str]]
    notes: list[str]
    strategy: str | None = None  # set when the page came from it


class _Names:
    """One search's name lookups: the query's words the index knows (with the known words one
    edit from an unknown one), and hits with their similarity and details."""

    def __init__(self, conn, bundle_hash: str, dims: int, vector, query: LexicalQuery):
        self.names = TrackSearchRepository(conn)
        self.repo = SearchRepository(conn)
        self.repo.prefer_index_scans()  # for the rest of the connection's transaction
        self.bundle_hash, self.dims, self.vector = bundle_hash, dims, vector
        asked = [w for g in [*query.groups, *query.artist] for w in g]
        known = self.names.known(asked)
        # a word no name has: which of its one-edit neighbours some name has
        typos = sorted({v for w in asked if w not in known for v in typo_variants(w)})
        self.known = known | self.names.known(typos)

    def as_hits(self, ranked: list[str], extra: dict[str, dict],
                similarity: dict[str, float] | None = None) -> list:  # fmt: skip
        if similarity is None:
            rows = self.repo.scored(self.bundle_hash, self.dims, self.vector, ranked, [])
            similarity = {r[0]: 1.0 - float(r[1]) for r in rows}
        details = self.repo.details(ranked, DETAIL_COLUMNS)
        return [
            SearchHit(
                rank, t, similarity.get(t, float("nan")), {**details.get(t, {}), **extra.get(t, {})}
            )
            for rank, t in enumerate(ranked, start=1)
        ]


def _corrected(found: list[list[str]]) -> str:
    fixes = [f"{g[0]} → {'/'.join(g[1:])}" for g in found if len(g) > 1]
    return f" (read as: {', '.join(fixes)})" if fixes else ""


@dataclass(frozen=True)
class NameRequest:
    """What the name steps of one search read: the query's vector and name words, the filters
    and preferences it has, and how many hits a page fetches."""

    bundle_hash: str
    dims: int
    vector: Any
    filters: Sequence
    preferences: Sequence
    query: LexicalQuery
    fetch: int


def artist_songs(conn, request: NameRequest) -> NameOutcome | None:
    """The page for "by X": the songs of the artist X that pass the filters, ranked by the
    vector (and the preferences, as preferred_search weighs them). None when no artist here is
    named so. Asked before any vector search: the page is these songs alone, so the nearest
    tracks of the whole catalog would be read for nothing."""
    query, bundle_hash, dims, vector = request.query, request.bundle_hash, request.dims, request.vector
    preferences, fetch = request.preferences, request.fetch
    if not query.artist:
        return None
    lookups = _Names(conn, bundle_hash, dims, vector, query)
    where, params = where_sql(request.filters)
    artist = with_corrections(query.artist, lookups.known)
    by = lookups.names.matches(bundle_hash, artist, where, params, ARTIST_POOL, "artist_words",
                               common=common_words(conn), near=vector)  # fmt: skip
    if not by:
        return None
    ids = [r[0] for r in by]
    similarity = {r[0]: 1.0 - r[3] for r in by}
    score = similarity
    if preferences:  # as preferred_search weighs them
        score = blend_preferences(lookups.repo.scored(bundle_hash, dims, vector, ids, preferences))
    ranked = sorted(score, key=lambda t: (-score[t], t))[:fetch]
    terms = [(f"by {query.artist_text}",
              f"artist: {len(ids):,} songs whose artists are “{query.artist_text}”"
              f"{_corrected(artist)}")]  # fmt: skip
    hits = lookups.as_hits(ranked, {t: {"name_match": "artist"} for t in ranked}, similarity)
    return NameOutcome(hits, terms, [], f"artist ({len(ids):,} songs) by similarity")


def apply_names(
    conn, request: NameRequest, hits: list, artist_checked: bool = False
) -> NameOutcome:
    """The vector hits with the query's name words taken into account: "by X" keeps the
    songs of the artist X (ranked by the vector), other name words fuse their matches in.
    `artist_checked`: `artist_songs` found no artist X under these filters already."""
    query, bundle_hash, filters, fetch = request.query, request.bundle_hash, request.filters, request.fetch
    lookups = _Names(conn, bundle_hash, request.dims, request.vector, query)
    names, as_hits = lookups.names, lookups.as_hits
    where, params = where_sql(filters)
    groups = with_corrections(query.groups, lookups.known)
    terms: list[tuple[str, str]] = []
    notes: list[str] = []

    if query.artist:
        found = None if artist_checked else artist_songs(conn, request)
        if found is not None:
            return found
        notes.append(
            f"no artist here is named “{query.artist_text}”: its words were searched as names"
        )
        groups = groups + with_corrections(query.artist, lookups.known)
    if len(query.whole) >= 2:
        # a title typed whole whose words search also understood ("Rich & Sad", "How Do You
        # Sleep?"): the songs whose title (and artists) are just these words are read as that
        # name first, and the filters understood from its words do not apply to them. Only
        # an exact title: a mood query ("loud rock", "sad rap") names no song
        plain_where, plain_params = where_sql([f for f in filters if not f.understood])
        words_asked = [g[0] for g in query.whole]
        titles = names.exact(bundle_hash, words_asked, plain_where, plain_params, LEXICAL_POOL,
                             "title", allowed=query.tokens)  # fmt: skip
        if titles:
            coverage = [(t, 1.0) for t in titles]
            fused = [t for t, _ in fuse([h.track_id for h in hits], coverage, NAME_BOOST)]
            terms.append((" ".join(words_asked),
                          f"names: {len(titles):,} songs are called so (also read as a name), "
                          f"weighed {NAME_BOOST:g}× beside the meaning"))  # fmt: skip
            matched = {t: {"name_match": "the whole title"} for t in titles}
            return NameOutcome(as_hits(fused[:fetch], matched), terms, notes)
    if not groups or query.describing:
        return NameOutcome(hits, terms, notes)
    if not query.plain:
        # a request ("beyonce songs", "acoustic guitar songs") names an artist, if anything:
        # its words must be exactly some artist's; a title or album word there is chance (on
        # the search suites, fusing those cost NDCG in every class and gained nothing)
        words_asked = [g[0] for g in groups]
        theirs = names.exact(bundle_hash, words_asked, where, params, LEXICAL_POOL, "artist")
        if not theirs:
            return NameOutcome(hits, terms, notes)
        fused = [t for t, _ in fuse([h.track_id for h in hits], [(t, 1.0) for t in theirs], 1.0)]
        terms.append((" ".join(words_asked),
                      f"artist: {len(theirs):,} songs whose artist is called so, weighed 1× "
                      "beside the meaning"))  # fmt: skip
        matched = {t: {"name_match": "artist"} for t in theirs}
        return NameOutcome(as_hits(fused[:fetch], matched), terms, notes)
    lexical = names.matches(bundle_hash, groups, where, params, LEXICAL_POOL,
                            common=common_words(conn))  # fmt: skip
    coverage = [(t, matched / len(groups)) for t, matched, _points in lexical]
    best = max((c for _, c in coverage), default=0.0)
    weight = name_weight(LexicalQuery(groups, plain=query.plain), best)
    if weight == 0:
        return NameOutcome(hits, terms, notes)
    fused = [t for t, _ in fuse([h.track_id for h in hits], coverage, weight)][:fetch]
    whole = sum(c >= 1.0 for _, c in coverage)
    terms.append((" ".join(g[0] for g in groups),
                  f"names: {whole:,} songs hold every word{_corrected(groups)}, weighed "
                  f"{weight:g}× beside the meaning"))  # fmt: skip
    matched = {t: {"name_match": f"{c:.0%} of the words"} for t, c in coverage}
    return NameOutcome(as_hits(fused, matched), terms, notes)
