"""The shared retry policy (spotify_assets.lib.http) against scripted httpx transports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from spotify_assets.lib.http import RetryingHTTP, retry_after
from spotify_assets.lib.listening.api import ReccoBeatsError
from spotify_assets.lib.spotify import SpotifyAPIError

URL = "https://api.example.test/v1/things"


class Script:
    """A transport answering each request with the next scripted reply (a Response or an
    exception to raise), and recording how many requests it saw."""

    def __init__(self, *replies: httpx.Response | Exception):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def _client(script: Script, sleeps: list[float], error=SpotifyAPIError, **kwargs) -> RetryingHTTP:
    return RetryingHTTP(error, sleep=sleeps.append, transport=httpx.MockTransport(script), **kwargs)


def test_429_waits_for_retry_after_seconds():
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200))
    sleeps: list[float] = []
    messages: list[str] = []
    with _client(script, sleeps, log=messages.append) as http:
        assert http.request("GET", URL).status_code == 200
    assert sleeps == [3.0] and len(script.requests) == 2
    assert messages == ["/v1/things: 429; retry in 3s"]


def test_retry_after_as_an_http_date():
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

    def at(when: datetime) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})

    assert retry_after(at(now + timedelta(seconds=30)), now=now) == 30.0
    assert retry_after(at(now - timedelta(seconds=30)), now=now) == 0.0  # already past
    assert retry_after(at(now + timedelta(hours=2)), now=now) == 60.0  # capped
    assert retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None
    assert retry_after(httpx.Response(429)) is None

    # through the client, against the real clock: a far-off date waits the cap
    script = Script(at(datetime.now(UTC) + timedelta(hours=1)), httpx.Response(200))
    sleeps: list[float] = []
    with _client(script, sleeps) as http:
        http.request("GET", URL)
    assert sleeps == [60.0]


def test_an_unreadable_retry_after_falls_back_to_backoff():
    script = Script(httpx.Response(429, headers={"Retry-After": "soon"}), httpx.Response(200))
    sleeps: list[float] = []
    with _client(script, sleeps) as http:
        http.request("GET", URL)
    assert sleeps == [0.5]


def test_5xx_then_success_backs_off_exponentially():
    script = Script(httpx.Response(503), httpx.Response(500), httpx.Response(200, json={"a": 1}))
    sleeps: list[float] = []
    with _client(script, sleeps) as http:
        assert http.request("GET", URL).json() == {"a": 1}
    assert sleeps == [0.5, 1.0] and len(script.requests) == 3


@pytest.mark.parametrize(
    ("error", "service"), [(SpotifyAPIError, "Spotify API"), (ReccoBeatsError, "ReccoBeats")]
)
def test_exhausted_retries_raise_the_clients_error_naming_path_and_status(error, service):
    script = Script(*(httpx.Response(502, text="upstream down") for _ in range(3)))
    sleeps: list[float] = []
    http = _client(script, sleeps, error=error, max_retries=2)
    with http, pytest.raises(error, match=f"^{service} /v1/things: 502: upstream down$") as info:
        http.request("GET", URL)
    assert (info.value.path, info.value.status) == ("/v1/things", 502)
    assert sleeps == [0.5, 1.0] and len(script.requests) == 3


def test_a_custom_describe_words_the_message():
    script = Script(httpx.Response(500, json={"error": {"message": "boom"}}))
    http = _client(script, [], max_retries=0, describe=lambda r: r.json()["error"]["message"])
    with http, pytest.raises(SpotifyAPIError, match=r"^Spotify API /things: 500: boom$"):
        http.request("GET", URL, what="/things")


def test_transport_errors_are_retried_then_reported_without_status():
    refused = httpx.ConnectError("connection refused")
    script = Script(refused, httpx.ReadTimeout("slow"), httpx.Response(200))
    sleeps: list[float] = []
    with _client(script, sleeps) as http:
        assert http.request("GET", URL).status_code == 200
    assert sleeps == [0.5, 1.0]

    http = _client(Script(refused, refused, refused), [], error=ReccoBeatsError, max_retries=2)
    with http, pytest.raises(ReccoBeatsError, match="ConnectError after 3 attempts") as info:
        http.request("GET", URL)
    assert info.value.status is None and isinstance(info.value.__cause__, httpx.ConnectError)


def test_a_host_name_that_does_not_resolve_fails_at_once():
    """No network (or a mistyped base URL): backing off would only make an offline import wait."""
    import socket

    def unresolved() -> httpx.ConnectError:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as cause:
            error = httpx.ConnectError("[Errno -2] Name or service not known")
            error.__cause__ = cause
            return error

    script = Script(unresolved(), httpx.Response(200))
    sleeps: list[float] = []
    http = _client(script, sleeps, error=ReccoBeatsError)
    with http, pytest.raises(ReccoBeatsError, match="does not resolve"):
        http.request("GET", URL)
    assert sleeps == [] and len(script.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_non_retryable_4xx_is_returned_at_once(status):
    script = Script(httpx.Response(status))
    sleeps: list[float] = []
    with _client(script, sleeps) as http:
        assert http.request("GET", URL).status_code == status
    assert sleeps == [] and len(script.requests) == 1
