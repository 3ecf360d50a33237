"""Tiny dependency-free SVG charts for the listening dashboard.

Every function returns one self-contained SVG string: no scripts, no external fonts (generic
`sans-serif` only), all text passed through `html.escape`, coordinates printed with one decimal so
the same input always gives the same bytes. Empty input gives a small "no data" SVG instead of an
error, so a dashboard with a missing section still renders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 720, 360
MARGIN = {"left": 64, "right": 24, "top": 40, "bottom": 52}
# Tableau 10: distinguishable, colour-blind friendlier than a rainbow; cycled past 10 clusters.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'  # namespace name, never fetched


def color(i: int) -> str:
    """Colour of series/cluster `i` (the same everywhere, so legends agree across charts)."""
    return PALETTE[i % len(PALETTE)]


def _f(v: float) -> str:
    return f"{v:.1f}"


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _open(title: str, width: int = WIDTH, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg {SVG_NS} width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_t(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{_t(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{_t(title)}</text>',
    ]


def empty(title: str, width: int = WIDTH, height: int = 160) -> str:
    """The SVG shown when a chart has nothing to plot."""
    parts = _open(title, width, height)
    parts.append(
        f'<text x="{width / 2:.1f}" y="{height / 2 + 10:.1f}" text-anchor="middle" '
        f'fill="#777777" font-size="13">no data</text>'
    )
    return "".join(parts) + "</svg>"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1-2-5 steps), so axes read naturally."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, v = [], start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt_tick(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}".rstrip("0")


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (float(v) - lo) / span * (b - a)


def _plot_box(width: int = WIDTH, height: int = HEIGHT) -> tuple[float, float, float, float]:
    """(x0, x1, y0 top, y1 bottom) of the plotting area."""
    return (
        MARGIN["left"],
        width - MARGIN["right"],
        MARGIN["top"],
        height - MARGIN["bottom"],
    )


def _y_axis(parts: list[str], ticks: Sequence[float], sy, x0: float, x1: float, label: str):
    for v in ticks:
        y = sy(v)
        parts.append(
            f'<line x1="{_f(x0)}" x2="{_f(x1)}" y1="{_f(y)}" y2="{_f(y)}" stroke="#e5e5e5"/>'
            f'<text x="{_f(x0 - 6)}" y="{_f(y + 4)}" text-anchor="end">{_fmt_tick(v)}</text>'
        )
    if label:
        cy = (sy(ticks[0]) + sy(ticks[-1])) / 2
        parts.append(
            f'<text x="14" y="{_f(cy)}" text-anchor="middle" '
            f'transform="rotate(-90 14 {_f(cy)})">{_t(label)}</text>'
        )


def _legend(parts: list[str], labels: Sequence[str], x: float, y: float, colors=None) -> None:
    for i, label in enumerate(labels):
        c = colors[i] if colors else color(i)
        yy = y + i * 16
        parts.append(
            f'<rect x="{_f(x)}" y="{_f(yy - 9)}" width="10" height="10" fill="{c}"/>'
            f'<text x="{_f(x + 14)}" y="{_f(yy)}">{_t(label)}</text>'
        )


def heatmap(
    matrix: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
) -> str:
    """A rows × columns grid (e.g. 7 weekdays × 24 hours), darker = more; hover shows values."""
    values = _finite([v for row in matrix for v in row])
    if not matrix or not values or not any(values):
        return empty(title)
    n_rows, n_cols = len(matrix), max(len(r) for r in matrix)
    x0, x1, y0, y1 = _plot_box()
    x0 = 56.0
    cw, ch = (x1 - x0) / n_cols, (y1 - y0) / n_rows
    top = max(values) or 1.0
    parts = _open(title)
    for r, row in enumerate(matrix):
        for c, v in enumerate(row):
            share = 0.0 if v is None or not math.isfinite(v) else max(float(v), 0.0) / top
            # white -> #08519c, interpolated in RGB: monotone in lightness, prints in grey.
            rgb = [round(255 + (t - 255) * share) for t in (8, 81, 156)]
            label = f"{row_labels[r] if r < len(row_labels) else r} "
            label += f"{col_labels[c] if c < len(col_labels) else c}: {_fmt_tick(v or 0)}"
            parts.append(
                f'<rect x="{_f(x0 + c * cw)}" y="{_f(y0 + r * ch)}" width="{_f(cw - 1)}" '
                f'height="{_f(ch - 1)}" fill="#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}">'
                f"<title>{_t(label)}</title></rect>"
            )
    for r, label in enumerate(row_labels[:n_rows]):
        parts.append(
            f'<text x="{_f(x0 - 6)}" y="{_f(y0 + (r + 0.5) * ch + 4)}" '
            f'text-anchor="end">{_t(label)}</text>'
        )
    step = max(1, math.ceil(n_cols / 12))
    for c, label in enumerate(col_labels[:n_cols]):
        if c % step == 0:
            parts.append(
                f'<text x="{_f(x0 + (c + 0.5) * cw)}" y="{_f(y1 + 16)}" '
                f'text-anchor="middle">{_t(label)}</text>'
            )
    parts.append(
        f'<text x="{_f(x1)}" y="{_f(y1 + 36)}" text-anchor="end" fill="#555555">'
        f"darkest = {_fmt_tick(top)}</text>"
    )
    return "".join(parts) + "</svg>"


def scatter(
    x: Sequence[float],
    y: Sequence[float],
    groups: Sequence[int],
    labels: Sequence[str],
    x_label: str,
    y_label: str,
    title: str,
    centers: Sequence[tuple[float, float]] | None = None,
) -> str:
    """Points coloured by group (`labels[g]` in the legend); optional group centres as crosses."""
    pts = [
        (float(a), float(b), int(g))
        for a, b, g in zip(x, y, groups, strict=False)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]
    if not pts:
        return empty(title)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xt, yt = nice_ticks(min(xs), max(xs)), nice_ticks(min(ys), max(ys))
    legend_w = 230
    x0, x1, y0, y1 = _plot_box()
    x1 -= legend_w
    sx, sy = _scale(xt[0], xt[-1], x0, x1), _scale(yt[0], yt[-1], y1, y0)
    parts = _open(title)
    _y_axis(parts, yt, sy, x0, x1, y_label)
    for v in xt:
        parts.append(
            f'<line x1="{_f(sx(v))}" x2="{_f(sx(v))}" y1="{_f(y0)}" y2="{_f(y1)}" '
            f'stroke="#e5e5e5"/><text x="{_f(sx(v))}" y="{_f(y1 + 16)}" '
            f'text-anchor="middle">{_fmt_tick(v)}</text>'
        )
    parts.append(
        f'<text x="{_f((x0 + x1) / 2)}" y="{_f(y1 + 36)}" text-anchor="middle">{_t(x_label)}</text>'
    )
    for a, b, g in pts:
        parts.append(
            f'<circle cx="{_f(sx(a))}" cy="{_f(sy(b))}" r="2.5" fill="{color(g)}" '
            f'fill-opacity="0.6"/>'
        )
    for g, (a, b) in enumerate(centers or ()):
        cx, cy = sx(a), sy(b)
        parts.append(
            f'<path d="M{_f(cx - 6)} {_f(cy - 6)}L{_f(cx + 6)} {_f(cy + 6)}'
            f'M{_f(cx - 6)} {_f(cy + 6)}L{_f(cx + 6)} {_f(cy - 6)}" stroke="#222222" '
            f'stroke-width="3"/><path d="M{_f(cx - 5)} {_f(cy - 5)}L{_f(cx + 5)} {_f(cy + 5)}'
            f'M{_f(cx - 5)} {_f(cy + 5)}L{_f(cx + 5)} {_f(cy - 5)}" stroke="{color(g)}" '
            f'stroke-width="1.5"/>'
        )
    _legend(parts, labels, x1 + 16, y0 + 10)
    if centers:
        parts.append(
            f'<text x="{_f(x1 + 16)}" y="{_f(y0 + 10 + len(labels) * 16 + 6)}" '
            f'fill="#555555">× = cluster centre</text>'
        )
    return "".join(parts) + "</svg>"


def stacked_area(dates: Sequence[str], shares: Mapping[str, Sequence[float]], title: str) -> str:
    """Shares per date stacked bottom-up in `shares` order (e.g. mood share per week)."""
    series = [(k, [float(v or 0.0) for v in vals]) for k, vals in shares.items()]
    if not dates or not series or not any(any(v) for _, v in series):
        return empty(title)
    n = len(dates)
    legend_w = 230
    x0, x1, y0, y1 = _plot_box()
    x1 -= legend_w
    xs = [x0, x1] if n == 1 else [x0 + i * (x1 - x0) / (n - 1) for i in range(n)]
    idx = [0, 0] if n == 1 else list(range(n))
    sy = _scale(0.0, 1.0, y1, y0)
    parts = _open(title)
    _y_axis(parts, [0.0, 0.25, 0.5, 0.75, 1.0], sy, x0, x1, "share of plays")
    base = [0.0] * n
    for s, (label, vals) in enumerate(series):
        top = [base[i] + (vals[i] if i < len(vals) else 0.0) for i in range(n)]
        upper = " ".join(f"{_f(xs[j])},{_f(sy(top[i]))}" for j, i in enumerate(idx))
        lower = " ".join(
            f"{_f(xs[j])},{_f(sy(base[i]))}" for j, i in reversed(list(enumerate(idx)))
        )
        parts.append(
            f'<polygon points="{upper} {lower}" fill="{color(s)}" fill-opacity="0.85" '
            f'stroke="#ffffff" stroke-width="0.5"><title>{_t(label)}</title></polygon>'
        )
        base = top
    step = max(1, math.ceil(n / 8))
    for i in range(0, n, step):
        x = xs[0] if n == 1 else xs[i]
        anchor = "start" if n == 1 else "middle"
        parts.append(
            f'<text x="{_f(x)}" y="{_f(y1 + 16)}" text-anchor="{anchor}">{_t(dates[i])}</text>'
        )
    _legend(parts, [k for k, _ in series], x1 + 16, y0 + 10)
    return "".join(parts) + "</svg>"


def line(xs: Sequence[str], ys: Sequence[float], title: str, y_label: str) -> str:
    """One series over categorical x (e.g. the coming 24 hours), with hoverable points."""
    pts = [(str(a), float(b)) for a, b in zip(xs, ys, strict=False) if b is not None]
    pts = [(a, b) for a, b in pts if math.isfinite(b)]
    if not pts:
        return empty(title)
    n = len(pts)
    x0, x1, y0, y1 = _plot_box()
    yt = nice_ticks(0.0, max(max(b for _, b in pts), 1e-9))
    sy = _scale(yt[0], yt[-1], y1, y0)
    px = [(x0 + x1) / 2] if n == 1 else [x0 + i * (x1 - x0) / (n - 1) for i in range(n)]
    parts = _open(title)
    _y_axis(parts, yt, sy, x0, x1, y_label)
    path = "".join(
        f"{'M' if i == 0 else 'L'}{_f(px[i])} {_f(sy(b))}" for i, (_, b) in enumerate(pts)
    )
    parts.append(f'<path d="{path}" fill="none" stroke="{color(0)}" stroke-width="2"/>')
    step = max(1, math.ceil(n / 12))
    for i, (a, b) in enumerate(pts):
        parts.append(
            f'<circle cx="{_f(px[i])}" cy="{_f(sy(b))}" r="3" fill="{color(0)}">'
            f"<title>{_t(a)}: {b:.3f}</title></circle>"
        )
        if i % step == 0:
            parts.append(
                f'<text x="{_f(px[i])}" y="{_f(y1 + 16)}" text-anchor="middle">{_t(a)}</text>'
            )
    return "".join(parts) + "</svg>"


def bars_with_errors(
    names: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    title: str,
    groups: Sequence[int] | None = None,
    group_labels: Sequence[str] | None = None,
) -> str:
    """Horizontal bars with CI whiskers (a missing low/high draws no whisker).

    Bars share one axis, so put metrics of one scale together; `groups` colours bars (e.g. model
    vs baseline) with `group_labels` as the legend.
    """
    rows = [
        (str(n), float(v), lo, hi)
        for n, v, lo, hi in zip(names, values, lows, highs, strict=False)
        if v is not None and math.isfinite(float(v))
    ]
    if not rows:
        return empty(title)
    bounds = _finite([w for _, val, lo, hi in rows for w in (val, lo, hi)])
    xt = nice_ticks(min(0.0, *bounds), max(0.0, *bounds))
    height = max(HEIGHT, MARGIN["top"] + MARGIN["bottom"] + 26 * len(rows) + 20)
    x0, x1, y0, y1 = _plot_box(height=height)
    x0 = 170.0
    x1 -= 150 if group_labels else 40
    sx = _scale(xt[0], xt[-1], x0, x1)
    bh = (y1 - y0) / len(rows)
    parts = _open(title, height=height)
    for v in xt:
        parts.append(
            f'<line x1="{_f(sx(v))}" x2="{_f(sx(v))}" y1="{_f(y0)}" y2="{_f(y1)}" '
            f'stroke="#e5e5e5"/><text x="{_f(sx(v))}" y="{_f(y1 + 16)}" '
            f'text-anchor="middle">{_fmt_tick(v)}</text>'
        )
    for i, (name, v, lo, hi) in enumerate(rows):
        g = groups[i] if groups is not None and i < len(groups) else 0
        top, mid = y0 + i * bh + bh * 0.15, y0 + (i + 0.5) * bh
        left, right = sorted((sx(0.0), sx(v)))
        ci = "" if lo is None or hi is None else f" [{float(lo):.3f}, {float(hi):.3f}]"
        parts.append(
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(max(right - left, 1.0))}" '
            f'height="{_f(bh * 0.7)}" fill="{color(g)}"><title>{_t(name)}: {v:.3f}{_t(ci)}'
            f'</title></rect><text x="{_f(x0 - 6)}" y="{_f(mid + 4)}" text-anchor="end">'
            f"{_t(name)}</text>"
        )
        end = sx(v)
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            a, b = sx(float(lo)), sx(float(hi))
            end = max(end, a, b)
            parts.append(
                f'<path d="M{_f(a)} {_f(mid)}L{_f(b)} {_f(mid)}M{_f(a)} {_f(mid - 5)}'
                f'L{_f(a)} {_f(mid + 5)}M{_f(b)} {_f(mid - 5)}L{_f(b)} {_f(mid + 5)}" '
                f'stroke="#222222" stroke-width="1.5"/>'
            )
        parts.append(f'<text x="{_f(end + 6)}" y="{_f(mid + 4)}">{v:.3f}</text>')
    if group_labels:
        _legend(parts, group_labels, x1 + 50, y0 + 10)
    return "".join(parts) + "</svg>"
