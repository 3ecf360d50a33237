"""Query understanding: genres in any spelling, longest genre first, moods vs genres, and
which words become hard filters (explicit numbers, keys) vs soft preferences (vague words)."""

import pytest

from spotify_assets.lib.search.understand import genre_key, parse_query, understand_query

# catalogs spell genres differently: Kaggle 114K hyphenates, TidyTuesday uses "r&b"
KAGGLE = ["death-metal", "metal", "hip-hop", "drum-and-bass", "k-pop", "pop", "detroit-techno",
          "techno", "r-n-b", "rock-n-roll", "rock", "sad", "happy", "chill", "acoustic", "edm",
          "singer-songwriter", "forro", "guitar", "dance", "electronic"]  # fmt: skip
TIDY = ["pop", "rap", "rock", "latin", "r&b", "edm"]


def genre(text, genres=KAGGLE):
    found = [f.value for f in understand_query(text, genres).filters if f.column == "genre"]
    assert len(found) <= 1, found
    return found[0] if found else None


def hard(text, genres=KAGGLE):
    return {(f.column, f.op, f.value) for f in parse_query(text, genres)}


def soft(text, genres=KAGGLE):
    return {p.column: (p.low, p.high) for p in understand_query(text, genres).preferences}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hip hop songs", "hip-hop"), ("Hip-Hop", "hip-hop"), ("hiphop beats", "hip-hop"),
        ("HIP_HOP", "hip-hop"), ("drum and bass", "drum-and-bass"),
        ("drum & bass", "drum-and-bass"), ("dnb", "drum-and-bass"),
        ("drum n bass", "drum-and-bass"), ("k pop", "k-pop"), ("kpop", "k-pop"),
        ("K-Pop", "k-pop"), ("rnb", "r-n-b"), ("R&B", "r-n-b"), ("r and b", "r-n-b"),
        ("rock 'n' roll", "rock-n-roll"), ("rock and roll", "rock-n-roll"),
        ("singer songwriter", "singer-songwriter"), ("forró", "forro"),
        ("electronic dance music", "edm"),
    ],
)  # fmt: skip
def test_spellings_and_synonyms_resolve_to_the_catalog_genre(text, expected):
    assert genre(text) == expected


@pytest.mark.parametrize("text", ["r&b songs", "rnb", "R and B", "r n b", "rhythm and blues"])
def test_the_other_catalogs_spelling_is_used_there(text):
    assert genre(text, TIDY) == "r&b"


def test_the_longest_genre_wins_and_its_words_are_not_reused():
    assert genre("death metal songs") == "death-metal"
    assert genre("detroit techno") == "detroit-techno"
    assert genre("k pop hits") == "k-pop"
    assert genre("metal songs") == "metal"  # the short one when that is what was said
    assert genre("death metal songs", ["metal"]) == "metal"  # only what the catalog has
    terms = dict(understand_query("k pop and rock", KAGGLE).terms)
    assert terms["k pop"] == "hard filter genre = 'k-pop'"
    assert "semantic" in terms["rock"]  # one genre filter; the other stays in the query


@pytest.mark.parametrize("word", ["sad", "happy", "chill", "acoustic"])
def test_a_mood_that_is_also_a_genre_is_a_mood_unless_genre_is_said(word):
    assert genre(f"{word} songs") is None and soft(f"{word} songs")
    for said in (f"{word} genre", f"genre {word}", f"genre: {word}", f"the genre is {word}"):
        assert genre(said) == word, said
        assert soft(said) == {}, said  # the word is used up by the genre


def test_vague_words_are_soft_preferences_not_filters():
    for text in ["fast songs", "sad songs", "loud music", "quiet songs", "dark songs",
                 "live recordings", "spoken word", "acoustic", "instrumental", "danceable",
                 "energetic", "calm music", "popular songs"]:  # fmt: skip
        u = understand_query(text, KAGGLE)
        assert u.filters == [] and u.preferences, text
    assert soft("fast songs")["tempo"][1] > soft("fast songs")["tempo"][0]
    assert soft("slow songs")["tempo"][1] < soft("slow songs")["tempo"][0]
    assert soft("loud")["loudness"][1] > soft("loud")["loudness"][0]
    assert soft("quiet")["loudness"][1] < soft("quiet")["loudness"][0]
    dark = soft("dark songs")
    assert dark["valence"][1] < dark["valence"][0] and dark["mode"] == (1, 0)
    bright = soft("bright songs")
    assert bright["valence"][1] > bright["valence"][0] and bright["mode"] == (0, 1)


def test_spoken_word_and_live_follow_spotifys_thresholds():
    [spoken] = understand_query("spoken word", KAGGLE).preferences
    assert spoken.column == "speechiness"
    # Spotify: > 0.66 probably spoken word; 0.33-0.66 music and speech (rap): not preferred
    assert spoken.closeness(0.9) == 1 and spoken.closeness(0.66) > 0.5
    assert spoken.closeness(0.45) == 0 and spoken.closeness(None) == 0
    [live] = understand_query("live", KAGGLE).preferences
    assert live.column == "liveness" and live.closeness(0.8) == 1 and live.closeness(0.2) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("songs over 140 bpm", {("tempo", ">", 140)}),
        ("tempo above 120", {("tempo", ">", 120)}),
        ("under 90 bpm", {("tempo", "<", 90)}),
        ("around 128 bpm", {("tempo", ">=", 123), ("tempo", "<=", 133)}),
        ("songs after 2010", {("release_year", ">", 2010)}),
        ("since 2015", {("release_year", ">=", 2015)}),
        ("before 1980", {("release_year", "<", 1980)}),
        ("released in 1999", {("release_year", "=", 1999)}),
        ("from the 90s", {("release_year", ">=", 1990), ("release_year", "<=", 1999)}),
        ("nineties", {("release_year", ">=", 1990), ("release_year", "<=", 1999)}),
        ("1980s synth", {("release_year", ">=", 1980), ("release_year", "<=", 1989)}),
        ("late 70s", {("release_year", ">=", 1976), ("release_year", "<=", 1979)}),
        ("songs in a minor key", {("mode", "=", 0)}),
        ("minor key music", {("mode", "=", 0)}),
        ("major key tunes", {("mode", "=", 1)}),
        ("in C minor", {("key", "=", 0), ("mode", "=", 0)}),
        ("in A minor", {("key", "=", 9), ("mode", "=", 0)}),
        ("in F# major", {("key", "=", 6), ("mode", "=", 1)}),
        ("in the key of Bb", {("key", "=", 10)}),
        ("d minor songs", {("key", "=", 2), ("mode", "=", 0)}),
        ("C major tracks", {("key", "=", 0), ("mode", "=", 1)}),
        ("anything in G", {("key", "=", 7)}),
        ("feel good songs in a major key", {("mode", "=", 1)}),
        ("songs from 1990 to 1999", {("release_year", ">=", 1990), ("release_year", "<=", 1999)}),
        ("2015-2018 hits", {("release_year", ">=", 2015), ("release_year", "<=", 2018)}),
        ("2012 music", {("release_year", "=", 2012)}),
        ("120-130 bpm for running", {("tempo", ">=", 120), ("tempo", "<=", 130)}),
        ("from 120 to 130 bpm", {("tempo", ">=", 120), ("tempo", "<=", 130)}),
        ("songs about love", set()),
    ],
)
def test_explicit_numbers_and_keys_are_hard_filters(text, expected):
    assert hard(text) == expected


def test_every_understood_word_says_what_it_became():
    u = understand_query("fast death metal after 2010", KAGGLE)
    terms = dict(u.terms)
    assert terms["death metal"] == "hard filter genre = 'death-metal'"
    assert terms["after 2010"] == "hard filter release_year > 2010"
    assert terms["fast"].startswith("soft: prefer faster tempo")
    assert genre_key("Drum & Bass") == genre_key("drum-and-bass") == genre_key("dnb")


@pytest.mark.parametrize(
    "text", ["rock that isn't loud", "rock but not too loud", "less loud rock"]
)
def test_a_negated_vague_word_prefers_the_opposite(text):
    low, high = soft(text, TIDY)["loudness"]
    assert high < low  # quieter preferred, never louder
    assert hard(text, TIDY) == {("genre", "=", "rock")}


def test_everyday_idioms_and_other_languages():
    assert soft("feeling down", TIDY)["valence"][1] < 0.5
    assert soft("songs that put me in a good mood", TIDY)["valence"][1] > 0.5
    assert genre("musica latina", TIDY) == "latin"
    assert genre("musical theatre songs", ["show-tunes", "pop"]) == "show-tunes"


TIDY_SUBGENRES = ["hip hop", "southern hip hop", "latin hip hop", "hard rock", "album rock",
                  "dance pop", "trap", "reggaeton"]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hip hop songs", {("subgenre", "=", "hip hop")}),
        ("Hip-Hop", {("subgenre", "=", "hip hop")}),
        ("southern hip hop", {("subgenre", "=", "southern hip hop")}),
        ("latin hip hop bangers", {("subgenre", "=", "latin hip hop")}),  # longer than "latin"
        ("hard rock anthems", {("subgenre", "=", "hard rock")}),  # longer than "rock"
        ("rock anthems", {("genre", "=", "rock")}),
    ],
)
def test_a_subgenre_is_matched_like_a_genre_and_the_longest_name_wins(text, expected):
    assert {(f.column, f.op, f.value) for f in parse_query(text, TIDY, TIDY_SUBGENRES)} == expected


def test_a_name_that_is_both_genre_and_subgenre_is_the_genre():
    assert hard("trap songs", ["trap", "rap"]) == {("genre", "=", "trap")}
    assert parse_query("trap songs", ["trap"], ["trap"])[0].column == "genre"


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("under two minutes", ["duration_ms < 120000"]),
        ("songs over eight minutes", ["duration_ms > 480000"]),
        ("tracks longer than 6 min", ["duration_ms > 360000"]),
        ("punk at most 2.5 minutes", ["duration_ms <= 150000"]),
        ("songs under two and a half minutes", ["duration_ms < 150000"]),
        ("3 minute songs", ["duration_ms >= 150000", "duration_ms <= 210000"]),
    ],
)
def test_song_length_in_words_is_a_duration_filter(query, filters):
    assert [f"{f.column} {f.op} {f.value}" for f in understand_query(query).filters] == filters


def test_vague_length_and_hard_to_are_preferences():
    [longer] = understand_query("long epic tracks").preferences
    assert (longer.column, longer.low < longer.high) == ("duration_ms", True)
    [shorter] = understand_query("short punk songs").preferences
    assert (shorter.column, shorter.low > shorter.high) == ("duration_ms", True)
    [dance] = understand_query("hard to dance to").preferences  # not "prefer danceable"
    assert dance.column == "danceability" and dance.low > dance.high


def test_a_mood_before_a_genre_is_the_genre_and_the_mood_not_a_micro_genre():
    genres = ["rap", "sad rap", "pop", "chill pop", "rock", "soft rock"]
    sad_rap = understand_query("sad rap", genres)
    assert [f.value for f in sad_rap.filters] == ["rap"]
    assert [p.column for p in sad_rap.preferences] == ["valence"]
    assert [f.value for f in understand_query("chill pop", genres).filters] == ["pop"]
    assert [f.value for f in understand_query("sad rap genre", genres).filters] == ["sad rap"]
    assert [f.value for f in understand_query("soft rock", genres).filters] == ["soft rock"]
