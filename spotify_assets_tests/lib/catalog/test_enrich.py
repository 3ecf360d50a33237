"""Enrichment against FakeSpotify + FakeReccoBeats on a real Postgres: fills only gaps, batch
by batch, and skips a source it cannot use instead of failing."""

from __future__ import annotations

import socket

import pandas as pd

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.catalog.enrich import enrich_tracks, spotify_fields
from spotify_assets.lib.spotify.client import SpotifyClient
from spotify_assets.lib.spotify.reccobeats import ReccoBeatsClient
from spotify_assets.lib.store.tracks import TRACK_COLUMNS, TrackRepository
from spotify_assets_tests.dagster_helpers import write_catalog
from spotify_assets_tests.fake_reccobeats import FEATURES_PATH, FakeReccoBeats
from spotify_assets_tests.fake_spotify import FakeSpotify, make_track

LIB_ID = "lib:0123456789abcdef"


def library_row(track: dict, **values) -> dict:
    row = {c: None for c in TRACK_COLUMNS}
    row.update(track_id=track["id"], name=track["name"],
               artists=[a["name"] for a in track["artists"]], source_format="library",
               source_file="export", row_hash=f"h-{track['id']}")  # fmt: skip
    row.update(values)
    return row


def seed(db, rows: list[dict]) -> None:
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).add_missing(pd.DataFrame(rows))


def stored(db) -> pd.DataFrame:
    with db.connect() as conn:
        return TrackRepository(conn).frame([*TRACK_COLUMNS, "updated_at"]).set_index("track_id")


def library(n: int, start: int = 0) -> list[dict]:
    return [make_track(i, artists=["Rapper", "Singer"]) for i in range(start, start + n)]


GENRES = {"Rapper": ["rap", "pop rap"], "Singer": ["pop", "rap"]}


def seeded(db, tracks: list[dict]) -> None:
    rows = [library_row(t) for t in tracks]
    rows[0].update(popularity=7, genre="indie")  # known values a source must not overwrite
    lib = {"id": LIB_ID, "name": "Home Demo", "artists": [{"name": "Me"}]}
    seed(db, [*rows, library_row(lib, album_name="Tapes")])


def test_the_genre_joins_artists_genres_in_credit_order_each_once():
    track = make_track(1, artists=["Rapper", "Singer"])
    ids = [a["id"] for a in track["artists"]]
    row = spotify_fields(track, {ids[0]: ["rap", "pop rap"], ids[1]: ["pop", "rap"]})
    assert row["genre"] == "rap;pop rap;pop"
    assert row["release_year"] == 2020 and row["album_id"] == track["album"]["id"]
    assert "genre" not in spotify_fields(track, None)  # the stored genre was known


def test_fills_gaps_keeps_known_values_and_leaves_lib_tracks_alone(db):
    tracks = library(3)
    seeded(db, tracks)
    before = stored(db)
    ids = [t["id"] for t in tracks]
    with (
        FakeSpotify(extra_tracks=tracks, artist_genres=GENRES) as spotify,
        FakeReccoBeats.knowing(ids) as recco,
        spotify.client() as client,
        ReccoBeatsClient(recco.base_url, sleep=lambda _s: None) as rb,
    ):
        report = enrich_tracks(db, client, rb)
        assert spotify.count("/v1/tracks") == 1 and spotify.count("/v1/artists") == 1
        again = enrich_tracks(db, client, rb)
        assert spotify.count("/v1/tracks") == 1 and recco.count(FEATURES_PATH) == 1
    assert report.considered == 3 and report.spotify.enriched == 3
    assert report.reccobeats.enriched == 3 and report.skipped == ""
    assert report.spotify.remaining == report.reccobeats.remaining == 0
    assert again.considered == 0  # nothing lacks a field: no call at all

    after = stored(db)
    first, second = after.loc[ids[0]], after.loc[ids[1]]
    assert first["popularity"] == 7 and first["genre"] == "indie"  # known: kept
    assert second["genre"] == "rap;pop rap;pop" and second["popularity"] == tracks[1]["popularity"]
    assert second["album_name"] == "Album 0" and second["release_year"] == 2020
    assert second["duration_ms"] == tracks[1]["duration_ms"] and not second["explicit"]
    assert second["energy"] is not None and second["tempo"] is not None
    assert second["row_hash"] == before.loc[ids[1], "row_hash"]  # what the source said
    assert after.loc[LIB_ID].equals(before.loc[LIB_ID])  # no Spotify id: untouched


def test_a_429_is_honoured(db):
    tracks = library(2)
    seeded(db, tracks)
    sleeps: list[float] = []
    with FakeSpotify(extra_tracks=tracks, artist_genres=GENRES) as spotify:
        spotify.rate_limit("/v1/tracks", nth=1, retry_after=3)
        with spotify.client(sleep=sleeps.append) as client:
            report = enrich_tracks(db, client, None)
        assert [c.status for c in spotify.calls("/v1/tracks")] == [429, 200]
    assert sleeps == [3.0] and report.spotify.enriched == 2 and report.spotify.failed_batches == 0
    assert report.reccobeats.skipped == "not configured"


def test_a_failed_batch_leaves_the_others_written_and_the_next_run_fills_it(db):
    tracks = library(120)  # 3 Spotify batches of 50, 3 ReccoBeats batches of 40
    seeded(db, tracks)
    ids = [t["id"] for t in tracks]
    lines: list[str] = []
    with (
        FakeSpotify(extra_tracks=tracks, artist_genres=GENRES) as spotify,
        FakeReccoBeats.knowing(ids) as recco,
        spotify.client(max_retries=1) as client,
        ReccoBeatsClient(recco.base_url, max_retries=1, sleep=lambda _s: None) as rb,
    ):
        for nth in (2, 3):  # the second batch, and its one retry
            spotify.inject("/v1/tracks", spotify.error(503, "Service unavailable"), nth=nth)
        recco.fail(FEATURES_PATH, times=2)  # the first features batch, and its retry
        first = enrich_tracks(db, client, rb, log=lines.append)
        second = enrich_tracks(db, client, rb)
    assert first.spotify.failed_batches == 1 and first.spotify.enriched == 70
    assert first.spotify.remaining == 50
    assert first.reccobeats.failed_batches == 1 and first.reccobeats.remaining == 40
    assert any("spotify batch 2 (50 tracks) failed" in line and "503" in line for line in lines)
    assert second.spotify.considered == 50 and second.spotify.enriched == 50
    assert second.reccobeats.considered == 40 and second.reccobeats.enriched == 40
    assert second.spotify.remaining == second.reccobeats.remaining == 0
    assert stored(db).loc[ids, "album_name"].notna().all()


def test_offline_sources_are_skipped_with_the_reason(db):
    tracks = library(2)
    seeded(db, tracks)
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recco = FakeReccoBeats.knowing([t["id"] for t in tracks])
    with recco, ReccoBeatsClient(recco.base_url) as rb:
        report = enrich_tracks(db, None, rb, spotify_skipped="no Spotify credentials")
    assert report.spotify.skipped == "no Spotify credentials"
    assert report.skipped == "spotify: no Spotify credentials"
    assert report.reccobeats.enriched == 2  # ReccoBeats needs no account
    assert report.spotify.remaining == 2

    dead = f"http://127.0.0.1:{port}"
    with (
        SpotifyClient(
            "id",
            "secret",
            "refresh",
            api_base=dead,
            token_url=dead + "/api/token",
            max_retries=1,
            sleep=lambda _s: None,
        ) as sp,  # fmt: skip
        ReccoBeatsClient(dead, max_retries=0) as rb,
    ):
        offline = enrich_tracks(db, sp, rb)
    assert offline.spotify.skipped.startswith("unreachable") and offline.spotify.failed_batches == 0
    assert offline.reccobeats.considered == 0  # its fields were filled above


def test_reloading_the_catalog_after_enrichment_changes_nothing(db, tmp_path):
    path, frame = write_catalog(tmp_path, 50, seed=3)
    frame.loc[:4, "popularity"] = None
    frame.to_csv(path, index=False)
    load_catalog(db, str(path))
    known = []
    for n, track_id in enumerate(frame["track_id"][:5]):
        track = make_track(n, popularity=60 + n)
        known.append({**track, "id": track_id})
    with FakeSpotify(extra_tracks=known) as spotify, spotify.client() as client:
        report = enrich_tracks(db, client, None)
    assert report.spotify.enriched == 5
    reload = load_catalog(db, str(path))
    assert reload.updated == 0 and reload.inserted == 0
    popularity = stored(db).loc[frame["track_id"][:5], "popularity"].tolist()
    assert popularity == [60, 61, 62, 63, 64]  # enriched, kept by the reload
