"""Headless Debian Chromium for the dashboard tests (no Playwright, no browser download)."""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

SCREENSHOTS = Path(
    os.environ.get("SPOTIFY_ASSETS_SCREENSHOTS", Path(tempfile.gettempdir()) / "spotify_assets_ui")
)


def chromium_or_skip() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium); HTML checked")
    return chromium


def run(chromium: str, profile: Path, *args: str, width: int = 1600, height: int = 2400):
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--window-size={width},{height}",
        "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
    ]  # fmt: skip
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


def console_errors(*stderrs: str) -> list[str]:
    return [
        line
        for stderr in stderrs
        for line in stderr.splitlines()
        if re.search(r"CONSOLE|Uncaught", line)
    ]


# Measures every SVG text box on the page after layout and writes them as JSON into <pre id=out>.
# Rectangles are client rectangles [left, top, right, bottom], so a scaled SVG compares fairly.
MEASURE = r"""
<pre id="out"></pre>
<script>
(function () {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return [r.left, r.top, r.right, r.bottom]; };
  const lines = (t) => { const spans = t.querySelectorAll('tspan');
    return spans.length ? Array.from(spans, (s) => s.textContent).join(' ') : t.textContent; };
  const out = {figures: {}, badge: null};
  document.querySelectorAll('figure[data-plot]').forEach((fig) => {
    const svg = fig.querySelector('svg');
    const vb = svg.viewBox.baseVal;
    out.figures[fig.dataset.plot] = {
      svg: box(svg),
      viewbox: [vb.x, vb.y, vb.width, vb.height],
      texts: Array.from(svg.querySelectorAll('text'), (t) => ({text: lines(t), box: box(t)})),
      x_ticks: Array.from(svg.querySelectorAll('text.x-tick'),
                          (t) => ({text: t.textContent, box: box(t)})),
      legend: Array.from(svg.querySelectorAll('g.legend-item'), (g) => ({
        text: lines(g.querySelector('text')), box: box(g),
        text_box: box(g.querySelector('text')), fill: g.querySelector('rect').getAttribute('fill'),
      })),
      reasons: Array.from(svg.querySelectorAll('text.empty-reason'), (t) => lines(t)),
    };
  });
  const badge = document.querySelector('.drift-badge');
  if (badge) out.badge = {text: badge.textContent,
                          background: getComputedStyle(badge).backgroundColor};
  out.body_text = document.body.innerText;
  document.getElementById('out').textContent = JSON.stringify(out);
})();
</script>
"""


def measure(chromium: str, html: str, tmp_path: Path) -> dict:
    """Render `html` plus the MEASURE script (a test-only wrapper; the product page has no
    script) and return what it measured."""
    page = tmp_path / "measure.html"
    page.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    result = run(
        chromium, tmp_path / "profile-measure", "--virtual-time-budget=5000", "--dump-dom",
        page.as_uri(),
    )  # fmt: skip
    found = re.search(r'<pre id="out">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1), result.stderr[-3000:]
    errors = console_errors(result.stderr)
    assert not errors, "\n".join(errors)
    return json.loads(html_lib.unescape(found.group(1)))


def overlaps(a: list[float], b: list[float], tol: float = 0.5) -> bool:
    """Do two [left, top, right, bottom] boxes overlap by more than `tol` px both ways?"""
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def inside(inner: list[float], outer: list[float], tol: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - tol
        and inner[1] >= outer[1] - tol
        and inner[2] <= outer[2] + tol
        and inner[3] <= outer[3] + tol
    )
