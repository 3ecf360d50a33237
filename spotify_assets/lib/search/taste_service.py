"""The taste search: a query's reference set from the store, its style understood as in any
search, candidates from the engine, re-ranked by lib/search/taste.py and explained.

Candidates: with a genre named, every track the filters keep (the genre is a hard filter);
otherwise the semantic top `POOL` for the style words; with no style words at all, the `POOL`
nearest the reference songs' mean. Reference songs are never returned.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.blas import one_blas_thread
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.cache import VersionedCache
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.search.engine import (
    EXACT_THRESHOLD,
    FilteredVectors,
    SearchHit,
    embedded_vectors,
    filtered_vectors,
    nearest_except,
    vectors_of,
)
from spotify_assets.lib.search.filters import Filter, format_value, parse_where, range_notes
from spotify_assets.lib.search.inputs import normalize_query, parse_limit
from spotify_assets.lib.search.service import understood_filters
from spotify_assets.lib.search.taste import (
    DEFAULT_CONFIG,
    LIKED,
    MOST_PLAYED,
    PLAYLIST,
    Population,
    ReferenceQuery,
    TasteConfig,
    centroids,
    parse_reference,
    preselect,
    taste_scores,
)
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.search import SearchRepository
from spotify_assets.lib.store.taste import TasteRepository
from spotify_assets.lib.store.tracks import TrackRepository

POOL = 500  # candidates when no genre bounds the style
# With a genre named every track it keeps (up to EXACT_THRESHOLD, nearest the style first) is a
# candidate, z-scored against all of them; scoring each against every reference song took
# seconds (10K tracks × 1,500 liked songs), so only the GENRE_SCORED likeliest are (ranked by
# the same blend with each track's nearest reference songs among those of its nearest of
# REFERENCE_CENTROIDS centroids), the closeness spread estimated on CLOSENESS_SAMPLE of them
# (lib/search/taste.py: preselect). On the many-people benchmark's people, the top 10 matched
# scoring every track in N of M searches (see README)
# what a candidate's line and its ranking read (name and artists also tell one song's ids)
TASTE_COLUMNS = ("name", "artists", "album_name", "genre", "release_year", "popularity")
# 600, not 1,500: scoring them is a product with every reference song (1,500 × 2,500 songs
# took ~100 ms on 2 busy cores); on the 5-person benchmark home's 50 genre-named searches
# (5 genres, liked and most played, 5 people) the top 10 were the same for all 50 (300: 49)
GENRE_SCORED = 600
CLOSENESS_SAMPLE = 600
# the share of them given the clustered closeness (lib/search/taste.py: preselect): ranked
# first by their nearest centroid alone, half kept the top 10 of scoring every track as the
# clustered pass over all did (30 of 30 genre searches on a 60K-track many-people home; 24
# synthetic 20K-track worlds), a quarter did not (0.93 overlap, one search 1 of 10)
GENRE_SHORTLIST_SHARE = 0.5
REFERENCE_CENTROIDS = 32
AUDIO_COLUMNS = ("danceability", "energy", "valence", "tempo", "acousticness",
                 "instrumentalness", "speechiness", "loudness")  # fmt: skip
_GENERIC = re.compile(
    r"^(?:(?:songs?|tracks?|music|stuff|tunes|some|any|the|more|other)\s*)*$", re.I
)


class ReferenceUnavailable(InputError):
    """The reference set a query names is not stored (unknown person, nothing liked, …)."""


@dataclass
class TasteHit:
    hit: SearchHit  # score = the blended taste score
    style_score: float  # cosine to the style words (NaN without style words)
    closeness: float  # mean cosine of the k nearest reference songs
    nearest: dict  # the nearest reference song's name and artists


@dataclass
class TasteResult:
    query: str
    person: str
    reference: ReferenceQuery
    filters: list[Filter]
    hits: list[TasteHit]
    references: int  # songs in the reference set
    embedded: int  # of them, with a vector under the bundle (the profile)
    candidates: int  # tracks the style selected, reference songs left out
    pool: str  # how the candidates were chosen
    notes: list[str] = field(default_factory=list)


# (database url, person, which set) → its track ids: "most played" counts every play of the
# person (40-70 ms for 40K plays); the sets change only with the libraries (library_changes)
_reference_sets: VersionedCache[list[str]] = VersionedCache(size=256)


def reference_ids(db: Database, person: str, reference: ReferenceQuery) -> list[str]:
    """The track ids of the reference set; ReferenceUnavailable says what is missing (cached
    per process while no library changes)."""
    with db.connect() as conn:
        version = TasteRepository(conn).library_version()
    which = (reference.kind, (reference.playlist or "").casefold())
    ids = _reference_sets.get((db.url, person, which), version,
                              lambda: _reference_ids(db, person, reference))  # fmt: skip
    return list(ids)


def _reference_ids(db: Database, person: str, reference: ReferenceQuery) -> list[str]:
    with db.connect() as conn:
        repo = TasteRepository(conn)
        if not repo.known_person(person):
            raise ReferenceUnavailable(
                f"nothing is stored for person {person!r}: import their export with "
                f"`spotify-assets import PATH --person {person}`"
            )
        if reference.kind == LIKED:
            ids = repo.liked(person)
            if not ids:
                raise ReferenceUnavailable(
                    f"no liked songs stored for {person}: import an export with YourLibrary.json"
                )
            return ids
        if reference.kind == MOST_PLAYED:
            ids = repo.most_played(person)
            if not ids:
                unjoined = repo.plays_without_joins(person)
                remedy = (
                    f"join them to the catalog with `spotify-assets listening update --person {person}`"
                    if unjoined
                    else "import a streaming history with `spotify-assets listening import`"
                )
                raise ReferenceUnavailable(f"no plays joined to songs for {person}: {remedy}")
            return ids
        wanted = _blanks((reference.playlist or "").casefold())
        playlists = repo.playlists(person)  # a query's blanks are collapsed: the name's too
        found = [pid for pid, name in playlists if _blanks((name or "").casefold()) == wanted]
        if not found:
            names = ", ".join(f"'{n}'" for _, n in playlists[:8]) or "none"
            more = " …" if len(playlists) > 8 else ""
            raise ReferenceUnavailable(
                f"{person} has no playlist named '{reference.playlist}'; their playlists: "
                f"{names}{more}"
            )
        ids = [t for pid in found for t in repo.playlist_members(pid)]
        if not ids:
            raise ReferenceUnavailable(f"{person}'s playlist '{reference.playlist}' is empty")
        return list(dict.fromkeys(ids))


@dataclass
class TastePool:
    """What ranking needs, gathered once (an evaluation ranks it under several configs)."""

    query: str
    person: str
    reference: ReferenceQuery
    filters: list[Filter]
    style: str  # the style words searched ("" when the query gave none)
    references: int  # songs in the reference set
    ref_ids: list[str]  # of them, those with a vector under the bundle (the profile)
    ref_vectors: np.ndarray
    ref_details: dict[str, dict]  # name, artists of the reference songs
    found: list[SearchHit]  # the candidates: style hits, reference songs left out
    vectors: np.ndarray
    audio: tuple[np.ndarray | None, np.ndarray | None]  # candidates', references' features
    pool: str  # how the candidates were chosen
    notes: list[str]
    # the spreads scores are z-scored against when only some of the candidates were scored
    population: Population | None = None


@dataclass(frozen=True)
class Profile:
    """A reference set's songs that have a vector under the bundle, in the set's order."""

    ids: list[str]
    vectors: np.ndarray
    details: dict[str, dict]  # name, artists
    songs: frozenset[tuple]  # their `_song` identities
    centroids: np.ndarray  # REFERENCE_CENTROIDS centroids of the vectors (lib/search/taste.py)


# (database url, bundle, the reference ids) → its Profile: reading a few thousand liked songs'
# vectors took most of a warm taste search; they change only when the vectors or the catalog
# do (vector_changes, catalog_changes). ~6 MB for 4,000 songs: a few dozen sets are kept
_profiles: VersionedCache[Profile] = VersionedCache(size=48)


# (database url, bundle, filters) → every track they keep with its vector: a genre's rows are
# read once (the vectors of 10K tracks took ~100 ms to send) and serve every person's search
# naming it until the vectors change (vector_changes); ~1.5 KB a track, so few are kept
_genre_rows: VersionedCache[FilteredVectors] = VersionedCache(size=8)


def genre_rows(db: Database, conn, bundle_hash: str, dims: int,
               filters: list[Filter]) -> FilteredVectors:  # fmt: skip
    """Every track `filters` keep, with vectors (cached per process while they are unchanged)."""
    version = EmbeddingRepository(conn).vectors_version()
    key = (db.url, bundle_hash, tuple(sorted((f.column, f.op, repr(f.value)) for f in filters)))
    return _genre_rows.get(key, version, lambda: filtered_vectors(conn, bundle_hash, dims, filters))


def reference_profile(db: Database, conn, bundle_hash: str, dims: int,
                      ids: list[str]) -> Profile:  # fmt: skip
    """The reference songs' vectors and names (cached per process while neither the vectors
    nor the catalog change)."""
    version = (EmbeddingRepository(conn).vectors_version(),
               TrackRepository(conn).catalog_version())  # fmt: skip

    def read() -> Profile:
        kept, vectors = embedded_vectors(conn, bundle_hash, dims, ids)
        if not kept:
            empty = np.zeros((0, 0), dtype=np.float32)
            return Profile([], empty, {}, frozenset(), empty)
        details = SearchRepository(conn).details(kept, ("name", "artists"))
        grouped = centroids(vectors, REFERENCE_CENTROIDS)
        for shared in (vectors, grouped):  # shared by every search while the profile is kept
            shared.setflags(write=False)
        return Profile(kept, vectors, details, frozenset(_song(d) for d in details.values()),
                       grouped)  # fmt: skip

    key = (db.url, bundle_hash, hashlib.sha256("\x1f".join(ids).encode()).hexdigest())
    return _profiles.get(key, version, read)


def gather(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    query: str,
    person: str,
    where: str | None = None,
    genres: list[str] | None = None,
    references: list[str] | None = None,
    audio: bool = False,
    config: TasteConfig = DEFAULT_CONFIG,
) -> TastePool:
    """The reference set (stored, or `references` given by an evaluation), the candidates the
    style selects and their vectors. Raises SearchInputError for a bad input or a query naming
    no reference set, ReferenceUnavailable when the set is missing."""
    from spotify_assets.lib.search.filters import SearchInputError

    text, notes = normalize_query(query)
    reference = parse_reference(text)
    if reference is None:
        raise SearchInputError(
            f"{text!r} names no songs of yours (e.g. 'songs I like', 'my most played', "
            "'from my playlist NAME')"
        )
    explicit = parse_where(where)
    style = "" if _GENERIC.match(reference.style) else reference.style
    filters = understood_filters(db, style, explicit, genres) if style else explicit
    notes += range_notes(filters)
    ids = references if references is not None else reference_ids(db, person, reference)
    with db.connect() as conn:
        profile = reference_profile(db, conn, bundle.hash, bundle.embedding.dims, ids)
        if not profile.ids:
            raise ReferenceUnavailable(
                f"none of the {len(ids):,} songs of {reference.describe().removeprefix('your ')} "
                f"of {person} is embedded under bundle {bundle.name}: import or embed them first"
            )
        ref_ids, ref_vectors, ref_details = profile.ids, profile.vectors, profile.details
        genre_named = any(f.column == "genre" and f.op == "=" for f in filters)

        def keep(details: dict) -> bool:  # not one of their songs under another id
            return _song(details) not in profile.songs

        population = None
        dims = bundle.embedding.dims
        if style and genre_named:
            target = embedder.embed([style], "query")[0]
            rows = genre_rows(db, conn, bundle.hash, dims, filters)
            with one_blas_thread():
                every_similarity = rows.similarity(target)
                every = rows.nearest(target, EXACT_THRESHOLD, ids, every_similarity)
                similarity = every_similarity[every]
                chosen, population = preselect(
                    rows.vectors[every], similarity, rows.popularity[every], ref_vectors,
                    profile.centroids, config, GENRE_SCORED, CLOSENESS_SAMPLE,
                    int(len(every) * GENRE_SHORTLIST_SHARE),
                )  # fmt: skip
            picked = every[chosen]
            shown = SearchRepository(conn).details([str(rows.track_ids[i]) for i in picked],
                                                   TASTE_COLUMNS)  # fmt: skip
            kept = [j for j, i in zip(chosen, picked, strict=True)
                    if keep(shown.get(str(rows.track_ids[i]), {}))]  # fmt: skip
            found = [
                SearchHit(rank, str(rows.track_ids[every[j]]), float(similarity[j]),
                          shown.get(str(rows.track_ids[every[j]]), {}))
                for rank, j in enumerate(kept, start=1)
            ]  # fmt: skip
            vectors = (rows.vectors[every[kept]] if kept
                       else np.zeros((0, dims), dtype=np.float32))  # fmt: skip
            how = (f"every track the filters keep ({len(every):,}; the "
                   f"{min(GENRE_SCORED, len(every)):,} likeliest scored)")  # fmt: skip
        else:
            if style:
                target, how = embedder.embed([style], "query")[0], f"the top {POOL} for the style"
            else:
                target = ref_vectors.mean(axis=0)
                target /= np.linalg.norm(target) or 1.0
                how = f"the {POOL} nearest your songs' mean"
            found, _ = nearest_except(conn, bundle.hash, dims, target, filters, POOL, set(ids),
                                      keep, TASTE_COLUMNS)  # fmt: skip
            if found and all(h.vector is not None for h in found):  # read by the HNSW path
                vectors = np.stack([h.vector for h in found])
            else:
                vectors = vectors_of(conn, bundle.hash, dims, [h.track_id for h in found])
        features = _audio(conn, found, ref_ids) if audio and found else (None, None)
    return TastePool(text, person, reference, filters, style, len(ids), ref_ids, ref_vectors,
                     ref_details, found, vectors, features, how, notes, population)  # fmt: skip


def rank(pool: TastePool, config: TasteConfig = DEFAULT_CONFIG, limit: int = 10) -> TasteResult:
    """The pool's candidates best first (one line per song: a song under two ids shows once)."""
    result = TasteResult(pool.query, pool.person, pool.reference, pool.filters, [],
                         pool.references, len(pool.ref_ids), len(pool.found), pool.pool,
                         pool.notes)  # fmt: skip
    if not pool.found:
        return result
    style_scores = (
        np.array([h.score for h in pool.found]) if pool.style else np.zeros(len(pool.found))
    )
    popularity = np.array(
        [np.nan if h.details.get("popularity") is None else h.details["popularity"]
         for h in pool.found],
        dtype=float,
    )  # fmt: skip
    with one_blas_thread():
        scored = taste_scores(
            pool.vectors, style_scores, pool.ref_vectors, config, *pool.audio, popularity,
            pool.population,
        )  # fmt: skip
    shown: set[tuple] = set()
    for i in np.argsort(-scored.score, kind="stable"):
        hit = pool.found[i]
        if (song := _song(hit.details)) in shown:
            continue
        shown.add(song)
        result.hits.append(
            TasteHit(
                SearchHit(len(result.hits) + 1, hit.track_id, float(scored.score[i]), hit.details),
                float(style_scores[i]) if pool.style else math.nan,
                float(scored.closeness[i]),
                pool.ref_details.get(pool.ref_ids[scored.nearest[i]], {}),
            )
        )
        if len(result.hits) == limit:
            break
    return result


def taste_search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    query: str,
    person: str,
    limit: int | str = 10,
    where: str | None = None,
    genres: list[str] | None = None,
    config: TasteConfig = DEFAULT_CONFIG,
) -> TasteResult:
    """Tracks of the query's style nearest the reference set it names, best first."""
    number = parse_limit(limit)
    pool = gather(db, bundle, embedder, query, person, where, genres,
                  audio=config.audio_weight > 0, config=config)  # fmt: skip
    return rank(pool, config, number)


def _blanks(text: str) -> str:
    return " ".join(text.split())


def _song(details: dict) -> tuple:
    """A song's identity across ids: its name and artists, case-folded."""
    name = (details.get("name") or "").casefold().strip()
    return (name, tuple(a.casefold() for a in details.get("artists") or ())) if name else ("",)


def _audio(conn, found: list[SearchHit], ref_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Standardised audio features (NaN where unknown) of the candidates and the references."""
    spread = TrackRepository(conn).mean_and_spread(AUDIO_COLUMNS)
    mean = np.array([v if v is not None else np.nan for v in spread[0::2]], dtype=float)
    std = np.array([v or np.nan for v in spread[1::2]], dtype=float)
    rows = TasteRepository(conn).features([h.track_id for h in found] + ref_ids, AUDIO_COLUMNS)

    def matrix(ids: list[str]) -> np.ndarray:
        values = np.array(
            [[np.nan if v is None else float(v) for v in rows.get(t, (None,) * len(AUDIO_COLUMNS))]
             for t in ids],
            dtype=float,
        )  # fmt: skip
        return (values - mean) / std

    return matrix([h.track_id for h in found]), matrix(ref_ids)


def format_taste(result: TasteResult) -> str:
    """The result, each hit with why: its nearest reference song and the style it matched."""
    style_text = result.reference.style if not _GENERIC.match(result.reference.style) else ""
    lines = [
        f"query: {result.query}",
        f"reference: {result.reference.describe().replace('your', result.person + chr(39) + 's', 1)}"
        f" — {result.embedded:,} of {result.references:,} songs embedded (the profile)",
        f"style: {style_text or '(none: nearest your songs)'}; filters understood: "
        f"{', '.join(f.describe() for f in result.filters) or 'none'}",
        f"candidates: {result.candidates:,} ({result.pool}; your own songs left out)",
    ]
    for th in result.hits:
        d = th.hit.details
        artists = ", ".join(d.get("artists") or []) or "?"
        style_score = "" if math.isnan(th.style_score) else f", style {th.style_score:.3f}"
        lines.append(
            f"{th.hit.rank:>3}. {d.get('name')} — {artists} [{d.get('genre') or '?'}] "
            f"score {th.hit.score:.2f} (taste {th.closeness:.3f}{style_score}) | why: "
            f"{taste_why(result, th)}"
        )
    return "\n".join(lines)


def taste_why(result: TasteResult, th: TasteHit) -> str:
    """Why a hit: its nearest reference song, and the style it matched."""
    kind = {LIKED: "liked song", MOST_PLAYED: "most played song", PLAYLIST: "song"}[
        result.reference.kind
    ]
    where = f" in '{result.reference.playlist}'" if result.reference.kind == PLAYLIST else ""
    style = ", ".join(f"{f.column} = {format_value(f.value)}" if f.op == "=" else
                      f"{f.column} {f.op} {format_value(f.value)}" for f in result.filters)  # fmt: skip
    style_text = result.reference.style if not _GENERIC.match(result.reference.style) else ""
    near = th.nearest
    near_artists = ", ".join(near.get("artists") or []) or "?"
    why = f"closest to your {kind}{where} '{near.get('name')}' by {near_artists}"
    if style:
        why += f"; style: {style}"
    elif style_text:
        why += f"; style: semantic match to '{style_text}'"
    return why
