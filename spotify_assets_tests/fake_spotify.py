"""A local stand-in for the Spotify Web API and accounts service, for tests.

It speaks the real JSON shapes (paging objects with absolute `next` URLs, error objects, token
responses, cursor paging) over real HTTP on 127.0.0.1, so the client is tested with its own
transport, and faults (429, 5xx, slow answers, expired tokens, revoked refresh tokens) can be
injected per path. Routes live in a table: another service (ReccoBeats, ...) is a subclass
of `FakeHTTPServer` with its own routes, a new endpoint is one `add_route` call.

    with FakeSpotify.with_library(playlist_sizes=(250,)) as server:
        client = server.client(sleep=sleeps.append)
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

BASE62 = string.digits + string.ascii_letters
TOKEN_PATH = "/api/token"
SCOPES = "playlist-read-private user-library-read user-read-recently-played"


# -- the generic server --------------------------------------------------------------------


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route pattern

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (client timeouts)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    auth: str | None  # the Authorization header as sent
    form: dict[str, str]
    status: int  # what the fake answered


Handler = Callable[[FakeRequest], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True  # run `authorize` first


@dataclass
class _Fault:
    path: str  # "*" for every path
    reply: Reply
    nth: int | None  # answer the Nth request of the path (1-based) ...
    remaining: int  # ... or, with nth=None, the next `remaining` requests


class FakeHTTPServer:
    """Route table, request log and fault injection on a ThreadingHTTPServer in a daemon thread."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[RecordedRequest] = []
        self.handler_errors: list[BaseException] = []  # bugs in the fake itself
        self._faults: list[_Fault] = []
        self._counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # routes and faults

    def add_route(self, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        """`pattern` is a full-match regex on the path; named groups become `request.params`."""
        self.routes.append(Route(method.upper(), re.compile(pattern), handler, auth))

    def inject(self, path: str, reply: Reply, *, nth: int | None = None, times: int = 1) -> None:
        """Answer `reply` to the `nth` request of `path`, or to its next `times` requests."""
        with self._lock:
            self._faults.append(_Fault(path, reply, nth, times))

    def rate_limit(self, path: str, *, nth: int = 1, retry_after: int = 1) -> None:
        reply = self.error(429, "API rate limit exceeded")
        reply.headers["Retry-After"] = str(retry_after)
        self.inject(path, reply, nth=nth)

    def fail(self, path: str, *, times: int = 1, status: int = 500, message: str = "") -> None:
        self.inject(path, self.error(status, message or "Server error"), times=times)

    def slow(self, path: str, seconds: float, *, times: int = 1) -> None:
        """Answer normally-shaped but late (after `seconds`): a client timeout test."""
        self.inject(path, Reply(200, {"slow": True}, delay=seconds), times=times)

    @staticmethod
    def error(status: int, message: str) -> Reply:
        return Reply(status, {"error": {"status": status, "message": message}})

    def authorize(self, request: FakeRequest) -> Reply | None:
        """None lets a request through; subclasses check credentials here."""
        return None

    # the request log

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (path is None or r.path == path) and (method is None or r.method == method)
            ]

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return len(self.calls(path, method))

    # lifecycle

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("server is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        # a short poll interval: shutdown() waits up to one interval, once per test
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # dispatch

    def dispatch(self, request: FakeRequest) -> Reply:
        with self._lock:
            self._counts[request.path] += 1
            reply = self._fault(request.path, self._counts[request.path])
            if reply is None:
                reply = self._route(request)
            auth = request.headers.get("authorization")
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.path,
                    request.query,
                    auth,
                    request.form if request.body else {},
                    reply.status,
                )
            )
            return reply

    def _fault(self, path: str, n: int) -> Reply | None:
        for fault in self._faults:
            if fault.path not in (path, "*") or fault.remaining <= 0:
                continue
            if fault.nth is None or fault.nth == n:
                fault.remaining -= 1
                return fault.reply
        return None

    def _route(self, request: FakeRequest) -> Reply:
        allowed = False
        for route in self.routes:
            match = route.pattern.fullmatch(request.path)
            if not match:
                continue
            if route.method != request.method:
                allowed = True
                continue
            request.params = match.groupdict()
            try:
                return (route.auth and self.authorize(request)) or route.handler(request)
            except Exception as exc:  # a bug in a handler: surface it as a 500 and keep it
                self.handler_errors.append(exc)
                return self.error(500, f"fake server error: {type(exc).__name__}: {exc}")
        return self.error(405, "Method not allowed") if allowed else self.error(404, "Not found")


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeSpotify/1.0"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = FakeRequest(
            method=self.command,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.fake.dispatch(request)  # type: ignore[attr-defined]
        if reply.delay:
            time.sleep(reply.delay)
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; `FakeHTTPServer.requests` has everything


# -- Spotify data builders -----------------------------------------------------------------


def spotify_id(kind: str, key: object) -> str:
    """A deterministic 22-character base62 id, like Spotify's, for any key."""
    value = int.from_bytes(hashlib.sha256(f"{kind}-{key}".encode()).digest()[:17], "big")
    chars = []
    for _ in range(22):
        value, digit = divmod(value, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


def make_track(
    n: int,
    *,
    name: str | None = None,
    artists: Sequence[str] | None = None,
    album: str | None = None,
    release_date: str = "2020-05-01",
    popularity: int | None = None,
    duration_ms: int | None = None,
    explicit: bool = False,
) -> dict:
    """A full track object as /v1/tracks and paging items carry it."""
    track_id = spotify_id("track", n)
    album_id = spotify_id("album", n // 10)
    artist_objects = [
        {
            "id": spotify_id("artist", a),
            "name": a,
            "type": "artist",
            "uri": f"spotify:artist:{spotify_id('artist', a)}",
        }
        for a in (artists or [f"Artist {n % 7}"])
    ]
    return {
        "id": track_id,
        "name": name or f"Track {n}",
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "href": f"https://api.spotify.com/v1/tracks/{track_id}",
        "artists": artist_objects,
        "album": {
            "id": album_id,
            "name": album or f"Album {n // 10}",
            "album_type": "album",
            "release_date": release_date,
            "release_date_precision": {4: "year", 7: "month"}.get(len(release_date), "day"),
            "artists": artist_objects[:1],
            "type": "album",
            "uri": f"spotify:album:{album_id}",
        },
        "popularity": popularity if popularity is not None else n % 101,
        "duration_ms": duration_ms if duration_ms is not None else 180_000 + n * 1000,
        "explicit": explicit,
        "is_local": False,
        "disc_number": 1,
        "track_number": n % 12 + 1,
        "external_ids": {"isrc": f"XX{n:010d}"},
    }


def make_tracks(count: int, start: int = 0) -> list[dict]:
    return [make_track(n) for n in range(start, start + count)]


def iso(ms: int) -> str:
    """Unix ms → Spotify's timestamp format."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )


def track_item(track: dict, added_at: str = "2024-01-01T00:00:00Z") -> dict:
    """A playlist-track / saved-track item."""
    return {
        "added_at": added_at,
        "added_by": {"id": "fake-user"},
        "is_local": False,
        "track": track,
    }


def episode_item(n: int = 0) -> dict:
    episode_id = spotify_id("episode", n)
    return {
        "added_at": "2024-01-01T00:00:00Z",
        "is_local": False,
        "track": {
            "id": episode_id,
            "name": f"Episode {n}",
            "type": "episode",
            "uri": f"spotify:episode:{episode_id}",
            "show": {"name": "A Podcast"},
            "duration_ms": 1_800_000,
        },
    }


def local_item(name: str = "home recording") -> dict:
    return {
        "added_at": "2024-01-01T00:00:00Z",
        "is_local": True,
        "track": {
            "id": None,
            "name": name,
            "type": "track",
            "uri": f"spotify:local:Me:Demos:{name.replace(' ', '+')}:200",
            "is_local": True,
            "artists": [{"id": None, "name": "Me"}],
        },
    }


def removed_item() -> dict:
    """A track that is no longer available: Spotify sends `track: null`."""
    return {"added_at": "2024-01-01T00:00:00Z", "is_local": False, "track": None}


def make_plays(tracks: Sequence[dict], start_ms: int, step_ms: int = 200_000) -> list[dict]:
    """Play-history items, the first track played at `start_ms`, each next one `step_ms` later."""
    return [
        {"track": t, "played_at": iso(start_ms + i * step_ms), "context": None}
        for i, t in enumerate(tracks)
    ]


@dataclass
class FakePlaylist:
    name: str
    items: list[dict]  # playlist-track items, see track_item / episode_item / local_item
    id: str = ""
    description: str = ""
    owner_id: str = "fake-user"
    snapshot_id: str = ""

    def __post_init__(self) -> None:
        self.id = self.id or spotify_id("playlist", self.name)
        self.snapshot_id = self.snapshot_id or f"snap-{self.id[:8]}-{len(self.items)}"

    @classmethod
    def of_tracks(cls, name: str, tracks: Iterable[dict], **kwargs: Any) -> FakePlaylist:
        return cls(name, [track_item(t) for t in tracks], **kwargs)


# -- the Spotify fake ----------------------------------------------------------------------


class FakeSpotify(FakeHTTPServer):
    """Spotify's API (/v1/...) and accounts service (/api/token) on one local server."""

    def __init__(
        self,
        *,
        playlists: Sequence[FakePlaylist] = (),
        liked: Sequence[dict] = (),
        plays: Sequence[dict] = (),
        extra_tracks: Sequence[dict] = (),
        artist_genres: Mapping[str, Sequence[str]] | None = None,
        user_id: str = "fake-user",
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        refresh_token: str = "fake-refresh-token",
        expires_in: int = 3600,
        rotate_refresh_token: bool = False,
    ):
        super().__init__()
        self.playlists = list(playlists)
        self.liked = list(liked)  # saved-track items, most recent first (as Spotify lists them)
        self.plays = sorted(plays, key=lambda p: _ms(p["played_at"]), reverse=True)
        self.user_id = user_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.expires_in = expires_in
        self.rotate_refresh_token = rotate_refresh_token
        self.token_lifetime_calls: int | None = None  # see expire_token_after
        self.tokens_issued = 0
        self._token_calls: dict[str, int] = {}  # access token → API calls it served
        self._expired: set[str] = set()
        self.catalog: dict[str, dict] = {}
        for track in [
            *(i["track"] for p in self.playlists for i in p.items if i.get("track")),
            *(i["track"] for i in self.liked),
            *(p["track"] for p in self.plays),
            *extra_tracks,
        ]:
            if track.get("id") and track.get("type") == "track":
                self.catalog.setdefault(track["id"], track)
        # every artist the tracks credit, with the genres given by artist name (none: [])
        genres = artist_genres or {}
        self.artists: dict[str, dict] = {}
        for track in self.catalog.values():
            for artist in track.get("artists") or []:
                if artist.get("id"):
                    self.artists.setdefault(artist["id"], {
                        **artist, "genres": list(genres.get(artist["name"], [])),
                        "popularity": 50, "followers": {"href": None, "total": 1000},
                    })  # fmt: skip

        self.add_route("POST", TOKEN_PATH, self._token, auth=False)
        self.add_route("GET", r"/v1/me", self._me)
        self.add_route("GET", r"/v1/me/playlists", self._my_playlists)
        self.add_route("GET", r"/v1/playlists/(?P<playlist_id>[^/]+)/tracks", self._playlist_tracks)
        self.add_route("POST", r"/v1/playlists/(?P<playlist_id>[^/]+)/tracks", self._add_items)
        self.add_route("GET", r"/v1/me/tracks", self._liked)
        self.add_route("GET", r"/v1/me/player/recently-played", self._recently_played)
        self.add_route("GET", r"/v1/tracks", self._tracks)
        self.add_route("GET", r"/v1/artists", self._artists)

    @classmethod
    def with_library(
        cls,
        playlist_sizes: Sequence[int] = (250, 3),
        liked: int = 0,
        plays: int = 0,
        plays_start_ms: int = 1_700_000_000_000,
        **kwargs: Any,
    ) -> FakeSpotify:
        """Playlists of the given sizes, then liked tracks and plays, all distinct tracks."""
        playlists, start = [], 0
        for i, size in enumerate(playlist_sizes):
            playlists.append(FakePlaylist.of_tracks(f"Playlist {i}", make_tracks(size, start)))
            start += size
        liked_items = [track_item(t) for t in make_tracks(liked, start)]
        history = make_plays(make_tracks(plays, start + liked), plays_start_ms)
        return cls(playlists=playlists, liked=liked_items, plays=history, **kwargs)

    def client(self, **overrides: Any):
        """A SpotifyClient pointed at this server with its credentials."""
        from spotify_assets.lib.spotify import SpotifyClient

        kwargs = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
            "api_base": self.base_url,
            "token_url": self.base_url + TOKEN_PATH,
            "sleep": lambda _seconds: None,
            **overrides,
        }
        return SpotifyClient(**kwargs)

    # tokens

    def expire_token_after(self, calls: int) -> None:
        """Every access token (the current one included) serves `calls` API calls, then 401s."""
        self.token_lifetime_calls = calls

    def expire_token_now(self) -> None:
        with self._lock:
            self._expired.update(self._token_calls)

    def authorize(self, request: FakeRequest) -> Reply | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return self.error(401, "No token provided")
        token = header.removeprefix("Bearer ")
        if token not in self._token_calls:
            return self.error(401, "Invalid access token")
        served = self._token_calls[token]
        if token in self._expired or (
            self.token_lifetime_calls is not None and served >= self.token_lifetime_calls
        ):
            self._expired.add(token)
            return self.error(401, "The access token expired")
        self._token_calls[token] = served + 1
        return None

    def _token(self, request: FakeRequest) -> Reply:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, {"error": "invalid_client", "error_description": "Invalid client"})
        form = request.form
        if form.get("grant_type") != "refresh_token":
            return Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"grant_type must be refresh_token, got {form.get('grant_type')!r}",
                },
            )
        if form.get("refresh_token") != self.refresh_token:
            return Reply(
                400, {"error": "invalid_grant", "error_description": "Invalid refresh token"}
            )
        self.tokens_issued += 1
        token = f"fake-access-{self.tokens_issued}"
        self._token_calls[token] = 0
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": SCOPES,
        }
        if self.rotate_refresh_token:
            self.refresh_token = body["refresh_token"] = f"fake-refresh-{self.tokens_issued}"
        return Reply(200, body)

    # endpoints

    def page(
        self, request: FakeRequest, items: Sequence[Any], *, default_limit: int, max_limit: int
    ) -> Reply:
        """An offset paging object over `items`, with absolute `next`/`previous` URLs."""
        try:
            limit = int(request.query.get("limit", default_limit))
            offset = int(request.query.get("offset", 0))
        except ValueError:
            return self.error(400, "Invalid limit or offset")
        if not 1 <= limit <= max_limit:
            return self.error(400, "Invalid limit")
        if offset < 0:
            return self.error(400, "Invalid offset")

        def url(at: int) -> str:
            query = {**request.query, "offset": at, "limit": limit}
            return f"{self.base_url}{request.path}?{urlencode(query)}"

        return Reply(
            200,
            {
                "href": url(offset),
                "items": list(items[offset : offset + limit]),
                "limit": limit,
                "offset": offset,
                "total": len(items),
                "next": url(offset + limit) if offset + limit < len(items) else None,
                "previous": url(max(offset - limit, 0)) if offset > 0 else None,
            },
        )

    def _me(self, request: FakeRequest) -> Reply:
        return Reply(
            200,
            {
                "id": self.user_id,
                "display_name": self.user_id.title(),
                "type": "user",
                "uri": f"spotify:user:{self.user_id}",
                "country": "SE",
                "product": "premium",
            },
        )

    def _my_playlists(self, request: FakeRequest) -> Reply:
        simplified = [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "owner": {"id": p.owner_id, "display_name": p.owner_id, "type": "user"},
                "snapshot_id": p.snapshot_id,
                "public": False,
                "collaborative": False,
                "type": "playlist",
                "uri": f"spotify:playlist:{p.id}",
                "tracks": {
                    "href": f"{self.base_url}/v1/playlists/{p.id}/tracks",
                    "total": len(p.items),
                },
            }
            for p in self.playlists
        ]
        return self.page(request, simplified, default_limit=20, max_limit=50)

    def _playlist_tracks(self, request: FakeRequest) -> Reply:
        for playlist in self.playlists:
            if playlist.id == request.params["playlist_id"]:
                return self.page(request, playlist.items, default_limit=100, max_limit=100)
        return self.error(404, "Resource not found")

    def _add_items(self, request: FakeRequest) -> Reply:
        """Add items as Spotify does: body {"uris": [...]} (at most 100; a track URI must name
        a known track), appended; 201 with the new snapshot id."""
        playlist = next((p for p in self.playlists if p.id == request.params["playlist_id"]), None)
        if playlist is None:
            return self.error(404, "Resource not found")
        try:
            uris = (request.json() or {}).get("uris")
        except ValueError:
            return self.error(400, "Error parsing JSON.")
        if not isinstance(uris, list) or not uris or len(uris) > 100:
            return self.error(400, "You can add a maximum of 100 tracks per request.")
        tracks = []
        for uri in uris:
            track_id = str(uri).removeprefix("spotify:track:")
            if not str(uri).startswith("spotify:track:") or track_id not in self.catalog:
                return self.error(400, f"Invalid track uri: {uri}")
            tracks.append(self.catalog[track_id])
        playlist.items.extend(track_item(t) for t in tracks)
        playlist.snapshot_id = f"snap-{playlist.id[:8]}-{len(playlist.items)}"
        return Reply(201, {"snapshot_id": playlist.snapshot_id})

    def _liked(self, request: FakeRequest) -> Reply:
        return self.page(request, self.liked, default_limit=20, max_limit=50)

    def _recently_played(self, request: FakeRequest) -> Reply:
        """Cursor paging, newest first. With `after`, the plays right after the cursor (the
        oldest `limit` newer ones), so that polling with `cursors.after` leaves no gaps."""
        query = request.query
        if "after" in query and "before" in query:
            return self.error(400, "Only one of after and before may be specified")
        try:
            limit = int(query.get("limit", 20))
            after = int(query["after"]) if "after" in query else None
            before = int(query["before"]) if "before" in query else None
        except ValueError:
            return self.error(400, "Invalid limit or cursor")
        if not 1 <= limit <= 50:
            return self.error(400, "Invalid limit")
        if after is not None:
            window = [p for p in self.plays if _ms(p["played_at"]) > after][-limit:]
        else:
            window = [p for p in self.plays if before is None or _ms(p["played_at"]) < before]
            window = window[:limit]
        cursors = None
        next_url = None
        if window:
            newest, oldest = _ms(window[0]["played_at"]), _ms(window[-1]["played_at"])
            cursors = {"after": str(newest), "before": str(oldest)}
            if any(_ms(p["played_at"]) < oldest for p in self.plays):
                next_url = (
                    f"{self.base_url}{request.path}?{urlencode({'before': oldest, 'limit': limit})}"
                )
        return Reply(
            200,
            {
                "href": f"{self.base_url}{request.path}?{urlencode(query)}",
                "items": window,
                "limit": limit,
                "next": next_url,
                "cursors": cursors,
            },
        )

    def _tracks(self, request: FakeRequest) -> Reply:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return self.error(400, "invalid request: ids is required")
        if len(ids) > 50:
            return self.error(400, "Too many ids requested")
        return Reply(200, {"tracks": [self.catalog.get(i) for i in ids]})

    def _artists(self, request: FakeRequest) -> Reply:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return self.error(400, "invalid request: ids is required")
        if len(ids) > 50:
            return self.error(400, "Too many ids requested")
        return Reply(200, {"artists": [self.artists.get(i) for i in ids]})


def _ms(timestamp: str) -> int:
    return round(datetime.fromisoformat(timestamp).timestamp() * 1000)
