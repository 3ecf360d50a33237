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
    [fast] = parse_query("songs over 140 bpm")
    assert fast.understood and fast.describe() == "tempo > 140 (from “over 140 bpm”)"
    [explicit] = parse_where("tempo>140")
    assert not explicit.understood and explicit.describe() == "tempo > 140"
