"""What each page shows, as typed view models built from lib/ (no Starlette here, so the
pages' content is tested without a server)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from spotify_assets.lib.artifacts import ArtifactStore
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.catalog.coverage import CoverageRow, library_coverage
from spotify_assets.lib.listening.dashboard import artifact_folder
from spotify_assets.lib.matching.apply import apply_accepted
from spotify_assets.lib.search.service import describe_hit, search
from spotify_assets.lib.search.similar import more_like
from spotify_assets.lib.search.taste import parse_reference
from spotify_assets.lib.search.taste_service import taste_search, taste_why
from spotify_assets.lib.spotify.client import SpotifyClient
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.decisions import (
    NONE_OF_THESE,
    DecisionRepository,
)
from spotify_assets.lib.store.decisions import (
    decisions_csv as to_csv,
)
from spotify_assets.lib.store.matching import MatchRepository
from spotify_assets.lib.store.playlists import PlaylistRepository

PER_SONG = 3  # suggestions shown per song in the sort review
SONGS_SHOWN = 50


@dataclass
class Row:
    """One song in a list of results."""

    track_id: str
    name: str
    artists: str
    genre: str | None
    score: str
    features: str
    why: str
    also_as: list[str] = field(default_factory=list)


@dataclass
class Chip:
    """Words of the query that became a filter or preference; removing it searches again
    without that meaning (the words still count for the semantic match)."""

    words: str
    meaning: str
    remove_url: str = ""


@dataclass
class SearchPage:
    heading: str  # what was searched: the catalog, or relative to a person's songs
    rows: list[Row]
    chips: list[Chip]
    filters: list[str]
    notes: list[str]
    empty: str | None = None  # why there are no results


def search_page(db: Database, bundle: ModelBundle, embedder, query: str, person: str | None,
                ignore: frozenset[str] = frozenset()) -> SearchPage:  # fmt: skip
    """A catalog search, or, with a person and a query naming their songs ("… songs I like"),
    a search relative to that person's library. InputError for a bad query."""
    if person and parse_reference(" ".join(query.split())) is not None:
        taste = taste_search(db, bundle, embedder, query, person)
        rows = [
            Row(th.hit.track_id, str(th.hit.details.get("name")),
                ", ".join(th.hit.details.get("artists") or []) or "unknown artist",
                th.hit.details.get("genre"), f"score {th.hit.score:.2f}", "",
                taste_why(taste, th))
            for th in taste.hits
        ]  # fmt: skip
        heading = (
            f"relative to {taste.reference.describe().replace('your', person + chr(39) + 's', 1)}"
            f" ({taste.embedded:,} of {taste.references:,} songs embedded)"
        )
        empty = None if rows else "no track of that style outside their own songs"
        return SearchPage(heading, rows, [], [f.describe() for f in taste.filters],
                          taste.notes, empty)  # fmt: skip
    result = search(db, bundle, embedder, query, ignore=ignore)
    rows = []
    for hit in result.hits:
        line = describe_hit(hit, result.filters)
        rows.append(Row(hit.track_id, line.name, line.artists, line.genre, line.score,
                        line.features, line.why, line.also_as))  # fmt: skip
    sources = {f.source for f in result.filters if f.understood}
    sources |= {p.source for p in result.preferences}
    chips = [Chip(words, meaning) for words, meaning in result.terms if words in sources]
    filters = [f.describe() for f in result.filters]
    filters += [p.describe() for p in result.preferences]
    return SearchPage("the whole catalog", rows, chips, filters, result.notes, result.why_empty)


@dataclass
class LikePage:
    track_id: str
    rows: list[Row]


def like_page(db: Database, bundle: ModelBundle, track_id: str) -> LikePage:
    hits = more_like(db, bundle, track_id)
    rows = [
        Row(h.track_id, str(h.details.get("name")),
            ", ".join(h.details.get("artists") or []) or "unknown artist", h.details.get("genre"),
            f"similarity {h.score:.3f}", describe_hit(h, []).features, "nearest in meaning",
            list(h.details.get("also_as") or []))
        for h in hits
    ]  # fmt: skip
    return LikePage(track_id, rows)


@dataclass
class PersonPage:
    coverage: list[CoverageRow]
    playlists: int
    decisions: dict[str, int]  # accept / reject / none → count


def person_page(db: Database, bundle: ModelBundle, person: str,
                artifacts: ArtifactStore | None) -> PersonPage:  # fmt: skip
    coverage = library_coverage(db, person, bundle.hash)
    with db.connect() as conn:
        playlists = len(PlaylistRepository(conn).names_and_sources(person))
        decisions: dict[str, int] = {}
        for d in DecisionRepository(conn).of(person):
            decisions[d.decision] = decisions.get(d.decision, 0) + 1
    return PersonPage(coverage, playlists, decisions)


@dataclass
class Suggestion:
    playlist_id: str
    playlist: str
    score: float
    confidence: float
    fits: bool
    reasons: str
    decision: str | None  # accept | reject | None


@dataclass
class SongReview:
    track_id: str
    name: str
    artists: str
    suggestions: list[Suggestion]
    none_of_these: bool  # the person said none of the shown playlists fits

    @property
    def fits_somewhere(self) -> bool:
        return any(s.fits for s in self.suggestions)


@dataclass
class SortPage:
    songs: list[SongReview]
    total_songs: int
    remedy: str | None = None  # how to get suggestions when there are none


def sort_page(db: Database, bundle: ModelBundle, person: str) -> SortPage:
    """The person's latest sorting run under the bundle: each song's best playlists with
    score, confidence and reasons, and what the person decided about them."""
    with db.connect() as conn:
        context = MatchRepository(conn).latest_context(person, bundle.hash)
        if context is None:
            return SortPage([], 0, f"no suggestions yet: run `spotify-assets sort --person "
                                   f"{person}` (it sorts their liked songs into their playlists)")  # fmt: skip
        results = MatchRepository(conn).results(context)
        decided = {(d.track_id, d.playlist_id): d.decision
                   for d in DecisionRepository(conn).of(person)}  # fmt: skip
    ranked = results[results["song_rank"].notna()].sort_values(["track_id", "song_rank"])
    songs = []
    for track_id, group in ranked.groupby("track_id", sort=False):
        first = group.iloc[0]
        suggestions = [
            Suggestion(r.playlist_id, r.playlist_name, float(r.score), _number(r.confidence),
                       bool(r.fits), r.reasons or "", decided.get((track_id, r.playlist_id)))
            for r in group.head(PER_SONG).itertuples()
        ]  # fmt: skip
        songs.append(SongReview(
            str(track_id), str(first["track_name"]), ", ".join(first["artists"] or []) or "?",
            suggestions, (track_id, NONE_OF_THESE) in decided,
        ))  # fmt: skip
    # undecided songs first, then those that fit somewhere
    songs.sort(key=lambda s: (any(x.decision for x in s.suggestions) or s.none_of_these,
                              not s.fits_somewhere, s.name.casefold()))  # fmt: skip
    return SortPage(songs[:SONGS_SHOWN], len(songs))


def _number(value) -> float:
    value = float(value) if value is not None else math.nan
    return 0.0 if math.isnan(value) else value


def decide(db: Database, person: str, track_id: str, playlist_id: str, decision: str,
           score: float | None) -> None:  # fmt: skip
    with db.connect() as conn:
        DecisionRepository(conn).decide(person, track_id, playlist_id, decision, score)


def apply(db: Database, person: str, spotify: Callable[[], SpotifyClient]) -> list[str]:
    with spotify() as client:
        return apply_accepted(db, person, client).lines()


def decisions_csv(db: Database, person: str) -> str:
    with db.connect() as conn:
        return to_csv(DecisionRepository(conn).of(person))


def dashboard_key(person: str) -> str:
    """The person's listening dashboard page (the listening_dashboard asset writes it)."""
    return f"{artifact_folder(person)}/index.html"
