"""One retry policy for the project's HTTP clients (Spotify, ReccoBeats).

`RetryingHTTP` wraps an `httpx.Client`: a request answered 429 (waiting as Retry-After asks,
capped), 5xx, or not answered at all (timeouts, refused connections: httpx transport errors)
is tried again after exponential backoff, up to `max_retries` more times — except a host name
that does not resolve (no network, a mistyped base URL): waiting does not help there, and an
offline `import` would otherwise sit through 15 s of backoff per service. Every other answer,
success or not, is the caller's to interpret (a 401 may mean "refresh the token"). When the
retries run out, the client's own error type is raised, naming the path and the status, so
messages keep naming the service.
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

BACKOFF_BASE_S = 0.5
# A Retry-After longer than this is capped: a stuck job is worse than one more 429.
MAX_RETRY_AFTER_S = 60.0

# (path, status or None when nothing answered, message) → the client's exception.
ErrorFactory = Callable[[str, int | None, str], Exception]


def backoff(attempt: int, base: float = BACKOFF_BASE_S) -> float:
    """Seconds to wait before retry number `attempt + 1`: base, 2·base, 4·base, …"""
    return base * 2**attempt


def retry_after(
    response: httpx.Response, cap: float = MAX_RETRY_AFTER_S, now: datetime | None = None
) -> float | None:
    """Seconds the server asks us to wait (Retry-After as seconds or an HTTP-date), clamped to
    [0, cap]; None when the header is absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), cap)


def response_text(response: httpx.Response) -> str:
    """The default error message: the start of the body, or the reason phrase."""
    return response.text[:200] or response.reason_phrase


def is_retryable(status: int) -> bool:
    return status == 429 or status >= 500


def unresolved(exc: BaseException) -> bool:
    """Whether a transport error comes from a host name that did not resolve."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RetryingHTTP:
    """An `httpx.Client` whose requests are retried on 429, 5xx and transport errors.

    `error` builds the client's exception from (path, status, message); `describe` turns a
    failed response into that message (the service's own words where it has a format).
    `sleep` and `log` are injectable so tests neither wait nor lose the retry trail.
    """

    def __init__(
        self,
        error: ErrorFactory,
        *,
        describe: Callable[[httpx.Response], str] = response_text,
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
        backoff_base: float = BACKOFF_BASE_S,
        max_retry_after: float = MAX_RETRY_AFTER_S,
        transport: httpx.BaseTransport | None = None,
    ):
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.error = error
        self.describe = describe
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._log = log or (lambda _message: None)
        self._client = httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> RetryingHTTP:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def request(
        self, method: str, url: str, *, what: str | None = None, safe: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        """One request, retried while retrying can help; any other answer is returned.

        `what` names the request in logs and errors (default: the URL's path). `safe`: whether
        repeating it changes nothing (default: GET and HEAD); an unsafe request (adding to a
        playlist) is retried only when refused (429), never after a server error or a lost
        answer, which may have come after it was applied. Raises the client's error when the
        retries run out: with the last status, or with status None when no attempt got an
        answer.
        """
        what = what or urlsplit(url).path
        safe = method in ("GET", "HEAD") if safe is None else safe
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if unresolved(exc):
                    message = f"{type(exc).__name__}: the host name does not resolve: {exc}"
                    raise self.error(what, None, message) from exc
                if not safe:
                    message = f"{type(exc).__name__} (not retried: it may have been applied): {exc}"
                    raise self.error(what, None, message) from exc
                if last:
                    message = f"{type(exc).__name__} after {attempt + 1} attempts: {exc}"
                    raise self.error(what, None, message) from exc
                delay = backoff(attempt, self.backoff_base)
                self._log(f"{what}: {type(exc).__name__}; retry in {delay:g}s")
            else:
                status = response.status_code
                if not is_retryable(status) or (not safe and status != 429):
                    return response
                if last:
                    raise self.failure(what, response)
                delay = retry_after(response, self.max_retry_after) if status == 429 else None
                delay = backoff(attempt, self.backoff_base) if delay is None else delay
                self._log(f"{what}: {status}; retry in {delay:g}s")
            self._sleep(delay)
        raise AssertionError("unreachable")

    def failure(self, what: str, response: httpx.Response) -> Exception:
        """The client's error for a response that failed for good."""
        return self.error(what, response.status_code, self.describe(response))
