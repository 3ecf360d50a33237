"""The web app in headless Chromium (Playwright driving Debian's `chromium`, no browser
download): search by keyboard, removing a chip, accept and reject, apply against the local
Spotify fake, one person's data never on another's pages, and every page laid out at 1400 px
and at a phone's 400 px (screenshots kept in $SPOTIFY_ASSETS_SCREENSHOTS)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from spotify_assets.lib.store import Database
from spotify_assets.web.app import AppContext, create_app
from spotify_assets_tests.fake_spotify import FakePlaylist, FakeSpotify, make_track
from spotify_assets_tests.web.world import BUNDLE

SCREENSHOTS = Path(
    os.environ.get("SPOTIFY_ASSETS_SCREENSHOTS", Path(tempfile.gettempdir()) / "spotify_assets_ui")
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        yield browser
        browser.close()


class Server:
    """The app under uvicorn on a free local port, in a thread; `spotify` can be swapped."""

    def __init__(self, ctx: AppContext):
        import uvicorn

        self.ctx = ctx
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(ctx), host="127.0.0.1", port=self.port,
                                log_level="warning")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def server(world, embedder):
    ctx = AppContext(Database(world.database_url), BUNDLE, embedder)
    with Server(ctx) as running:
        yield running


def check_layout(page, name: str, width: int) -> None:
    """Nothing wider than the window (no sideways scrolling), every button inside it; kept."""
    page.set_viewport_size({"width": width, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} at {width} px scrolls sideways by {overflow} px"
    outside = page.evaluate(
        """(w) => Array.from(document.querySelectorAll('button, input, select, a'))
               .filter(e => e.offsetParent !== null && !e.classList.contains('skip'))
               .filter(e => { const r = e.getBoundingClientRect(); return r.right > w + 1 || r.left < -1; })
               .map(e => e.outerHTML.slice(0, 80))""",
        width,
    )
    assert not outside, f"{name} at {width} px: outside the window: {outside[:3]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"web_{name}_{width}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000  # a rendered page, not a blank one


def test_search_by_keyboard_and_chips(browser, server):
    page = browser.new_page()
    page.goto(server.url("/"))
    for _ in range(12):  # from the top of the page, Tab reaches the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("sad slow songs")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?**")
    assert page.locator("li.result").count() == 10
    chips = page.locator("li.chip")
    assert chips.count() >= 1
    words = chips.first.inner_text().split("”")[0].lstrip("“")
    for width in (1400, 400):
        check_layout(page, "search", width)
    chips.first.locator("a").focus()  # a chip is removed from the keyboard too
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert f"“{words}” →" not in page.locator("main").inner_text()
    assert page.locator("li.result").count() == 10
    page.locator("li.result a.more").first.click()
    page.wait_for_url("**/like/**")
    assert page.locator("li.result").count() == 10
    page.close()


def test_sort_review_accept_reject_apply_and_people_apart(browser, server, world):
    page = browser.new_page()
    page.goto(server.url("/p/ben/sort"))
    text = page.locator("main").inner_text()
    assert not [n for n in world.playlist_names["ana"] if n in text]  # nothing of ana's here
    for width in (1400, 400):
        check_layout(page, "sort", width)
    page.set_viewport_size({"width": 1400, "height": 900})
    song = page.locator("section.song").first
    song_id = song.get_attribute("id")
    first = song.locator("li.suggestion").first
    playlist = first.locator("strong").inner_text()
    first.get_by_role("button", name="Accept").click()
    page.wait_for_load_state()
    assert page.locator(f"#{song_id} li.suggestion").first.locator(".state").inner_text() == "accepted"
    second = page.locator(f"#{song_id} li.suggestion").nth(1)
    second.get_by_role("button", name="Reject").click()
    page.wait_for_load_state()
    assert page.locator(f"#{song_id} li.suggestion").nth(1).locator(".state").inner_text() == "rejected"
    track_id = song_id.removeprefix("song-")
    track = dict(make_track(7), id=track_id)
    with FakeSpotify(playlists=[FakePlaylist(playlist, [])], extra_tracks=[track]) as fake:
        server.ctx.spotify = fake.client
        try:
            page.get_by_role("button", name="Add accepted songs to my Spotify playlists").click()
            page.wait_for_load_state()
            status = page.get_by_role("status").inner_text()
        finally:
            server.ctx.spotify = None
        assert f"added 1 song to '{playlist}'" in status
        assert track_id in [i["track"]["id"] for i in fake.playlists[0].items]
    # ana's pages show nothing of ben's: playlists, decisions
    for path in ("/p/ana", "/p/ana/sort"):
        page.goto(server.url(path))
        text = page.locator("main").inner_text()
        assert not [n for n in world.playlist_names["ben"] if n in text], path
    check_layout(page, "sort_ana", 400)
    page.goto(server.url("/p/ana"))
    for width in (1400, 400):
        check_layout(page, "person", width)
    page.goto(server.url("/"))
    for width in (1400, 400):
        check_layout(page, "home", width)
    page.close()
