import pandas as pd
import pytest

from spotify_assets.lib.catalog import CatalogError, detect_format
from spotify_assets.lib.catalog.validate import parse_artists

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
