"""Artist-level knowledge: built from catalog songs only, stored apart, and never reported as a
song's own fields (descriptions label it, the song's row, analysis fields, tags and search
filters stay its own) — real Postgres."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.analyses.describe import analyze, content_hash
from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.catalog.artists import (
    build_artist_profiles,
    describe_artist,
    profiles_of,
    refresh_artist_profiles,
)
from spotify_assets.lib.catalog.library import KNOWN_COLUMNS, resolve_library
from spotify_assets.lib.features import ACOUSTIC_FEATURES
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.artists import ArtistRepository
from spotify_assets.lib.store.tracks import TRACK_COLUMNS, TrackRepository


def _row(track_id: str, artist: str, genre: str | None = None, source: str = "test", **feats):
    row = {c: None for c in TRACK_COLUMNS}
    row.update(track_id=track_id, name=f"Song {track_id}", artists=[artist], genre=genre,
               source_format=source, source_file="t.csv", row_hash=f"h-{track_id}")  # fmt: skip
    row.update(feats)
    return row


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["genres"] = frame["genre"].map(lambda g: g.split(";") if g else [])
    for column in ACOUSTIC_FEATURES:
        if column not in frame:
            frame[column] = np.nan
    return frame


def test_profiles_need_two_songs_and_take_medians_and_shared_genres() -> None:
    rows = [
        _row("a1", "Bad Bunny", "latin;reggaeton", energy=0.8, valence=0.7),
        _row("a2", "bad bunny", "latin", energy=0.6, valence=0.9),
        _row("a3", "Bad Bunny feat. Drake", "latin;trap", energy=0.9),
        _row("b1", "Solo Artist", "rock", energy=0.1),  # one song: says nothing "usual"
    ]
    [profile] = build_artist_profiles(_frame(rows))
    assert profile.key == "bad bunny" and profile.songs == 3 and profile.featured == 3
    assert profile.features == {"energy": 0.8, "valence": 0.8}  # medians over measured songs
    assert profile.genres == ("latin", "reggaeton", "trap")  # 1 of 3 each is over a fifth
    assert profile.genre_shares == pytest.approx((1.0, 1 / 3, 1 / 3), abs=1e-4)


def test_genre_shares_keep_up_to_three_above_a_fifth() -> None:
    genres = ["pop;edm", "pop", "pop;rock", "edm", "pop;jazz", "pop;edm"]
    rows = [_row(f"s{i}", "Mixer", g) for i, g in enumerate(genres)]
    [profile] = build_artist_profiles(_frame(rows))
    assert profile.genres == ("pop", "edm")  # rock and jazz: 1 of 6 each, under 0.2
    assert profile.genre_shares == pytest.approx((5 / 6, 3 / 6), abs=1e-4)
    assert profile.features == {} and profile.featured == 0
    assert describe_artist(profile) == ["pop / edm"]


def test_describing_an_artist_says_only_clear_tendencies() -> None:
    rows = [_row(f"s{i}", "Calm One", "folk", energy=0.2, acousticness=0.9, valence=0.5,
                 danceability=0.5) for i in range(3)]  # fmt: skip
    [profile] = build_artist_profiles(_frame(rows))
    assert describe_artist(profile) == ["folk", "calm", "acoustic"]  # valence 0.5: nothing
    assert describe_artist(profile, genres=False) == ["calm", "acoustic"]
    assert describe_artist(profile, sound=False) == ["folk"]


def test_a_featureless_song_is_described_with_its_artists_style_labelled_as_such() -> None:
    [profile] = build_artist_profiles(
        _frame([_row(f"s{i}", "Morat", "latin", energy=0.8, danceability=0.75) for i in range(4)])
    )
    song = {"name": "Mi Vida Entera", "artists": ["Morat"], "album_name": "Balas",
            "artist_profile": profile}  # fmt: skip
    out = analyze(song)
    assert out.description.endswith(
        "The artist's songs are usually latin, energetic, danceable."
    ), out.description
    # the song's own analysis fields stay empty: nothing is presented as measured
    assert not {"energy", "mood", "danceability", "tempo"} & set(out.analysis)
    assert out.analysis["tags"] == []
    assert (
        out.analysis["artist_style"]["source"]
        == "4 catalog songs by the artist, 4 with audio features"
    )
    assert content_hash(song) != content_hash({**song, "artist_profile": None})
    # a song with its own sound and genre ignores its artist's: its hash does not move either
    measured = {**song, "energy": 0.3, "danceability": 0.4, "genre": "rock"}
    assert "artist_style" not in analyze(measured).analysis
    assert "The artist's" not in analyze(measured).description
    assert content_hash(measured) == content_hash({**measured, "artist_profile": None})
    # own features but no genre: only the artist's genres are borrowed
    sound_only = {**song, "energy": 0.3}
    assert analyze(sound_only).description.endswith("The artist's songs are usually latin.")


def test_profiles_come_from_catalogs_only_and_never_fill_a_songs_own_fields(db) -> None:
    catalog = [_row(f"c{i}", "Morat", "latin", energy=0.8 + i / 100, danceability=0.75)
               for i in range(3)]  # fmt: skip
    # a person's library songs never describe an artist (they are personal, and have no
    # measured fields of their own to give)
    catalog.append(_row("l1", "Morat", "rock", source="library", energy=0.0))
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame(catalog))
        refresh = refresh_artist_profiles(conn)
    assert refresh.artists == 1 and refresh.catalog_tracks == 3
    with db.connect() as conn:
        [profile] = profiles_of(conn, ["MORAT"])
        assert profile.genres == ("latin",) and profile.features["energy"] == 0.81
        assert profiles_of(conn, [None, "Nobody"]) == [None, None]
    # a library song by the artist: described with the artist's style, its row left empty
    items = pd.DataFrame([{"artist": "Morat", "title": "Mi Vida Entera", "album": None,
                           "track_id": "m" * 22}])  # fmt: skip
    with db.connect() as conn, conn.transaction():
        known = TrackRepository(conn).frame(KNOWN_COLUMNS)
        TrackRepository(conn).add_missing(resolve_library(items, known, "x").new_tracks)
    update_track_analyses(db)
    with db.connect() as conn:
        own = TrackRepository(conn).frame(["track_id", "genre", *ACOUSTIC_FEATURES])
        own = own[own["track_id"] == "m" * 22].iloc[0]
        analysis = dict(AnalysisRepository(conn).descriptions(limit=100))
    assert own[["genre", *ACOUSTIC_FEATURES]].isna().all()
    assert analysis["m" * 22].endswith(
        "The artist's songs are usually latin, energetic, danceable."
    )
    assert update_track_analyses(db).written == 0  # stable: described once
    # the catalog changes: the profile follows, and so does the description
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([
            _row(f"d{i}", "Morat", "pop", energy=0.2, danceability=0.3) for i in range(6)
        ]))  # fmt: skip
    assert update_track_analyses(db).written == 6 + 1  # the new songs, and the library song again
    with db.connect() as conn:
        assert "pop" in dict(AnalysisRepository(conn).descriptions(limit=100))["m" * 22]
        # an artist no catalog has any more leaves the table
        conn.execute("DELETE FROM tracks WHERE source_format = 'test'")
        refresh_artist_profiles(conn)
        assert ArtistRepository(conn).count() == 0
