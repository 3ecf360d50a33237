"""SpotifyClient over real HTTP against the local fake (spotify_assets_tests/fake_spotify.py)."""

import socket

import pytest

from spotify_assets.lib.spotify import SpotifyAPIError, SpotifyAuthError, SpotifyClient
from spotify_assets_tests.fake_spotify import (
    TOKEN_PATH,
    FakePlaylist,
    FakeSpotify,
    episode_item,
    local_item,
    make_plays,
    make_track,
    make_tracks,
    removed_item,
    track_item,
)

ME = "/v1/me"


@pytest.fixture
def spotify():
    with FakeSpotify.with_library(playlist_sizes=(250, 3), liked=120, plays=130) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


def test_playlist_tracks_follow_next_across_pages(spotify, sleeps):
    playlist = spotify.playlists[0]
    with spotify.client(sleep=sleeps.append) as client:
        items = client.playlist_tracks(playlist.id)

    assert [i["track"]["id"] for i in items] == [i["track"]["id"] for i in playlist.items]
    assert len(items) == 250 and items[0]["added_at"] == "2024-01-01T00:00:00Z"
    pages = spotify.calls(f"/v1/playlists/{playlist.id}/tracks")
    assert [(r.query.get("offset", "0"), r.query["limit"]) for r in pages] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]
    assert {r.auth for r in pages} == {"Bearer fake-access-1"}
    assert spotify.count(TOKEN_PATH) == 1 and sleeps == []


def test_user_playlists_and_liked_tracks_page_by_50():
    playlists = [FakePlaylist.of_tracks(f"list {i}", make_tracks(1, i)) for i in range(120)]
    liked = [
        track_item(t, f"2024-02-{1 + i % 28:02d}T00:00:00Z")
        for i, t in enumerate(make_tracks(51, 500))
    ]
    with FakeSpotify(playlists=playlists, liked=liked) as server, server.client() as client:
        found = client.user_playlists()
        saved = client.liked_tracks()

    assert [p["name"] for p in found] == [f"list {i}" for i in range(120)]
    assert found[0]["snapshot_id"] and found[0]["owner"]["id"] == "fake-user"
    assert server.count("/v1/me/playlists") == 3
    assert [s["track"]["id"] for s in saved] == [i["track"]["id"] for i in liked]
    assert saved[1]["added_at"] == "2024-02-02T00:00:00Z"
    assert server.count("/v1/me/tracks") == 2


def test_episodes_local_files_and_removed_tracks_are_skipped():
    tracks = make_tracks(3)
    items = [
        track_item(tracks[0]),
        episode_item(),
        track_item(tracks[1]),
        local_item(),
        removed_item(),
        track_item(tracks[2]),
    ]
    messages: list[str] = []
    with (
        FakeSpotify(playlists=[FakePlaylist("mixed", items)]) as server,
        server.client(log=messages.append) as client,
    ):
        kept = client.playlist_tracks(server.playlists[0].id)

    assert [k["track"]["id"] for k in kept] == [t["id"] for t in tracks]
    assert any("skipped 3" in m for m in messages)


def test_429_waits_for_retry_after(spotify, sleeps):
    spotify.rate_limit(ME, nth=1, retry_after=7)
    with spotify.client(sleep=sleeps.append) as client:
        assert client.me()["id"] == "fake-user"
    assert sleeps == [7.0]
    assert [r.status for r in spotify.calls(ME)] == [429, 200]


def test_retry_after_is_capped(spotify, sleeps):
    spotify.rate_limit(ME, nth=1, retry_after=3600)
    with spotify.client(sleep=sleeps.append) as client:
        client.me()
    assert sleeps == [60.0]


def test_5xx_is_retried_with_exponential_backoff(spotify, sleeps):
    spotify.fail(ME, times=3, status=503)
    with spotify.client(sleep=sleeps.append) as client:
        assert client.me()["id"] == "fake-user"
    assert sleeps == [0.5, 1.0, 2.0]
    assert [r.status for r in spotify.calls(ME)] == [503, 503, 503, 200]


def test_exhausted_retries_name_path_status_and_spotify_message(spotify, sleeps):
    spotify.fail(ME, times=10, status=502, message="Bad gateway upstream")
    with (
        spotify.client(sleep=sleeps.append, max_retries=2) as client,
        pytest.raises(SpotifyAPIError, match="/v1/me: 502: Bad gateway upstream") as info,
    ):
        client.me()
    assert info.value.status == 502 and info.value.path == ME
    assert spotify.count(ME) == 3 and sleeps == [0.5, 1.0]


def test_other_4xx_fail_at_once(spotify, sleeps):
    with (
        spotify.client(sleep=sleeps.append) as client,
        pytest.raises(SpotifyAPIError, match="Resource not found") as info,
    ):
        client.playlist_tracks("nosuchplaylist")
    assert info.value.status == 404
    assert spotify.count("/v1/playlists/nosuchplaylist/tracks") == 1 and sleeps == []


def test_timeouts_are_retried(spotify, sleeps):
    spotify.slow(ME, seconds=1.0)
    with spotify.client(sleep=sleeps.append, timeout=0.2) as client:
        assert client.me()["id"] == "fake-user"
    assert sleeps == [0.5]
    assert spotify.count(ME) == 2


def test_unreachable_api_gives_up_without_status(spotify, sleeps):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with (
        spotify.client(sleep=sleeps.append, api_base=dead, max_retries=2) as client,
        pytest.raises(SpotifyAPIError, match="ConnectError after 3 attempts") as info,
    ):
        client.me()
    assert info.value.status is None and sleeps == [0.5, 1.0]


def test_expired_token_is_refreshed_once_and_the_call_retried(spotify):
    spotify.expire_token_after(2)
    with spotify.client() as client:
        assert [client.me()["id"] for _ in range(5)] == ["fake-user"] * 5

    # calls 1-2 on token 1; call 3: 401, token 2 serves 3-4; call 5: 401, token 3
    assert spotify.count(TOKEN_PATH) == 3
    assert [(r.status, r.auth) for r in spotify.calls(ME)] == [
        (200, "Bearer fake-access-1"),
        (200, "Bearer fake-access-1"),
        (401, "Bearer fake-access-1"),
        (200, "Bearer fake-access-2"),
        (200, "Bearer fake-access-2"),
        (401, "Bearer fake-access-2"),
        (200, "Bearer fake-access-3"),
    ]


def test_a_second_401_after_refreshing_is_an_error(spotify):
    spotify.expire_token_after(0)  # every token is dead on arrival
    with (
        spotify.client() as client,
        pytest.raises(SpotifyAPIError, match="401: The access token expired"),
    ):
        client.me()
    assert spotify.count(TOKEN_PATH) == 2 and spotify.count(ME) == 2


def test_tokens_are_reused_until_their_expiry_margin():
    with FakeSpotify(expires_in=3600) as server, server.client() as client:
        for _ in range(3):
            client.me()
        assert server.count(TOKEN_PATH) == 1
    # expires_in inside the 60 s margin: every call refreshes first
    with FakeSpotify(expires_in=30) as server, server.client() as client:
        for _ in range(3):
            client.me()
        assert server.count(TOKEN_PATH) == 3


def test_token_request_uses_basic_auth_and_the_refresh_token_form(spotify):
    with spotify.client() as client:
        client.me()
    (token,) = spotify.calls(TOKEN_PATH)
    assert token.method == "POST"
    assert token.auth.startswith("Basic ")
    assert token.form == {"grant_type": "refresh_token", "refresh_token": "fake-refresh-token"}


def test_a_rotated_refresh_token_is_kept():
    with FakeSpotify(rotate_refresh_token=True) as server, server.client() as client:
        client.me()
        assert client.refresh_token == "fake-refresh-1"
        server.expire_token_now()
        client.me()  # the refresh must send the new token, the old one no longer works
        assert client.refresh_token == "fake-refresh-2"
    assert [r.status for r in server.calls(TOKEN_PATH)] == [200, 200]


def test_invalid_refresh_token_names_env_vars_without_leaking_secrets(spotify):
    messages: list[str] = []
    client = spotify.client(refresh_token="revoked-refresh-value", log=messages.append)
    with client, pytest.raises(SpotifyAuthError) as info:
        client.me()
    text = str(info.value)
    assert "invalid_grant" in text and "Invalid refresh token" in text
    for env in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN"):
        assert env in text
    for secret in ("revoked-refresh-value", "fake-client-secret"):
        assert secret not in text and all(secret not in m for m in messages)
        assert secret not in repr(client)
    assert spotify.count(ME) == 0


def test_invalid_client_secret_is_an_auth_error(spotify):
    with (
        spotify.client(client_secret="wrong") as client,
        pytest.raises(SpotifyAuthError, match="401 invalid_client"),
    ):
        client.me()


def test_empty_credentials_fail_before_any_request():
    with pytest.raises(SpotifyAuthError, match="SPOTIFY_REFRESH_TOKEN is empty"):
        SpotifyClient("id", "secret", "")


def test_recently_played_cursor(spotify):
    start = 1_700_000_000_000
    with spotify.client() as client:
        newest = client.recently_played()
        assert len(newest.items) == 50
        assert newest.cursors == {
            "after": str(start + 129 * 200_000),
            "before": str(start + 80 * 200_000),
        }
        assert newest.items[0]["played_at"] > newest.items[-1]["played_at"]

        since = client.recently_played(after=start + 99 * 200_000)
        played = [p["track"]["id"] for p in since.items]
        assert played == [spotify.plays[i]["track"]["id"] for i in range(30)]
        assert since.cursors["after"] == str(start + 129 * 200_000)

        nothing = client.recently_played(after=int(since.cursors["after"]))
        assert nothing.items == [] and nothing.cursors == {}
    assert [r.query.get("after") for r in spotify.calls("/v1/me/player/recently-played")] == [
        None,
        str(start + 99 * 200_000),
        str(start + 129 * 200_000),
    ]


def test_recently_played_pages_older_than_the_limit_with_after():
    tracks = make_tracks(80)
    with FakeSpotify(plays=make_plays(tracks, 0, 1000)) as server, server.client() as client:
        first = client.recently_played(after=-1, limit=50)  # the 50 oldest plays
        second = client.recently_played(after=int(first.cursors["after"]), limit=50)
    assert [p["track"]["id"] for p in first.items] == [t["id"] for t in reversed(tracks[:50])]
    assert [p["track"]["id"] for p in second.items] == [t["id"] for t in reversed(tracks[50:])]


def test_tracks_are_fetched_in_batches_of_50_and_unknown_ids_skipped():
    known = [make_track(n) for n in range(110)]
    ids = [t["id"] for t in known]
    ids.insert(60, "0000000000000000000000")
    with FakeSpotify(extra_tracks=known) as server, server.client() as client:
        found = client.tracks(ids)
    assert [t["id"] for t in found] == [t["id"] for t in known]
    batches = [r.query["ids"].split(",") for r in server.calls("/v1/tracks")]
    assert [len(b) for b in batches] == [50, 50, 11]


def test_artists_are_fetched_in_batches_of_50_with_their_genres():
    known = [make_track(n, artists=[f"Artist {n}"]) for n in range(60)]
    genres = {"Artist 1": ["rap", "pop rap"]}
    ids = [t["artists"][0]["id"] for t in known]
    with FakeSpotify(extra_tracks=known, artist_genres=genres) as server, server.client() as c:
        found = c.artists([*ids, ids[0], "0000000000000000000000"])  # a repeat, an unknown id
    assert [a["id"] for a in found] == ids
    assert found[1]["genres"] == ["rap", "pop rap"] and found[0]["genres"] == []
    batches = [r.query["ids"].split(",") for r in server.calls("/v1/artists")]
    assert [len(b) for b in batches] == [50, 11]


def test_next_urls_are_followed_as_given(spotify):
    with spotify.client() as client:
        items = list(client.paginate("/v1/me/tracks", {"limit": 50}))
    assert len(items) == 120
    later = spotify.calls("/v1/me/tracks")[1:]
    assert [r.query for r in later] == [
        {"limit": "50", "offset": "50"},
        {"limit": "50", "offset": "100"},
    ]
    assert spotify.handler_errors == []


def test_adding_to_a_playlist_leaves_out_songs_already_there_and_batches_by_100():
    tracks = make_tracks(230)
    playlist = FakePlaylist.of_tracks("mine", tracks[:5])
    with FakeSpotify(playlists=[playlist], extra_tracks=tracks) as server:
        path = f"/v1/playlists/{playlist.id}/tracks"
        with server.client() as client:
            added = client.add_to_playlist(playlist.id, [t["id"] for t in tracks[3:]])
            assert added == [t["id"] for t in tracks[5:]]
            assert server.count(path, "POST") == 3  # 225 songs: 100 + 100 + 25
            assert [i["track"]["id"] for i in playlist.items] == [t["id"] for t in tracks]
            assert client.add_to_playlist(playlist.id, [tracks[0]["id"]]) == []  # twice: nothing
        assert server.count(path, "POST") == 3


def test_a_failed_add_is_not_retried_but_a_refused_one_is(sleeps):
    tracks = make_tracks(3)
    playlist = FakePlaylist.of_tracks("mine", [])
    with FakeSpotify(playlists=[playlist], extra_tracks=tracks) as server:
        path = f"/v1/playlists/{playlist.id}/tracks"
        with server.client(sleep=sleeps.append) as client:
            # request 1 of the path reads the playlist, request 2 adds: a 502 there may come
            # after the add was applied, so it is not sent again
            server.inject(path, server.error(502, "Bad gateway"), nth=2)
            with pytest.raises(SpotifyAPIError, match="502"):
                client.add_to_playlist(playlist.id, [tracks[0]["id"]])
            assert server.count(path, "POST") == 1 and playlist.items == [] and sleeps == []
            server.rate_limit(path, nth=4)  # the next add is refused once: that one is retried
            assert client.add_to_playlist(playlist.id, [tracks[1]["id"]]) == [tracks[1]["id"]]
            assert server.count(path, "POST") == 3 and len(playlist.items) == 1
