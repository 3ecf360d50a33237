"""A search suite written against the truth, not the parser.

Each intent is a relevance rule on ground truth (audio features with documented or common
thresholds, or a catalog genre) and several phrasings a person might type, written before
looking at what the query parser understands (some it does not know). Thresholds: Spotify's
documentation where it gives one (speechiness > 0.66 spoken word, > 0.33 music with speech
such as rap; liveness > 0.8 live; instrumentalness > 0.5), else the bands track descriptions
use (lib/analyses/describe.py: tempo > 140 fast, < 100 slow; valence < 0.3 melancholic,
> 0.75 happy; energy > 0.8 high, < 0.4 low; loudness > -5 dB loud, < -12 dB soft or quiet;
acousticness > 0.7; danceability > 0.75 very danceable).

A genre intent names the genre as catalogs label it, in every label catalogs use
("hip-hop" and "hip hop"); the catalog's own label decides relevance. An intent with fewer
than `min_relevant` relevant tracks in a catalog is skipped there (a catalog without release
years skips the decade intents).

Each phrasing runs through the search service twice: hybrid (understanding on) and
semantic-only (off). The random baseline is a random list's expected value: P@10 = the base
rate, NDCG@10 = base rate × DCG of 10 ones / ideal DCG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.embeddings.update import Embedder
from spotify_assets.lib.metrics import ndcg_at_k, precision_at_k
from spotify_assets.lib.search.filters import Filter, matching_ids
from spotify_assets.lib.search.service import known_genres, search
from spotify_assets.lib.search.understand import genre_key
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.search import SearchRepository

K = 10


def _f(column: str, op: str, value: float) -> Filter:
    return Filter(column, op, value)


FAST, SLOW = _f("tempo", ">", 140), _f("tempo", "<", 100)
SAD, HAPPY = _f("valence", "<", 0.3), _f("valence", ">", 0.75)
LOUD, QUIET = _f("loudness", ">", -5), _f("loudness", "<", -12)
ENERGETIC, CALM = _f("energy", ">", 0.8), _f("energy", "<", 0.4)
MINOR, MAJOR = _f("mode", "=", 0), _f("mode", "=", 1)
LIVE = _f("liveness", ">", 0.8)
SPOKEN, SPEECHY = _f("speechiness", ">", 0.66), _f("speechiness", ">", 0.33)
ACOUSTIC, INSTRUMENTAL = _f("acousticness", ">", 0.7), _f("instrumentalness", ">", 0.5)
DANCEABLE = _f("danceability", ">", 0.75)


def years(low: int, high: int) -> tuple[Filter, Filter]:
    return _f("release_year", ">=", low), _f("release_year", "<=", high)


@dataclass(frozen=True)
class Intent:
    query_class: str
    phrasings: tuple[str, ...]
    truth: tuple[Filter, ...] = ()  # feature conditions, all must hold
    genres: tuple[str, ...] = ()  # labels catalogs use for the genre; one must be the track's


def _i(query_class: str, phrasings: Sequence[str], *truth: Filter, genres=()) -> Intent:
    return Intent(query_class, tuple(phrasings), tuple(truth), tuple(genres))


G1, G2 = "genre (one word)", "genre (multiword / spelling)"
INTENTS: list[Intent] = [
    _i(G1, ["rock songs", "some rock music", "play me some rock"], genres=["rock"]),
    _i(G1, ["pop songs", "pop music please", "mainstream pop"], genres=["pop"]),
    _i(G1, ["latin music", "latin songs", "música latina"], genres=["latin", "latino"]),
    _i(G1, ["rap songs", "rap music"], genres=["rap"]),
    _i(G1, ["EDM", "edm bangers", "electronic dance music"], genres=["edm"]),
    _i(G1, ["jazz", "some jazz tunes"], genres=["jazz"]),
    _i(G1, ["country songs", "country music"], genres=["country"]),
    _i(G1, ["reggae", "reggae vibes"], genres=["reggae"]),
    _i(G1, ["techno", "techno tracks"], genres=["techno"]),
    _i(G1, ["classical music", "classical pieces"], genres=["classical"]),
    _i(G1, ["metal songs", "metal"], genres=["metal"]),
    _i(G2, ["hip hop songs", "Hip-Hop", "hiphop beats"], genres=["hip-hop", "hip hop"]),
    _i(G2, ["r&b songs", "rnb", "R and B"], genres=["r&b", "r-n-b", "rnb"]),
    _i(G2, ["drum and bass", "drum & bass", "dnb"], genres=["drum-and-bass", "drum and bass"]),
    _i(G2, ["k pop", "kpop songs", "K-Pop"], genres=["k-pop", "k pop"]),
    _i(G2, ["death metal songs", "death metal"], genres=["death-metal", "death metal"]),
    _i(G2, ["detroit techno"], genres=["detroit-techno", "detroit techno"]),
    _i(G2, ["hard rock", "hard rock anthems"], genres=["hard-rock", "hard rock"]),
    _i(G2, ["deep house", "deep house music"], genres=["deep-house", "deep house"]),
    _i(G2, ["rock and roll", "rock n roll"], genres=["rock-n-roll", "rock and roll"]),
    _i(G2, ["heavy metal"], genres=["heavy-metal", "heavy metal"]),
    _i(G2, ["synth pop", "synthpop"], genres=["synth-pop", "synthpop"]),
    _i(G2, ["j pop", "jpop songs"], genres=["j-pop", "j pop"]),
    _i(G2, ["singer songwriter"], genres=["singer-songwriter", "singer songwriter"]),
    _i(G2, ["trip hop"], genres=["trip-hop", "trip hop"]),
    _i(G2, ["indie pop songs"], genres=["indie-pop", "indie pop"]),
    _i("mood", ["sad songs", "songs that make me cry", "depressing music", "heartbroken"], SAD),
    _i(
        "mood",
        [
            "happy songs",
            "cheerful upbeat tunes",
            "feel good music",
            "songs that put me in a good mood",
        ],
        HAPPY,
    ),
    _i("mood", ["dark songs", "dark and moody tracks"], SAD, MINOR),
    _i("mood", ["calm relaxing music", "chill songs", "something mellow to unwind"], CALM),
    _i("mood", ["energetic songs", "high energy workout music", "pump up songs"], ENERGETIC),
    _i("tempo", ["fast songs", "fast paced music", "songs with a quick tempo"], FAST),
    _i("tempo", ["slow songs", "slow jams", "something slow"], SLOW),
    _i("tempo", ["songs over 150 bpm", "tempo above 150"], _f("tempo", ">", 150)),
    _i("tempo", ["songs under 90 bpm", "below 90 bpm"], _f("tempo", "<", 90)),
    _i("loudness", ["loud songs", "really loud music", "blasting loud tracks"], LOUD),
    _i("loudness", ["quiet songs", "soft quiet music", "whisper quiet tracks"], QUIET),
    _i("key / mode", ["songs in a minor key", "minor key music", "sad minor key songs"], MINOR),
    _i("key / mode", ["songs in a major key", "major key tunes"], MAJOR),
    _i("key / mode", ["songs in C minor"], MINOR, _f("key", "=", 0)),
    _i("key / mode", ["songs in G major"], MAJOR, _f("key", "=", 7)),
    _i("live", ["live recordings", "live concert performances", "songs recorded live"], LIVE),
    _i("spoken / rap", ["spoken word", "spoken word poetry", "someone talking over music"], SPOKEN),
    _i("spoken / rap", ["songs with lots of rapping", "fast rap verses", "rap vocals"], SPEECHY),
    _i("acoustic / instrumental", ["acoustic songs", "unplugged acoustic music"], ACOUSTIC),
    _i(
        "acoustic / instrumental",
        ["instrumental music", "songs without vocals", "no singing just music"],
        INSTRUMENTAL,
    ),
    _i(
        "acoustic / instrumental",
        ["acoustic instrumental", "instrumental acoustic guitar"],
        ACOUSTIC,
        INSTRUMENTAL,
    ),
    _i("acoustic / instrumental", ["danceable songs", "songs to dance to"], DANCEABLE),
    _i("decade / year", ["songs from the 90s", "nineties music", "1990s hits"], *years(1990, 1999)),
    _i("decade / year", ["80s songs", "music from the eighties"], *years(1980, 1989)),
    _i("decade / year", ["2000s songs", "music from the 2000s"], *years(2000, 2009)),
    _i(
        "decade / year",
        ["songs released after 2015", "music newer than 2015"],
        _f("release_year", ">", 2015),
    ),
    _i(
        "decade / year",
        ["songs before 1980", "music older than 1980"],
        _f("release_year", "<", 1980),
    ),
    _i("combination", ["sad slow songs", "slow sad ballads"], SAD, SLOW),
    _i("combination", ["fast happy songs", "upbeat fast dance tunes"], FAST, HAPPY),
    _i(
        "combination",
        ["loud energetic rock", "loud high energy rock songs"],
        LOUD,
        ENERGETIC,
        genres=["rock"],
    ),
    _i("combination", ["calm acoustic songs", "chill acoustic music"], CALM, ACOUSTIC),
    _i(
        "combination",
        ["happy pop from the 2010s", "upbeat 2010s pop"],
        HAPPY,
        *years(2010, 2019),
        genres=["pop"],
    ),
    _i("combination", ["sad rap songs", "sad hip hop"], SAD, genres=["rap", "hip-hop", "hip hop"]),
    _i(
        "combination",
        ["energetic edm over 125 bpm"],
        ENERGETIC,
        _f("tempo", ">", 125),
        genres=["edm"],
    ),
    _i(
        "combination",
        ["fast loud metal", "fast and loud metal songs"],
        FAST,
        LOUD,
        genres=["metal"],
    ),
]


def relevant_ids(tracks: pd.DataFrame, intent: Intent) -> set[str]:
    """Track ids that satisfy the intent on ground truth (a genre intent: the track's own
    label equals one of the intent's labels, compared as catalogs spell them)."""
    ids = matching_ids(tracks, list(intent.truth))
    if intent.genres:
        wanted = {g.lower() for g in intent.genres}
        has = tracks["genres"].map(
            lambda gs: any(str(g).lower() in wanted for g in (gs if gs is not None else []))
        )
        ids &= set(tracks.loc[has, "track_id"])
    return ids


def random_ndcg(relevant: int, total: int, k: int = K) -> float:
    """A random list's expected NDCG@k: each position holds a relevant track with
    probability relevant / total."""
    if not relevant or not total:
        return 0.0
    gains = [1 / math.log2(i + 2) for i in range(k)]
    return (relevant / total) * sum(gains) / sum(gains[: min(k, relevant)])


@dataclass
class SuiteReport:
    rows: list[dict] = field(default_factory=list)
    tracks: int = 0
    skipped: list[str] = field(default_factory=list)
    min_relevant: int = 5

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def by_class(self) -> pd.DataFrame:
        """Mean of each metric per query class, then overall (mean over queries)."""
        frame = self.frame()
        if frame.empty:
            return frame
        metrics = [c for c in frame.columns if c not in ("class", "query", "relevant")]
        table = frame.groupby("class", sort=False)[metrics].mean()
        table["queries"] = frame.groupby("class", sort=False).size()
        table.loc["overall"] = [*frame[metrics].mean(), len(frame)]
        return table

    def summary(self) -> dict[str, float]:
        frame = self.frame()
        metrics = [c for c in frame.columns if c not in ("class", "query", "relevant")]
        return {m: float(frame[m].mean()) for m in metrics} if not frame.empty else {}


def ground_truth(db: Database, bundle: ModelBundle) -> pd.DataFrame:
    with db.connect() as conn:
        columns, rows = SearchRepository(conn).ground_truth_tracks(bundle.hash)
    return pd.DataFrame(rows, columns=columns)


def catalog_intents(tracks: pd.DataFrame, max_genres: int) -> list[Intent]:
    """'<genre> songs' for the catalog's most common genres, typed with spaces (as people
    write them) rather than the catalog's hyphens."""
    counts = tracks["genres"].explode().dropna().value_counts()
    return [
        _i(
            "genre (catalog list)",
            [f"{str(g).replace('-', ' ').replace('_', ' ')} songs"],
            genres=[g],
        )
        for g in counts.index[:max_genres]
    ]


def run_suite(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    intents: Sequence[Intent] = INTENTS,
    min_relevant: int = 5,
    max_catalog_genres: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> SuiteReport:
    """Every phrasing of every intent with at least `min_relevant` relevant tracks, hybrid
    and semantic-only, through the search service."""
    tracks = ground_truth(db, bundle)
    genres = known_genres(db)
    report = SuiteReport(tracks=len(tracks), min_relevant=min_relevant)
    covered = {genre_key(g) for i in intents for g in i.genres}
    extra = [
        i
        for i in catalog_intents(tracks, max_catalog_genres)
        if genre_key(i.genres[0]) not in covered
    ]
    for intent in [*intents, *extra]:
        relevant = relevant_ids(tracks, intent)
        if len(relevant) < min_relevant:
            report.skipped.extend(intent.phrasings)
            continue
        for text in intent.phrasings:
            row = {"class": intent.query_class, "query": text, "relevant": len(relevant)}
            for system, understand in (("hybrid", True), ("semantic", False)):
                result = search(
                    db, bundle, embedder, text, limit=K, understand=understand, genres=genres
                )
                ranked = [h.track_id for h in result.hits]
                row[f"{system}_p@10"] = precision_at_k(ranked, relevant, K)
                row[f"{system}_ndcg@10"] = ndcg_at_k(ranked, relevant, K)
            row["random_p@10"] = len(relevant) / len(tracks)
            row["random_ndcg@10"] = random_ndcg(len(relevant), len(tracks))
            row["ideal_p@10"] = min(K, len(relevant)) / K
            report.rows.append(row)
        progress(f"search suite: {intent.query_class} {intent.phrasings[0]!r} done")
    return report
