"""The web app: routes, each a thin read of lib/ rendered by a template.

Every page about a person is under /p/{person} and reads only that person's rows; a decision
form names the person in its path, and the repository checks that the playlist is theirs.
Writes are POSTs from the app's own pages (a form posted from another origin is refused).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from spotify_assets.lib.artifacts import ArtifactNotFound, ArtifactStore
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.people import PersonNameError, check_person
from spotify_assets.lib.spotify.client import SpotifyClient, SpotifyError
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.web import pages

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


@dataclass
class AppContext:
    """What every route reads: the database, the bundle and its query model (loaded once),
    the artifact store (the listening dashboard) and how to reach Spotify (None: no
    credentials, "apply" says so)."""

    db: Database
    bundle: ModelBundle
    embedder: object
    artifacts: ArtifactStore | None = None
    spotify: Callable[[], SpotifyClient] | None = None


def create_app(ctx: AppContext) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["bundle"] = ctx.bundle.name

    def render(request: Request, name: str, status: int = 200, **values) -> HTMLResponse:
        return templates.TemplateResponse(request, name, values, status_code=status)

    def person_of(request: Request) -> str:
        try:
            person = check_person(request.path_params["person"])
        except PersonNameError as exc:
            raise HTTPException(404, str(exc)) from exc
        with ctx.db.connect() as conn:
            if not PersonRepository(conn).exists(person):
                raise HTTPException(404, f"no person named {person!r} here")
        return person

    def home(request: Request) -> HTMLResponse:
        with ctx.db.connect() as conn:
            people = PersonRepository(conn).all()
        return render(request, "home.html", people=people, person=None)

    def search(request: Request) -> HTMLResponse:
        query = request.query_params.get("q", "")
        person = request.query_params.get("person") or None
        ignore = frozenset(request.query_params.getlist("ignore"))
        with ctx.db.connect() as conn:
            people = PersonRepository(conn).all()
        if person is not None and person not in people:
            person = None
        values = dict(query=query, person=person, people=people, ignore=sorted(ignore))
        if not query.strip():
            return render(request, "search.html", **values, page=None)
        try:
            page = pages.search_page(ctx.db, ctx.bundle, ctx.embedder, query, person, ignore)
        except InputError as exc:
            return render(request, "search.html", 400, **values, page=None, error=str(exc))
        for chip in page.chips:
            chip.remove_url = "/search?" + urlencode(
                [("q", query), *([("person", person)] if person else []),
                 *(("ignore", w) for w in sorted(ignore | {chip.words}))]
            )  # fmt: skip
        return render(request, "search.html", **values, page=page)

    def like(request: Request) -> HTMLResponse:
        track_id = request.path_params["track_id"]
        person = request.query_params.get("person") or None
        try:
            page = pages.like_page(ctx.db, ctx.bundle, track_id)
        except InputError as exc:
            raise HTTPException(404, str(exc)) from exc
        return render(request, "like.html", page=page, person=person)

    def person_page(request: Request) -> HTMLResponse:
        person = person_of(request)
        page = pages.person_page(ctx.db, ctx.bundle, person, ctx.artifacts)
        return render(request, "person.html", person=person, page=page)

    def sort_page(request: Request) -> HTMLResponse:
        person = person_of(request)
        page = pages.sort_page(ctx.db, ctx.bundle, person)
        message = request.query_params.get("message")
        return render(request, "sort.html", person=person, page=page, message=message,
                      can_apply=ctx.spotify is not None)  # fmt: skip

    async def decide(request: Request) -> Response:
        person = await run_in_threadpool(person_of, request)
        form = await _form(request)
        track_id = form.get("track_id", "")
        try:
            score = float(form["score"]) if form.get("score") else None
            await run_in_threadpool(
                pages.decide, ctx.db, person, track_id, form.get("playlist_id", ""),
                form.get("decision", ""), score,
            )  # fmt: skip
        except (ValueError, InputError) as exc:
            raise HTTPException(400, str(exc)) from exc
        return RedirectResponse(f"/p/{person}/sort#song-{track_id}", status_code=303)

    async def apply(request: Request) -> Response:
        person = await run_in_threadpool(person_of, request)
        await _form(request)
        if ctx.spotify is None:
            lines = ["no Spotify credentials: set SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET and "
                     "SPOTIFY_REFRESH_TOKEN (see README: Spotify account) and restart `serve`"]  # fmt: skip
        else:
            try:
                lines = await run_in_threadpool(pages.apply, ctx.db, person, ctx.spotify)
            except SpotifyError as exc:
                lines = [f"Spotify refused: {exc}"]
        return RedirectResponse(
            f"/p/{person}/sort?" + urlencode({"message": "; ".join(lines)}), status_code=303
        )

    def decisions_csv(request: Request) -> Response:
        person = person_of(request)
        return Response(
            pages.decisions_csv(ctx.db, person), media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{person}-decisions.csv"'},
        )  # fmt: skip

    def dashboard(request: Request) -> Response:
        person = person_of(request)
        if ctx.artifacts is not None:
            try:
                html = ctx.artifacts.get_bytes(pages.dashboard_key(person))
                return HTMLResponse(html)
            except ArtifactNotFound:
                pass
        return render(request, "no_dashboard.html", 404, person=person)

    async def _form(request: Request) -> dict[str, str]:
        """The posted form (urlencoded), after checking it came from this app's own pages."""
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            raise HTTPException(403, "a form posted from another site is refused")
        body = (await request.body()).decode("utf-8", errors="replace")
        return dict(parse_qsl(body, keep_blank_values=True))

    async def not_found(request: Request, exc: HTTPException) -> HTMLResponse:
        return render(request, "error.html", exc.status_code, message=exc.detail, person=None)

    routes = [
        Route("/", home),
        Route("/search", search),
        Route("/like/{track_id}", like),
        Route("/p/{person}", person_page),
        Route("/p/{person}/sort", sort_page),
        Route("/p/{person}/decide", decide, methods=["POST"]),
        Route("/p/{person}/apply", apply, methods=["POST"]),
        Route("/p/{person}/decisions.csv", decisions_csv),
        Route("/p/{person}/dashboard", dashboard),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})
