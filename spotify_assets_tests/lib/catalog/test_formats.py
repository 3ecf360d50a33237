import pandas as pd
import pytest

from spotify_assets.lib.catalog import CatalogError, detect_format
from spotify_assets.lib.catalog.validate import parse_artists, parse_genres

FEATURES = [
    "danceability", "energy", "key", "loudness", "mode", "speechiness", "acousticness",
    "instrumentalness", "liveness", "valence", "tempo",
]  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["track_id", "artists", "album_name", "track_name", "popularity", "duration_ms",
          "explicit", *FEATURES, "time_signature", "track_genre"], "kaggle_114k"),
        (["track_id", "track_name", "album_id", "primary_genre", "duration_ms", "explicit",
          "key_signature", "time_signature", *FEATURES], "kaggle_114k_sample"),
        (["id", "name", "popularity", "duration_ms", "explicit", "artists", "id_artists",
          "release_date", *FEATURES, "time_signature"], "kaggle_600k"),
        (["track_id", "track_name", "track_artist", "track_popularity", "track_album_id",
          "track_album_name", "track_album_release_date", "playlist_name", "playlist_id",
          "playlist_genre", "playlist_subgenre", *FEATURES, "duration_ms"], "tidytuesday"),
        (["track_id", "track_name", "artists", "album_name", "release_date", "genre",
          *FEATURES], "sample"),
    ],
)  # fmt: skip
def test_formats_are_detected_from_columns(columns, expected):
    assert detect_format(columns).name == expected


def test_missing_columns_are_named_with_the_detected_format():
    columns = ["id", "name", "artists", "id_artists", *[f for f in FEATURES if f != "energy"]]
    with pytest.raises(CatalogError, match=r"detected format kaggle_600k .*missing: energy"):
        detect_format(columns)


def test_unknown_formats_list_the_known_ones():
    with pytest.raises(CatalogError, match=r"unknown catalog format.*kaggle_114k"):
        detect_format(["foo", "bar"])
    with pytest.raises(CatalogError, match="unknown catalog format 'xml'"):
        detect_format(["foo"], "xml")


def test_artist_lists_are_parsed():
    parsed = parse_artists(
        pd.Series(["['A', 'B']", '["Guns N\' Roses"]', "['Tom \\'T\\' Jones']", "[]", ""]), "list"
    )
    assert parsed.tolist() == [["A", "B"], ["Guns N' Roses"], ["Tom 'T' Jones"], [], []]
    assert parse_artists(pd.Series(["Ingrid;ZAYN", "Solo"]), "semicolon").tolist() == [
        ["Ingrid", "ZAYN"],
        ["Solo"],
    ]
    assert parse_artists(pd.Series(["blink-182"]), "single").tolist() == [["blink-182"]]


API_DUMP = ["id", "name", "artists_names", "artist_genres", "album_name", "album_release_date",
            "popularity", "duration_ms", "explicit"]  # fmt: skip


def test_a_spotify_api_dump_is_detected_with_or_without_audio_features():
    assert detect_format(API_DUMP).name == "spotify_api"
    assert detect_format([*API_DUMP, *FEATURES, "time_signature"]).name == "spotify_api"
    assert detect_format(["id", "name", "artists_names", "year"]).name == "spotify_api"


def test_a_file_with_primary_genre_but_no_artists_or_track_id_names_what_it_lacks():
    """The case that used to say "… with primary_genre and no artists column … missing:
    primary_genre" although the file had primary_genre: each format's missing columns, the
    closest first, and the file's own columns, in one message."""
    columns = ["id", "track_name", "primary_genre", "duration_ms", *FEATURES]
    with pytest.raises(CatalogError) as refused:
        detect_format(columns)
    message = str(refused.value)
    assert "\n" not in message
    assert "missing, closest format first: kaggle_114k_sample lacks track_id;" in message
    for name in ("kaggle_114k", "kaggle_600k", "tidytuesday", "sample", "spotify_api"):
        assert f"{name} lacks " in message
    assert "the file has 15 columns: id, track_name, primary_genre, duration_ms," in message
    assert message.count("kaggle_114k_sample") == 1  # said once


def test_a_file_that_is_nearly_an_api_dump_names_the_one_column_it_lacks():
    columns = ["artists" if c == "artists_names" else c for c in API_DUMP]
    with pytest.raises(
        CatalogError, match=r"closest format first: spotify_api lacks artists_names; "
    ):
        detect_format(columns)


def test_a_requested_format_names_its_missing_columns_and_the_file_s():
    with pytest.raises(
        CatalogError,
        match=r"format spotify_api .* needs columns the file lacks: artists_names; the file has "
        r"2 columns: id, name$",
    ):
        detect_format(["id", "name"], "spotify_api")


def test_comma_artists_and_multi_valued_genres_are_lists():
    parsed = parse_artists(
        pd.Series(["A, B", "['Tyler, The Creator']", ["X", " Y "], "", None]), "comma"
    )
    assert parsed.tolist() == [["A", "B"], ["Tyler, The Creator"], ["X", "Y"], [], []]
    cells = ["rap;pop rap", "['rap', 'pop rap']", "[rap, trap]", ["a", "b;c"], "pop; pop", "", None]
    genres = parse_genres(pd.Series(cells))
    assert genres.tolist() == [
        ["rap", "pop rap"], ["rap", "pop rap"], ["rap", "trap"], ["a", "b", "c"], ["pop"], [], [],
    ]  # fmt: skip


def test_a_web_api_dump_with_other_column_names_is_read_by_alias():
    dump = ["track_id", "track_name", "artist_names", "album", "popularity"]
    fmt = detect_format(dump, "spotify_api")
    assert fmt.name == "spotify_api"
    with pytest.raises(CatalogError, match=r"it loads as --format spotify_api, reading track_id as id"):
        detect_format(dump)  # auto-detection never guesses by alias, it says how
    assert fmt.renames(dump) == {"track_id": "id", "track_name": "name",
                                 "artist_names": "artists_names", "album": "album_name"}  # fmt: skip
    # a Kaggle 114K file has track_id / track_name / artists too: its own format still wins
    kaggle = ["track_id", "artists", "track_name", "track_genre", *FEATURES]
    assert detect_format(kaggle).name == "kaggle_114k"


@pytest.mark.parametrize(
    ("cell", "names"),
    [
        ("A;B", ["A", "B"]),  # a ; separates, and then commas belong to names
        ("Earth, Wind & Fire;Someone", ["Earth, Wind & Fire", "Someone"]),
        ("A, B", ["A", "B"]),
        ("Hank Williams, Jr.", ["Hank Williams, Jr."]),
        ("Hank Williams, Jr., Waylon Jennings", ["Hank Williams, Jr.", "Waylon Jennings"]),
        ("['Tyler, The Creator']", ["Tyler, The Creator"]),
    ],
)
def test_web_api_artist_cells_split_on_their_separator(cell, names):
    assert parse_artists(pd.Series([cell]), "comma")[0] == names
