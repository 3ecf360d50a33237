import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.catalog.names import (
    MatchReport,
    match_by_name,
    match_tracks,
    name_key,
    normalize_artist,
    normalize_title,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Don't Stop Me Now - Remastered 2011", "dont stop me now"),
        ("Don’t Stop Me Now", "dont stop me now"),
        ("Señorita (feat. Camila Cabello)", "senorita"),
        ("Song [Remastered] (2011 Remaster)", "song"),
        ("Heroes - Single Version", "heroes"),
        ("Café del Mar – Live", "cafe del mar"),
        ("Rock & Roll ft. Someone", "rock and roll"),
        ("Lose Yourself featuring Nobody", "lose yourself"),
        ("Hip-Hop Hooray!", "hip hop hooray"),
        ("(I Can't Get No) Satisfaction - Mono Version", "satisfaction"),
        ("Song ((nested) version)", "song"),
        ("(Untitled)", "untitled"),
        ("  MR.   BRIGHTSIDE  ", "mr brightside"),
        ("Straße", "strasse"),
        ("夜に駆ける", "夜に駆ける"),
        ("", ""),
        (None, ""),
        (float("nan"), ""),
    ],
)
def test_normalize_title(raw, expected):
    assert normalize_title(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Beyoncé", "beyonce"),
        ("Calvin Harris, Dua Lipa", "calvin harris"),
        ("Simon & Garfunkel", "simon"),
        ("Drake feat. Rihanna", "drake"),
        ("Drake ft Rihanna", "drake"),
        ("Skrillex X Diplo", "skrillex"),
        ("Guns N' Roses", "guns n roses"),
        ("AC/DC", "ac dc"),
        ("Sigur Rós", "sigur ros"),
        (None, ""),
    ],
)
def test_normalize_artist(raw, expected):
    assert normalize_artist(raw) == expected


def test_name_key_joins_parts_and_is_empty_without_either():
    assert name_key("Beyoncé feat. Jay-Z", "Crazy in Love (feat. Jay-Z)") == "beyonce|crazy in love"
    assert name_key("", "Song") == "" and name_key("Artist", "!!!") == ""


def catalog() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "track_id": ["t_halo", "t_halo_live", "t_senorita", "t_song", "t_other"],
            "name": ["Halo", "Halo - Live", "Señorita", "Song - 2011 Remaster", "Other"],
            "artists": [
                ["Beyoncé"],
                ["Beyoncé"],
                np.array(["Shawn Mendes", "Camila Cabello"], dtype=object),  # as parquet gives
                ["The Band"],
                [],
            ],
            "popularity": [60, 85, 90, 40, 10],
        }
    )


def test_match_by_name_keys_uri_and_popularity():
    items = pd.DataFrame(
        {
            "artist": ["Beyonce", "Shawn Mendes, Camila Cabello", "The Band", "Wrong Artist", "X"],
            "title": ["Halo", "Senorita (feat. Camila Cabello)", "Song", "Halo", "Whatever"],
            "track_id": [None, None, None, None, "t_other"],
        },
        index=[10, 11, 12, 13, 14],
    )
    matched = match_by_name(items, catalog())
    assert matched.index.tolist() == [10, 11, 12, 13, 14]
    # "Halo" and "Halo - Live" share a key: the more popular recording wins
    assert matched.tolist() == ["t_halo_live", "t_senorita", "t_song", None, "t_other"]


def test_first_catalog_row_wins_without_popularity():
    items = pd.DataFrame({"artist": ["Beyoncé"], "title": ["HALO"]})
    assert match_by_name(items, catalog().drop(columns="popularity")).tolist() == ["t_halo"]


def test_unknown_uri_falls_back_to_the_name_and_report_counts():
    items = pd.DataFrame(
        {
            "artist": ["Beyoncé", "Nobody", "Someone", None],
            "title": ["Halo", "Nothing", "Other", "Halo"],
            "track_id": ["notincatalog", "t_song", None, None],
        }
    )
    matched, report = match_tracks(items, catalog())
    assert matched.tolist() == ["t_halo_live", "t_song", None, None]
    assert report == MatchReport(items=4, matched=2, by_id=1, by_name=1, unmatched=2, rate=0.5)
    assert report.as_dict()["rate"] == 0.5


def test_empty_items_and_missing_columns():
    empty = pd.DataFrame({"artist": [], "title": []})
    matched, report = match_tracks(empty, catalog())
    assert matched.empty and report.rate == 0.0
    with pytest.raises(ValueError, match=r"catalog frame lacks columns \['artists'\]"):
        match_by_name(empty, catalog().drop(columns="artists"))
