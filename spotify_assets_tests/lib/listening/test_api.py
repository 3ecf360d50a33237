"""Recently-played ingestion against FakeSpotify + FakeReccoBeats, cursor and failure handling."""

from __future__ import annotations

import pandas as pd
import pytest

from spotify_assets.lib.listening.api import (
    ReccoBeatsClient,
    ReccoBeatsError,
    fetch_recent,
    ingest_recent,
)
from spotify_assets.lib.listening.ingest import refresh_joins
from spotify_assets.lib.store import listening as listening_store
from spotify_assets.lib.store.listening import PlayRepository
from spotify_assets_tests.fake_reccobeats import FEATURES_PATH, FakeReccoBeats
from spotify_assets_tests.fake_spotify import FakeSpotify, _ms, make_plays, make_tracks

START_MS = 1_700_000_000_000
RECENT = "/v1/me/player/recently-played"


def _spotify(plays: int) -> FakeSpotify:
    return FakeSpotify.with_library(playlist_sizes=(), plays=plays, plays_start_ms=START_MS)


def _state(db, person: str = "me") -> tuple[int, str | None, int]:
    with db.connect() as conn:
        repo = PlayRepository(conn)
        features = conn.execute("SELECT count(*) FROM track_features").fetchone()[0]
        return repo.count(person), repo.cursor(person, "api"), features


def test_fetch_recent_pages_after_the_cursor():
    with _spotify(120) as spotify, spotify.client() as client:
        plays, cursor = fetch_recent(client, START_MS - 1)
        assert len(plays) == 120 and plays["play_key"].is_unique
        newest = max(_ms(p["played_at"]) for p in spotify.plays)
        assert cursor == newest
        assert [c.query.get("after") for c in spotify.calls(RECENT)] == [
            str(START_MS - 1),
            *(str(START_MS + (50 * k - 1) * 200_000) for k in (1, 2)),
            str(newest),
        ]
        by_id = {p["track"]["id"]: p for p in spotify.plays}
        for row in plays.itertuples():
            track = by_id[row.track_id]["track"]
            assert row.played_at == pd.Timestamp(by_id[row.track_id]["played_at"])
            assert row.ended_at - row.played_at == pd.Timedelta(milliseconds=track["duration_ms"])
            assert row.source == "api" and pd.isna(row.ms_played)

        again, same = fetch_recent(client, cursor)
        assert again.empty and same == cursor
        window, _ = fetch_recent(client, None)  # no cursor: the API's window (newest 50)
        assert len(window) == 50


def test_reccobeats_batches_maps_hrefs_and_honours_retry_after():
    ids = [t["id"] for t in make_tracks(100)]
    sleeps: list[float] = []
    with FakeReccoBeats.knowing(ids[:90]) as server:
        server.rate_limit(FEATURES_PATH, nth=2, retry_after=7)
        with ReccoBeatsClient(server.base_url, sleep=sleeps.append) as client:
            found = client.audio_features(ids)
    assert set(found) == set(ids[:90])  # keyed by Spotify id (from href), unknown ids absent
    assert found[ids[0]]["energy"] == server.features[ids[0]]["energy"]
    assert sleeps == [7.0]
    assert [c.status for c in server.calls(FEATURES_PATH)] == [200, 429, 200, 200]
    assert all(len(c.query["ids"].split(",")) <= 40 for c in server.calls(FEATURES_PATH))


def test_reccobeats_gives_up_after_retries():
    with FakeReccoBeats() as server:
        server.fail(FEATURES_PATH, times=10, status=503)
        with (
            ReccoBeatsClient(server.base_url, max_retries=2, sleep=lambda _s: None) as client,
            pytest.raises(ReccoBeatsError, match="503"),
        ):
            client.audio_features(["x" * 22])
        assert server.count(FEATURES_PATH) == 3


def test_ingest_recent_stores_plays_features_and_cursor(db):
    with _spotify(30) as spotify, spotify.client() as client:
        ids = [p["track"]["id"] for p in spotify.plays]
        with FakeReccoBeats.knowing(ids[:20]) as recco, ReccoBeatsClient(recco.base_url) as rb:
            first = ingest_recent(db, client, rb, person="u")
            assert (first.plays, first.inserted, first.features_fetched) == (30, 30, 20)
            coverage = refresh_joins(db, "u")  # the empty catalog joins nothing; features do
            assert (coverage.with_features, coverage.by_id + coverage.by_name) == (20, 0)
            assert (coverage.library, coverage.none) == (30, 0)  # named songs: library tracks
            assert _state(db, "u") == (30, str(first.cursor_after), 20)

            second = ingest_recent(db, client, rb, person="u")  # nothing new since the cursor
            assert (second.plays, second.inserted) == (0, 0)
            assert second.cursor_after == first.cursor_after

            newer = make_plays(make_tracks(5, start=500), first.cursor_after + 1000)
            spotify.plays = sorted(newer, key=lambda p: _ms(p["played_at"]), reverse=True) + (
                spotify.plays
            )
            third = ingest_recent(db, client, rb, person="u")
            assert (third.plays, third.inserted) == (5, 5)
            assert third.cursor_before == first.cursor_after
            assert _state(db, "u")[0] == 35


def _fail_features(recco: FakeReccoBeats, monkeypatch) -> None:
    recco.fail(FEATURES_PATH, times=3, status=500)  # every attempt of one run (max_retries=2)


def _fail_cursor_write(recco: FakeReccoBeats, monkeypatch) -> None:
    calls = {"n": 0}
    real = PlayRepository.set_cursor

    def once(self, *args):  # fail after plays and features were written in the transaction
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(self, *args)

    monkeypatch.setattr(listening_store.PlayRepository, "set_cursor", once)


@pytest.mark.parametrize("inject", [_fail_features, _fail_cursor_write])
def test_failed_run_leaves_cursor_and_rerun_ingests_once(db, monkeypatch, inject):
    with _spotify(30) as spotify, spotify.client() as client:
        ids = [p["track"]["id"] for p in spotify.plays]
        with (
            FakeReccoBeats.knowing(ids) as recco,
            ReccoBeatsClient(recco.base_url, max_retries=2, sleep=lambda _s: None) as rb,
        ):
            inject(recco, monkeypatch)
            with pytest.raises((ReccoBeatsError, RuntimeError)):
                ingest_recent(db, client, rb)
            assert _state(db) == (0, None, 0)  # nothing written, cursor unchanged

            rerun = ingest_recent(db, client, rb)
            assert (rerun.plays, rerun.inserted, rerun.cursor_before) == (30, 30, None)
            assert _state(db) == (30, str(rerun.cursor_after), 30)
            assert ingest_recent(db, client, rb).inserted == 0
            with db.connect() as conn:
                assert PlayRepository(conn).load("me")["has_features"].all()


def test_ingest_recent_without_reccobeats_stores_plays_only(db):
    with _spotify(10) as spotify, spotify.client() as client:
        report = ingest_recent(db, client, None, person="u")
    assert (report.plays, report.inserted, report.features_fetched) == (10, 10, 0)
    assert _state(db, "u")[0] == 10
