"""The dashboard of two real retrains as a person sees it: headless Chromium (Playwright driving
Debian's `chromium`) at 1400 px, for a listener whose export lacks a year and one in a
half-hour zone (Asia/Kolkata). No two text boxes overlap and no identifier (snake_case) is
shown where words belong; screenshots are kept under the test's tmp_path."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from spotify_assets.lib.listening.dashboard import build_dashboard, render_html
from spotify_assets.lib.listening.drift import detect_drift
from spotify_assets.lib.listening.models import time_boundaries
from spotify_assets.lib.listening.moods import fit_moods
from spotify_assets.lib.listening.retrain import Clustering, retrain
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history
from spotify_assets_tests.lib.listening.test_gaps import history_with_a_missing_year

WIDTH = 1400
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-dev-shm-usage", "--disable-component-update", "--no-first-run"]  # fmt: skip
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")

# Every piece of visible text on the page with its boxes: a text node's line boxes in HTML, a
# whole <text> element in an SVG (its tspans are its lines).
TEXT_BOXES = r"""() => {
  const out = [];
  const visible = (el) => { const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0'; };
  document.querySelectorAll('svg text').forEach((t) => {
    if (!visible(t) || !t.textContent.trim()) return;
    const r = t.getBoundingClientRect();
    out.push({text: t.textContent.trim(), boxes: [[r.left, r.top, r.right, r.bottom]]});
  });
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || !parent || parent.closest('svg') || !visible(parent)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const boxes = Array.from(range.getClientRects(), (r) => [r.left, r.top, r.right, r.bottom])
                       .filter((b) => b[2] - b[0] > 0.5 && b[3] - b[1] > 0.5);
    if (boxes.length) out.push({text: node.textContent.trim(), boxes});
  }
  return out;
}"""


def overlap(a: list[float], b: list[float], tol: float = 1.0) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def listener_page(plays: pd.DataFrame, person: str, timezone: str, source: str) -> str:
    """A real retrain of `plays` (moods on the training weeks) and its dashboard page."""
    plays = plays.copy()
    plays["has_features"] = plays["valence"].notna()
    plays["play_key"] = plays["track_id"].fillna("unknown")
    b1, b2 = time_boundaries(plays["played_at"])
    moods = fit_moods(plays[plays["played_at"] < b1], seed=0, k_min=4, k_max=4)
    run = retrain(plays, Clustering((b1, b2), moods), person, timezone, n_boot=50)
    now = plays["played_at"].max().ceil("h")
    predictions = [
        {"hour_start": now + pd.Timedelta(hours=h), "probability": 0.05 + 0.3 * (h % 12) / 12}
        for h in range(24)
    ]
    document = build_dashboard(
        plays, moods, predictions, run.models, detect_drift(plays).to_dict(),
        "2025-06-01T00:00:00Z", timezone=timezone, timezone_source=source,
        run={"retrain_id": run.retrain_id, "trained_at": run.trained_at.isoformat()},
    )  # fmt: skip
    return render_html(document)


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium): the page is "
                    "checked as HTML by the other dashboard tests")  # fmt: skip
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("person", "timezone", "source"),
    [("missing_year", "Europe/Berlin", "setting"), ("kolkata", "Asia/Kolkata", "country IN")],
)
def test_the_dashboard_at_1400_px_has_no_overlapping_text_and_no_identifiers(
    browser, tmp_path: Path, person: str, timezone: str, source: str
):
    if person == "missing_year":
        plays = history_with_a_missing_year(person=person)
    else:
        plays = sessionize(stable_history(4, days=70, person=person))
    html = listener_page(plays, person, timezone, source)
    page = browser.new_page(viewport={"width": WIDTH, "height": 900})
    page.set_content(html, wait_until="load")
    shot = tmp_path / f"dashboard_{person}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    print(f"\n{person}: {shot}")

    pieces = page.evaluate(TEXT_BOXES)
    assert len(pieces) > 200  # every label, tick, legend entry, table cell and sentence
    text = page.evaluate("document.body.innerText") + " " + " ".join(p["text"] for p in pieces)
    assert f"all times in {timezone}" in text
    if person == "missing_year":
        assert re.search(r"No plays from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(5\d weeks\)", text)
        assert "no plays" in [p["text"] for p in pieces]  # the gap's label on the weekly chart
    identifiers = sorted(set(SNAKE_CASE.findall(text)))
    assert not identifiers, identifiers

    clashes = [
        (a["text"], b["text"])
        for i, a in enumerate(pieces)
        for b in pieces[i + 1 :]
        if any(overlap(x, y) for x in a["boxes"] for y in b["boxes"])
    ]
    assert not clashes, clashes[:10]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow} px"
    page.close()
    assert "<script" not in html  # the page itself has none (Playwright only reads it)
