"""A held-out search suite, written without seeing the query parser or the main suite's queries.

The main suite (suite.py) and the parser share an author, so its figures may flatter the
parser. These intents were written blind, the way different people type into a music app
(slang, word orders, explicit numbers, a few negations truth can express), and committed
before any search ran. Relevance uses the same truth rules and thresholds as suite.py;
genre labels are the catalogs' own (TidyTuesday playlist genres, the Kaggle sample's
track_genre). "Hip hop" and "rap" are one intent: TidyTuesday files hip hop under rap.
"""

from __future__ import annotations

from spotify_assets.lib.search.suite import (
    ACOUSTIC,
    CALM,
    DANCEABLE,
    ENERGETIC,
    FAST,
    HAPPY,
    INSTRUMENTAL,
    LIVE,
    LOUD,
    MAJOR,
    MINOR,
    QUIET,
    SAD,
    SLOW,
    SPEECHY,
    SPOKEN,
    Intent,
    _f,
    _i,
    years,
)

RAP = ("rap", "hip-hop", "hip hop")
RNB = ("r&b", "r-n-b")

BLIND_INTENTS: list[Intent] = [
    # genre, one word
    _i("genre", ["play me some pop", "pop music please", "catchy pop tunes"], genres=["pop"]),
    _i("genre", ["rock tunes", "i want to hear rock"], genres=["rock"]),
    _i("genre", ["musica latina", "latin music for a party"], genres=["latin"]),
    _i("genre", ["edm bangers", "some edm please"], genres=["edm"]),
    _i("genre", ["opera arias", "a bit of opera"], genres=["opera"]),
    _i("genre", ["country music for the road trip", "country songs"], genres=["country"]),
    _i("genre", ["gospel choir songs", "sunday gospel"], genres=["gospel"]),
    _i("genre", ["salsa to dance to", "salsa music"], genres=["salsa"]),
    # genre, several words or spellings
    _i("genre variant", ["hiphop", "hip-hop joints", "old school hip hop beats"], genres=RAP),
    _i("genre variant", ["rnb", "R and B slow jams", "rhythm and blues"], genres=RNB),
    _i("genre variant", ["drum n bass", "dnb tracks", "drum & bass"], genres=["drum-and-bass"]),
    _i("genre variant", ["death metal", "brutal death metal riffs"], genres=["death-metal"]),
    _i("genre variant", ["norwegian black metal", "blackmetal"], genres=["black-metal"]),
    _i("genre variant", ["trip hop", "triphop like massive attack"], genres=["trip-hop"]),
    _i("genre variant", ["synthpop", "synth pop songs"], genres=["synth-pop"]),
    _i("genre variant", ["broadway show tunes", "musical theatre songs"], genres=["show-tunes"]),
    _i("genre variant", ["deep house set", "deep-house grooves"], genres=["deep-house"]),
    _i("genre variant", ["psychedelic rock", "psych rock jams"], genres=["psych-rock"]),
    # mood and energy
    _i(
        "mood",
        ["songs to cry to", "heartbreak tunes", "tunes for a rainy day", "feeling down"],
        SAD,
    ),
    _i(
        "mood",
        ["feel good music", "happy vibes only", "songs that put me in a good mood"],
        HAPPY,
    ),
    _i("mood", ["chill vibes", "mellow tracks to unwind", "something soothing"], CALM),
    _i("energy", ["high energy bangers", "pump up songs", "intense tracks"], ENERGETIC),
    _i("energy", ["songs to dance to", "stuff you can really dance to"], DANCEABLE),
    # tempo
    _i("tempo", ["uptempo tracks", "fast paced songs", "quick tempo music"], FAST),
    _i("tempo", ["slow songs", "something slow", "downtempo music"], SLOW),
    _i(
        "tempo",
        ["songs above 150 bpm", "tracks faster than 150 bpm"],
        _f("tempo", ">", 150),
    ),
    _i("tempo", ["music under 90 bpm", "slower than 90 bpm"], _f("tempo", "<", 90)),
    _i(
        "tempo",
        ["songs between 120 and 130 bpm", "120-130 bpm tracks for running"],
        _f("tempo", ">=", 120),
        _f("tempo", "<=", 130),
    ),
    # loudness
    _i("loudness", ["really loud tracks", "turn it up loud music"], LOUD),
    _i("loudness", ["quiet songs", "something very quiet for late at night"], QUIET),
    # key and mode
    _i("key/mode", ["songs in a minor key", "minor key tracks", "music in minor"], MINOR),
    _i("key/mode", ["major key songs", "tracks in a major key"], MAJOR),
    _i("key/mode", ["songs in C major", "C major tracks"], _f("key", "=", 0), MAJOR),
    _i("key/mode", ["songs in the key of G", "anything in G"], _f("key", "=", 7)),
    _i("key/mode", ["tracks in D minor", "d minor songs"], _f("key", "=", 2), MINOR),
    # live
    _i(
        "live",
        ["live recordings", "concert versions", "songs recorded live with the crowd"],
        LIVE,
    ),
    # speech
    _i(
        "speech",
        ["spoken word", "stand-up comedy bits", "tracks that are just people talking"],
        SPOKEN,
    ),
    _i("speech", ["songs that are mostly rapping", "wordy rap verses"], SPEECHY),
    # acoustic and instrumental
    _i("acoustic/instrumental", ["unplugged songs", "stripped back acoustic"], ACOUSTIC),
    _i(
        "acoustic/instrumental",
        ["songs without lyrics", "no vocals just music", "instrumentals for studying"],
        INSTRUMENTAL,
    ),
    # decade and year (catalogs with release years)
    _i("year", ["80s hits", "music from the eighties"], *years(1980, 1989)),
    _i("year", ["90s throwbacks", "nineties jams", "songs from 1990 to 1999"], *years(1990, 1999)),
    _i("year", ["tracks from 2015 to 2018", "released between 2015 and 2018"], *years(2015, 2018)),
    _i("year", ["songs from 2012", "2012 music"], *years(2012, 2012)),
    _i("year", ["oldies before 1980", "songs older than 1980"], _f("release_year", "<", 1980)),
    # combinations
    _i("combination", ["sad rap", "depressing hip hop"], SAD, genres=RAP),
    _i("combination", ["fast edm", "high tempo edm"], FAST, genres=["edm"]),
    _i("combination", ["acoustic pop", "pop songs unplugged"], ACOUSTIC, genres=["pop"]),
    _i("combination", ["90s rnb", "r&b from the nineties"], *years(1990, 1999), genres=RNB),
    _i("combination", ["happy latin songs", "feel good latin music"], HAPPY, genres=["latin"]),
    _i("combination", ["loud rock", "rock played loud"], LOUD, genres=["rock"]),
    _i("combination", ["chill r&b", "mellow rnb"], CALM, genres=RNB),
    _i("combination", ["danceable latin tracks", "latin to dance to"], DANCEABLE, genres=["latin"]),
    _i("combination", ["80s rock", "rock from the 1980s"], *years(1980, 1989), genres=["rock"]),
    _i("combination", ["slow sad songs", "slow and melancholic"], SLOW, SAD),
    _i("combination", ["quiet acoustic songs", "soft acoustic music"], QUIET, ACOUSTIC),
    _i("combination", ["rap above 140 bpm", "fast rap"], _f("tempo", ">", 140), genres=RAP),
    _i(
        "combination",
        ["pop from 2015 to 2018", "2015-2018 pop"],
        *years(2015, 2018),
        genres=["pop"],
    ),
    _i(
        "combination",
        ["energetic songs in a minor key", "intense minor key music"],
        ENERGETIC,
        MINOR,
    ),
    # a negation truth can express
    _i(
        "combination",
        ["rock that isn't loud", "rock but not too loud"],
        _f("loudness", "<=", -5),
        genres=["rock"],
    ),
]
