import pytest

from spotify_assets.lib.search import Filter, FilterError, parse_query, parse_where


def test_where_clauses_parse_to_filters():
    filters = parse_where("tempo>140 and valence<0.3 AND genre='hard rock'")
    assert [(f.column, f.op, f.value) for f in filters] == [
        ("tempo", ">", 140.0),
        ("valence", "<", 0.3),
        ("genre", "=", "hard rock"),
    ]
    assert parse_where("") == [] and parse_where(None) == []


@pytest.mark.parametrize(
    "text",
    [
        "tempo > 140; DROP TABLE tracks",
        "tempo>140 or 1=1",
        "name = 'x'",
        "tempo >> 3",
        "genre > 'rock'",
        "valence < 0.3 --",
        "tempo>(select 1)",
    ],
)
def test_anything_else_is_refused(text):
    with pytest.raises(FilterError):
        parse_where(text)


def test_query_words_become_filters():
    def described(text, genres=()):
        return {(f.column, f.op, f.value) for f in parse_query(text, genres)}

    assert described("sad songs with fast tempo") == {("valence", "<", 0.3), ("tempo", ">", 140)}
    assert described("acoustic instrumental") == {
        ("acousticness", ">", 0.7),
        ("instrumentalness", ">", 0.5),
    }
    assert described("something around 128 bpm") == {("tempo", ">=", 123), ("tempo", "<=", 133)}
    assert described("80s synth") == {("release_year", ">=", 1980), ("release_year", "<=", 1989)}
    assert described("1990s grunge") == {("release_year", ">=", 1990), ("release_year", "<=", 1999)}
    assert described("heavy hard rock riffs", ["rock", "hard rock"]) == {
        ("genre", "=", "hard rock")
    }
    assert described("songs about love") == set()


def test_filters_validate_columns_and_operators():
    with pytest.raises(FilterError, match="cannot filter on 'name'"):
        Filter("name", "=", "x")
    with pytest.raises(FilterError, match="unknown operator"):
        Filter("tempo", "~", 1.0)


def test_where_quotes_case_and_aliases():
    def parsed(text):
        return [(f.column, f.op, f.value) for f in parse_where(text)]

    assert parsed("genre='rock and roll' AND Tempo == 120") == [
        ("genre", "=", "rock and roll"),
        ("tempo", "=", 120.0),
    ]
    doubled = "genre='it''s' and subgenre!=" + '"a ""b"""' + " and key<>-1"
    assert parsed(doubled) == [
        ("genre", "=", "it's"),
        ("subgenre", "!=", 'a "b"'),
        ("key", "!=", -1.0),
    ]
    assert parsed("tempo>1e2 and tempo>100 and loudness>=-.5") == [
        ("tempo", ">", 100.0),
        ("loudness", ">=", -0.5),
    ]  # a repeated clause counts once
    assert parsed("  ") == []


def test_understood_filters_say_where_they_came_from():
    [fast] = parse_query("fast songs")
    assert fast.understood and fast.describe() == "tempo > 140 (from “fast”)"
    [explicit] = parse_where("tempo>140")
    assert not explicit.understood and explicit.describe() == "tempo > 140"
