"""Spotify Web API client: refresh-token auth, retries with backoff, paging.

Only the refresh-token flow is supported: a long-lived refresh token is the one credential a
scheduled job can hold, and every access token is derived from it on demand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

import httpx

from spotify_assets.lib.http import RetryingHTTP

CREDENTIAL_ENV_VARS = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN")
# Refresh this long before Spotify says the token expires, so no call races the expiry.
TOKEN_MARGIN_S = 60.0
TRACKS_BATCH = 50
ARTISTS_BATCH = 50  # the most ids /v1/artists takes per call
ADD_BATCH = 100  # the most items POST /v1/playlists/{id}/tracks takes per call


class SpotifyError(Exception):
    """Base of every error this client raises."""


class SpotifyAuthError(SpotifyError):
    """Spotify refused the credentials: fixing them is the remedy, retrying is not."""


class SpotifyAPIError(SpotifyError):
    """A request that failed for good (after retries where retrying made sense)."""

    def __init__(self, path: str, status: int | None, message: str):
        self.path = path
        self.status = status
        self.message = message
        super().__init__(f"Spotify API {path}: {status or 'no response'}: {message}")


class RecentlyPlayed(NamedTuple):
    items: list[dict]
    cursors: dict  # {"after": ms, "before": ms} as strings; empty when there were no plays


class SpotifyClient:
    """A sync client; use it as a context manager (or call `close()`) to free connections."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        api_base: str = "https://api.spotify.com",
        token_url: str = "https://accounts.spotify.com/api/token",
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ):
        for env, value in zip(
            CREDENTIAL_ENV_VARS, (client_id, client_secret, refresh_token), strict=True
        ):
            if not value:
                raise SpotifyAuthError(f"{env} is empty; set it to your Spotify app's value")
        self.client_id = client_id
        self._client_secret = client_secret
        self.refresh_token = refresh_token
        self.api_base = api_base.rstrip("/")
        self.token_url = token_url
        self.max_retries = max_retries
        self._log = log or (lambda _message: None)
        self._http = RetryingHTTP(
            SpotifyAPIError,
            describe=_error_message,
            timeout=timeout,
            max_retries=max_retries,
            sleep=sleep,
            log=self._log,
        )
        self._access_token: str | None = None
        self._expires_at = 0.0

    def __repr__(self) -> str:
        return f"SpotifyClient(client_id={self.client_id!r}, api_base={self.api_base!r})"

    def __enter__(self) -> SpotifyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- endpoints ------------------------------------------------------------------------

    def me(self) -> dict:
        return self.get("/v1/me")

    def user_playlists(self) -> list[dict]:
        """Playlists the user owns or follows (simplified playlist objects)."""
        return list(self.paginate("/v1/me/playlists", {"limit": 50}))

    def playlist_tracks(self, playlist_id: str) -> list[dict]:
        """`{added_at, track}` in playlist order; episodes, local files and gaps are skipped."""
        path = f"/v1/playlists/{quote(playlist_id, safe='')}/tracks"
        kept, skipped = [], 0
        for item in self.paginate(path, {"limit": 100}):
            track = item.get("track")
            if (
                not track
                or item.get("is_local")
                or track.get("is_local")
                or track.get("type") == "episode"
            ):
                skipped += 1
                continue
            kept.append({"added_at": item.get("added_at"), "track": track})
        if skipped:
            self._log(f"{path}: skipped {skipped} episodes, local files or removed tracks")
        return kept

    def liked_tracks(self) -> list[dict]:
        """Saved tracks as `{added_at, track}`, most recently saved first."""
        return [
            {"added_at": item.get("added_at"), "track": item["track"]}
            for item in self.paginate("/v1/me/tracks", {"limit": 50})
            if item.get("track")
        ]

    def recently_played(self, after: int | None = None, limit: int = 50) -> RecentlyPlayed:
        """One page of plays newer than `after` (unix ms); pass `cursors["after"]` next time."""
        if not 1 <= limit <= 50:
            raise ValueError(f"limit must be 1..50, got {limit}")
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = int(after)
        page = self.get("/v1/me/player/recently-played", params)
        return RecentlyPlayed(list(page.get("items") or []), dict(page.get("cursors") or {}))

    def tracks(self, ids: Iterable[str]) -> list[dict]:
        """Full track objects for `ids` (batches of 50); unknown ids are skipped."""
        ids = list(ids)
        found = []
        for start in range(0, len(ids), TRACKS_BATCH):
            batch = ids[start : start + TRACKS_BATCH]
            body = self.get("/v1/tracks", {"ids": ",".join(batch)})
            found.extend(t for t in body.get("tracks") or [] if t)
        return found

    def artists(self, ids: Iterable[str]) -> list[dict]:
        """Full artist objects (with `genres`) for `ids` (batches of 50); unknown ids are skipped."""
        ids = list(dict.fromkeys(ids))
        found = []
        for start in range(0, len(ids), ARTISTS_BATCH):
            batch = ids[start : start + ARTISTS_BATCH]
            body = self.get("/v1/artists", {"ids": ",".join(batch)})
            found.extend(a for a in body.get("artists") or [] if a)
        return found

    def add_to_playlist(self, playlist_id: str, track_ids: Iterable[str]) -> list[str]:
        """Add the tracks to the playlist, leaving out those already in it (so applying twice
        adds nothing), in batches of ADD_BATCH; the ids added, in order. Scope:
        playlist-modify-public / -private. A POST is not retried after a server error (it may
        have been applied): the error says so, and the next apply reads the playlist again."""
        present = {
            (item.get("track") or {}).get("id") for item in self.playlist_tracks(playlist_id)
        }
        wanted = [t for t in dict.fromkeys(track_ids) if t and t not in present]
        path = f"/v1/playlists/{quote(playlist_id, safe='')}/tracks"
        for start in range(0, len(wanted), ADD_BATCH):
            uris = [f"spotify:track:{t}" for t in wanted[start : start + ADD_BATCH]]
            self.send("POST", path, {"uris": uris})
        return wanted

    # -- transport ------------------------------------------------------------------------

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict]:
        """Items of a paging object, following its absolute `next` URL as given."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        seen: set[str] = set()
        while url:
            page = self.get(url, query)
            yield from page.get("items") or []
            url, query = page.get("next"), None
            if url in seen:
                raise SpotifyAPIError(path, None, f"paging loops: next URL {url} repeats")
            if url:
                seen.add(url)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        """GET a path (or an absolute URL) as JSON; a 401 refreshes the token and retries once."""
        return self.send("GET", path, params=params)

    def send(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> dict:
        """One call as JSON; a 401 refreshes the token and retries once. Only a GET is retried
        after a server error (RetryingHTTP's `safe`); a write only when refused (429)."""
        url = path if path.startswith(("http://", "https://")) else self.api_base + path
        what = urlsplit(url).path
        refreshed = False
        while True:
            headers = {"Authorization": f"Bearer {self._token()}"}
            response = self._http.request(method, url, what=what, params=params, headers=headers,
                                          **({} if body is None else {"json": body}))  # fmt: skip
            if response.status_code == 401 and not refreshed:
                self._log(f"{what}: 401 ({_error_message(response)}); refreshing the access token")
                self._access_token = None
                refreshed = True
                continue
            if response.is_success:
                return response.json() if response.content else {}
            raise self._http.failure(what, response)

    def _token(self) -> str:
        if self._access_token is None or time.monotonic() >= self._expires_at:
            self._refresh()
        assert self._access_token is not None
        return self._access_token

    def _refresh(self) -> None:
        what = urlsplit(self.token_url).path
        response = self._http.request(
            "POST",
            self.token_url,
            what=what,
            safe=True,  # a token refresh changes nothing but the token
            data={"grant_type": "refresh_token", "refresh_token": self.refresh_token},
            auth=(self.client_id, self._client_secret),
        )
        if response.status_code in (400, 401):
            names = ", ".join(CREDENTIAL_ENV_VARS)
            raise SpotifyAuthError(
                f"Spotify refused the token refresh ({response.status_code} "
                f"{_error_message(response)}); check {names} "
                "(a revoked refresh token needs a new authorization)"
            )
        if not response.is_success:
            raise self._http.failure(what, response)
        body = response.json()
        if not body.get("access_token"):
            raise SpotifyAPIError(what, response.status_code, "token response has no access_token")
        self._access_token = body["access_token"]
        self._expires_at = time.monotonic() + float(body.get("expires_in", 3600)) - TOKEN_MARGIN_S
        if body.get("refresh_token"):  # Spotify may rotate it; the old one can stop working
            self.refresh_token = body["refresh_token"]
        self._log("access token refreshed")


def _error_message(response: httpx.Response) -> str:
    """Spotify's own words: `error.message` (API) or `error_description` (accounts service)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or response.reason_phrase)
    if isinstance(error, str):
        description = body.get("error_description")
        return f"{error}: {description}" if description else error
    return response.reason_phrase
