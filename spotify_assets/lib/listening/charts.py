"""Tiny dependency-free SVG charts for the listening dashboard.

Every function returns one self-contained SVG string: no scripts, no external fonts (generic
`sans-serif` only), all text passed through `html.escape`, coordinates printed with one decimal so
the same input always gives the same bytes. Empty input gives a small SVG that says why there is
nothing to plot (the `reason`), so a dashboard with a missing section still renders.

Text is laid out with `text_width`, a deliberately generous estimate of rendered width (wider
than Arial/Liberation and about DejaVu Sans), so axis labels are thinned until they cannot touch,
legends sit below the plot in as many rows as they need (long labels wrap), and the SVG grows
to hold them instead of cutting them off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from html import escape

WIDTH, HEIGHT = 720, 360
MARGIN = {"left": 64, "right": 24, "top": 40, "bottom": 52}
FONT_SIZE = 11
LINE_HEIGHT = 14  # legend and wrapped-text line pitch at FONT_SIZE
# Tableau 10, then six colours picked to stay far (CIE L*a*b*) from those and from each other:
# distinct for up to 16 clusters (mood K is at most 15). Past that, colours repeat.
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#553399", "#aa0066", "#005544", "#ff99ff", "#555500", "#8899ff",
)  # fmt: skip
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'  # namespace name, never fetched
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def color(i: int) -> str:
    """Colour of series/cluster `i`: the single source, so legends agree across charts."""
    return PALETTE[i % len(PALETTE)]


def _f(v: float) -> str:
    return f"{v:.1f}"


def _t(text: object) -> str:
    return escape(str(text), quote=True)


# --- text measurement -----------------------------------------------------------------------

# Advance widths in em of DejaVu Sans (Debian's default sans-serif), which is at least as wide
# as Arial/Liberation Sans for nearly every character; `text_width` adds a little on top.
_EM = {
    **dict.fromkeys("il'", 0.28), **dict.fromkeys(" ,.·", 0.32), **dict.fromkeys("fIJ", 0.36),
    **dict.fromkeys(":;/|!", 0.4), "t": 0.4, "r": 0.42, **dict.fromkeys("-()[]{}", 0.4),
    **dict.fromkeys("\"_–?", 0.53), **dict.fromkeys("sz", 0.53), "c": 0.55, "k": 0.58,
    **dict.fromkeys("vxy", 0.6), **dict.fromkeys("abdeghnopqu0123456789", 0.64),
    **dict.fromkeys("FLTY", 0.62), **dict.fromkeys("ESP", 0.64),
    **dict.fromkeys("ABKRVXZ", 0.7), **dict.fromkeys("CDHNU", 0.77), **dict.fromkeys("GOQ", 0.79),
    "w": 0.82, "&": 0.78, **dict.fromkeys("#+=<>×~^*$", 0.84), "M": 0.87, "m": 0.98,
    **dict.fromkeys("%W@", 1.0),
}  # fmt: skip
_SAFETY = 1.04


def _char_em(ch: str) -> float:
    if ch in _EM:
        return _EM[ch]
    if ord(ch) > 0x2E7F:  # CJK and other full-width scripts
        return 1.0
    return 0.7


def text_width(text: object, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Generous estimate of the rendered width of `text` in px (never an underestimate for the
    usual sans-serif fonts), used for every layout decision."""
    em = sum(_char_em(ch) for ch in str(text))
    return em * size * _SAFETY * (1.06 if bold else 1.0)


def wrap(text: object, max_px: float, size: float = FONT_SIZE, bold: bool = False) -> list[str]:
    """Greedy word wrap to lines of at most `max_px`; a word longer than a line is split."""
    words, lines, current = str(text).split(), [], ""
    for word in words:
        while text_width(word, size, bold) > max_px and len(word) > 1:
            # Split an overlong word at the longest prefix that fits (at least one character).
            cut = max(
                (i for i in range(1, len(word)) if text_width(word[:i], size, bold) <= max_px),
                default=1,
            )
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size, bold) > max_px:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current or not lines:
        lines.append(current)
    return lines


def _lines(x: float, y: float, lines: Sequence[str], attrs: str = "", pitch: float = 0.0) -> str:
    """One <text> element, a <tspan> per line below the first (at `pitch` px)."""
    pitch = pitch or LINE_HEIGHT
    if len(lines) == 1:
        return f'<text x="{_f(x)}" y="{_f(y)}"{attrs}>{_t(lines[0])}</text>'
    spans = "".join(
        f'<tspan x="{_f(x)}" dy="{0 if i == 0 else _f(pitch)}">{_t(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text x="{_f(x)}" y="{_f(y)}"{attrs}>{spans}</text>'


# --- frame ----------------------------------------------------------------------------------


def _open(title: str, width: int = WIDTH, height: float = HEIGHT) -> list[str]:
    h = math.ceil(height)
    return [
        f'<svg {SVG_NS} width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
        f'role="img" aria-label="{_t(title)}" font-family="sans-serif" font-size="{FONT_SIZE}">',
        f"<title>{_t(title)}</title>",
        f'<rect width="{width}" height="{h}" fill="#ffffff"/>',
        f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="14" '
        f'font-weight="bold">{_t(title)}</text>',
    ]


def empty(title: str, reason: str = "no data", width: int = WIDTH, height: int = 160) -> str:
    """The SVG shown when a chart has nothing to plot: the title and why (wrapped to fit)."""
    lines = wrap(reason or "no data", width - 60, 13)
    pitch = 18
    height = max(height, 70 + pitch * len(lines) + 30)
    y = (height - pitch * (len(lines) - 1)) / 2 + 10
    parts = _open(title, width, height)
    parts.append(
        _lines(
            width / 2, y, lines, ' class="empty-reason" text-anchor="middle" fill="#666666" '
            'font-size="13"', pitch,
        )
    )  # fmt: skip
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


def _x_labels(
    parts: list[str], items: Sequence[tuple[float, str]], y: float, width: int, gap: float = 10
) -> None:
    """Centred x-axis labels, dropping any that would touch the previous one or leave the SVG."""
    right = -math.inf
    for x, label in items:
        half = text_width(label) / 2
        if x - half < 1 or x + half > width - 1 or x - half < right + gap:
            continue
        parts.append(
            f'<text class="x-tick" x="{_f(x)}" y="{_f(y)}" text-anchor="middle">{_t(label)}</text>'
        )
        right = x + half


def _legend_below(
    labels: Sequence[str], colors: Sequence[str], x0: float, x1: float, top: float
) -> tuple[list[str], float]:
    """Legend entries in equal columns between x0 and x1, from `top` down, reading down each
    column; labels too long for a column wrap. Returns the parts and the height used."""
    if not labels:
        return [], 0.0
    swatch, col_gap = 14.0, 18.0  # swatch box plus its gap to the text; space between columns
    avail = x1 - x0
    widest = max(text_width(label) for label in labels) + swatch
    n_cols = max(1, min(len(labels), int((avail + col_gap) // (widest + col_gap))))
    col_w = (avail + col_gap) / n_cols
    text_max = col_w - col_gap - swatch
    wrapped = [wrap(label, text_max) for label in labels]
    n_rows = math.ceil(len(labels) / n_cols)
    row_h = [
        max(len(wrapped[c * n_rows + r]) for c in range(n_cols) if c * n_rows + r < len(labels))
        * LINE_HEIGHT
        + 4
        for r in range(n_rows)
    ]
    row_top = [top + sum(row_h[:r]) for r in range(n_rows)]
    parts = []
    for i, lines in enumerate(wrapped):
        c, r = divmod(i, n_rows)
        x, y = x0 + c * col_w, row_top[r] + 11  # baseline of the first line
        text = _lines(x + swatch, y, lines, ' class="legend-text"')
        parts.append(
            f'<g class="legend-item"><rect x="{_f(x)}" y="{_f(y - 9)}" width="10" height="10" '
            f'fill="{colors[i]}"/>{text}</g>'
        )
    return parts, float(sum(row_h))


# --- time axis ------------------------------------------------------------------------------

_EPOCH_MONDAY = date(1970, 1, 5)


def _week_ticks(start: date, end: date, step: int) -> list[tuple[date, str]]:
    first = start + timedelta(days=(7 - (start - _EPOCH_MONDAY).days % 7) % 7)
    out = []
    d = first
    while d <= end:
        if ((d - _EPOCH_MONDAY).days // 7) % step == 0:
            out.append((d, d.isoformat()))
        d += timedelta(days=7)
    return out


def _month_ticks(start: date, end: date, step: int) -> list[tuple[date, str]]:
    out = []
    y, m = start.year, start.month
    while date(y, m, 1) <= end:
        d = date(y, m, 1)
        if d >= start and (m - 1) % step == 0:
            out.append((d, f"{_MONTHS[m - 1]} {y}"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _year_ticks(start: date, end: date, step: int) -> list[tuple[date, str]]:
    return [
        (date(y, 1, 1), str(y))
        for y in range(start.year, end.year + 1)
        if y % step == 0 and start <= date(y, 1, 1) <= end
    ]


_TIME_STEPS = (
    (_week_ticks, 1), (_week_ticks, 2), (_week_ticks, 4),
    (_month_ticks, 1), (_month_ticks, 2), (_month_ticks, 3), (_month_ticks, 6),
    (_year_ticks, 1), (_year_ticks, 2), (_year_ticks, 5), (_year_ticks, 10), (_year_ticks, 50),
)  # fmt: skip


def time_ticks(start: date, end: date, span_px: float, gap: float = 16) -> list[tuple[date, str]]:
    """The finest calendar ticks (weeks, months, quarters, half-years, years) whose labels fit
    side by side on an axis of `span_px` for [start, end]: labels "YYYY-MM-DD" for weeks,
    "Mon YYYY" for months, "YYYY" for years."""
    days = max((end - start).days, 1)
    for make, step in _TIME_STEPS:
        ticks = make(start, end, step)
        if not ticks:
            continue
        xs = [(d - start).days / days * span_px for d, _ in ticks]
        widths = [text_width(label) for _, label in ticks]
        if all(
            xs[i + 1] - xs[i] >= (widths[i] + widths[i + 1]) / 2 + gap
            for i in range(len(ticks) - 1)
        ):
            return ticks
    return [(start, start.isoformat())]


def _dates(labels: Sequence[str]) -> list[date] | None:
    try:
        return [date.fromisoformat(str(s)[:10]) for s in labels]
    except ValueError:
        return None


# --- charts ---------------------------------------------------------------------------------


def heatmap(
    matrix: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    reason: str = "no data",
) -> str:
    """A rows × columns grid (e.g. 7 weekdays × 24 hours), darker = more; hover shows values."""
    values = _finite([v for row in matrix for v in row])
    if not matrix or not values or not any(values):
        return empty(title, reason)
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
    labels = [str(label) for label in col_labels[:n_cols]]
    widest = max((text_width(label) for label in labels), default=0.0)
    step = max(1, math.ceil((widest + 10) / cw))
    _x_labels(
        parts,
        [(x0 + (c + 0.5) * cw, label) for c, label in enumerate(labels) if c % step == 0],
        y1 + 16,
        WIDTH,
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
    reason: str = "no data",
) -> str:
    """Points coloured by group (`labels[g]` in the legend below); optional centres as crosses."""
    pts = [
        (float(a), float(b), int(g))
        for a, b, g in zip(x, y, groups, strict=False)
        if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)
    ]
    if not pts:
        return empty(title, reason)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    xt, yt = nice_ticks(min(xs), max(xs)), nice_ticks(min(ys), max(ys))
    x0, x1, y0, y1 = _plot_box()
    sx, sy = _scale(xt[0], xt[-1], x0, x1), _scale(yt[0], yt[-1], y1, y0)
    body: list[str] = []
    _y_axis(body, yt, sy, x0, x1, y_label)
    for v in xt:
        body.append(
            f'<line x1="{_f(sx(v))}" x2="{_f(sx(v))}" y1="{_f(y0)}" y2="{_f(y1)}" '
            f'stroke="#e5e5e5"/>'
        )
    _x_labels(body, [(sx(v), _fmt_tick(v)) for v in xt], y1 + 16, WIDTH)
    body.append(
        f'<text x="{_f((x0 + x1) / 2)}" y="{_f(y1 + 34)}" text-anchor="middle">{_t(x_label)}</text>'
    )
    for a, b, g in pts:
        body.append(
            f'<circle cx="{_f(sx(a))}" cy="{_f(sy(b))}" r="2.5" fill="{color(g)}" '
            f'fill-opacity="0.6"/>'
        )
    for g, (a, b) in enumerate(centers or ()):
        if a is None or b is None:
            continue
        cx, cy = sx(a), sy(b)
        body.append(
            f'<path d="M{_f(cx - 6)} {_f(cy - 6)}L{_f(cx + 6)} {_f(cy + 6)}'
            f'M{_f(cx - 6)} {_f(cy + 6)}L{_f(cx + 6)} {_f(cy - 6)}" stroke="#222222" '
            f'stroke-width="3"/><path d="M{_f(cx - 5)} {_f(cy - 5)}L{_f(cx + 5)} {_f(cy + 5)}'
            f'M{_f(cx - 5)} {_f(cy + 5)}L{_f(cx + 5)} {_f(cy - 5)}" stroke="{color(g)}" '
            f'stroke-width="1.5"/>'
        )
    top = y1 + 48
    legend, used = _legend_below(labels, [color(i) for i in range(len(labels))], x0, x1, top)
    body += legend
    bottom = top + used
    if centers:
        body.append(
            f'<text x="{_f(x0)}" y="{_f(bottom + 12)}" fill="#555555">× = cluster centre</text>'
        )
        bottom += 16
    return "".join(_open(title, height=bottom + 10) + body) + "</svg>"


def stacked_area(
    dates: Sequence[str],
    shares: Mapping[str, Sequence[float]],
    title: str,
    reason: str = "no data",
    y_label: str = "share of plays",
    gaps: Sequence[tuple[str, str]] = (),
) -> str:
    """Shares per date stacked bottom-up in `shares` order (series i in `color(i)`), e.g. mood
    share per week. ISO dates are placed on a time scale with calendar ticks thinned to fit;
    the area is drawn over runs of consecutive weeks only, so a week without data is a hole,
    never an area interpolated across it, and each of `gaps` ((from, to) ISO dates: a stretch
    missing from the history) is shaded and labelled. Other labels are spaced evenly."""
    series = [(k, [float(v or 0.0) for v in vals]) for k, vals in shares.items()]
    if not dates or not series or not any(any(v) for _, v in series):
        return empty(title, reason)
    n = len(dates)
    x0, _, y0, y1 = _plot_box()
    x1 = WIDTH - 44.0  # room for a centred last tick label
    parsed = _dates(dates)
    runs = [list(range(n))]
    bands: list[tuple[float, float]] = []
    if parsed is not None and n > 1 and parsed[-1] > parsed[0]:
        days = (parsed[-1] - parsed[0]).days

        def at(d: date) -> float:
            return x0 + (d - parsed[0]).days / days * (x1 - x0)

        xs = [at(d) for d in parsed]
        ticks = [(at(d), label) for d, label in time_ticks(parsed[0], parsed[-1], x1 - x0)]
        runs = _runs(parsed)
        week = 7 / days * (x1 - x0)
        for lo, hi in _pairs(gaps):
            left, right = max(at(lo), x0), min(at(hi), x1)
            if right - left > 1:
                bands.append((left, right))
    elif n == 1:
        xs = [x0, x1]
        ticks = [(x0 + text_width(dates[0]) / 2 + 1, str(dates[0]))]
        runs, week = [[0, 0]], 0.0  # one week: drawn across the whole axis
    else:
        xs = [x0 + i * (x1 - x0) / (n - 1) for i in range(n)]
        widest = max(text_width(d) for d in dates)
        step = max(1, math.ceil((widest + 16) / ((x1 - x0) / (n - 1))))
        ticks = [(xs[i], str(dates[i])) for i in range(0, n, step)]
        week = 0.0
    sy = _scale(0.0, 1.0, y1, y0)
    body: list[str] = []
    _y_axis(body, [0.0, 0.25, 0.5, 0.75, 1.0], sy, x0, x1, y_label)
    for left, right in bands:
        body.append(
            f'<rect class="gap" x="{_f(left)}" y="{_f(y0)}" width="{_f(right - left)}" '
            f'height="{_f(y1 - y0)}" fill="#eeeeee"><title>no plays: missing from the history'
            "</title></rect>"
        )
        if right - left > text_width("no plays") + 8:
            body.append(
                f'<text class="gap-label" x="{_f((left + right) / 2)}" y="{_f((y0 + y1) / 2)}" '
                'text-anchor="middle" fill="#666666">no plays</text>'
            )
    segments = [  # (x of each point, its week): a lone week is a band a week wide
        (xs if n == 1 else [xs[i] for i in run], run)
        if len(run) > 1
        else (_widen(xs[run[0]], week, x0, x1), [run[0], run[0]])
        for run in runs
    ]
    base = [0.0] * n
    for s, (label, vals) in enumerate(series):
        top = [base[i] + (vals[i] if i < len(vals) else 0.0) for i in range(n)]
        for px, rows in segments:
            points = list(zip(px, rows, strict=True))
            upper = " ".join(f"{_f(x)},{_f(sy(top[i]))}" for x, i in points)
            lower = " ".join(f"{_f(x)},{_f(sy(base[i]))}" for x, i in reversed(points))
            body.append(
                f'<polygon points="{upper} {lower}" fill="{color(s)}" fill-opacity="0.85" '
                f'stroke="#ffffff" stroke-width="0.5"><title>{_t(label)}</title></polygon>'
            )
        base = top
    for x, _ in ticks:
        body.append(
            f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y1)}" y2="{_f(y1 + 4)}" stroke="#555555"/>'
        )
    _x_labels(body, ticks, y1 + 16, WIDTH)
    legend, used = _legend_below(
        [k for k, _ in series], [color(i) for i in range(len(series))], x0, WIDTH - 24, y1 + 30
    )
    return "".join(_open(title, height=y1 + 30 + used + 10) + body + legend) + "</svg>"


def _runs(parsed: Sequence[date], step_days: int = 7) -> list[list[int]]:
    """Indices of consecutive dates (at most `step_days` apart), one list per run."""
    runs = [[0]]
    for i in range(1, len(parsed)):
        if (parsed[i] - parsed[i - 1]).days > step_days:
            runs.append([])
        runs[-1].append(i)
    return runs


def _widen(x: float, width: float, lo: float, hi: float) -> list[float]:
    """A lone week drawn as a band one week wide (at least 2 px) around its point."""
    half = max(width, 2.0) / 2
    return [max(lo, x - half), min(hi, x + half)]


def _pairs(gaps: Sequence[tuple[str, str]]) -> list[tuple[date, date]]:
    found = _dates([d for pair in gaps for d in pair]) or []
    return list(zip(found[::2], found[1::2], strict=True))


def line(
    xs: Sequence[str], ys: Sequence[float], title: str, y_label: str, reason: str = "no data"
) -> str:
    """One series over categorical x (e.g. the coming 24 hours), with hoverable points; x labels
    thinned so they never touch."""
    pts = [(str(a), float(b)) for a, b in zip(xs, ys, strict=False) if b is not None]
    pts = [(a, b) for a, b in pts if math.isfinite(b)]
    if not pts:
        return empty(title, reason)
    n = len(pts)
    x0, x1, y0, y1 = _plot_box()
    x1 -= 16  # room for a centred last label
    yt = nice_ticks(0.0, max(max(b for _, b in pts), 1e-9))
    sy = _scale(yt[0], yt[-1], y1, y0)
    px = [(x0 + x1) / 2] if n == 1 else [x0 + i * (x1 - x0) / (n - 1) for i in range(n)]
    parts = _open(title)
    _y_axis(parts, yt, sy, x0, x1, y_label)
    path = "".join(
        f"{'M' if i == 0 else 'L'}{_f(px[i])} {_f(sy(b))}" for i, (_, b) in enumerate(pts)
    )
    parts.append(f'<path d="{path}" fill="none" stroke="{color(0)}" stroke-width="2"/>')
    widest = max(text_width(a) for a, _ in pts)
    step = 1 if n == 1 else max(1, math.ceil((widest + 12) / ((x1 - x0) / (n - 1))))
    for i, (a, b) in enumerate(pts):
        parts.append(
            f'<circle cx="{_f(px[i])}" cy="{_f(sy(b))}" r="3" fill="{color(0)}">'
            f"<title>{_t(a)}: {b:.3f}</title></circle>"
        )
    _x_labels(parts, [(px[i], pts[i][0]) for i in range(0, n, step)], y1 + 16, WIDTH)
    return "".join(parts) + "</svg>"


def bars_with_errors(
    names: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    title: str,
    groups: Sequence[int] | None = None,
    group_labels: Sequence[str] | None = None,
    reason: str = "no data",
) -> str:
    """Horizontal bars with CI whiskers (a missing low/high draws no whisker).

    Bars share one axis, so put metrics of one scale together; `groups` colours bars (e.g. model
    vs baselines) with `group_labels` as the legend below the plot.
    """
    rows = [
        (str(n), float(v), lo, hi, groups[i] if groups is not None and i < len(groups) else 0)
        for i, (n, v, lo, hi) in enumerate(zip(names, values, lows, highs, strict=False))
        if v is not None and math.isfinite(float(v))
    ]
    if not rows:
        return empty(title, reason)
    bounds = _finite([w for _, val, lo, hi, _ in rows for w in (val, lo, hi)])
    xt = nice_ticks(min(0.0, *bounds), max(0.0, *bounds))
    label_w = min(max(text_width(r[0]) for r in rows) + 16, WIDTH * 0.45)
    wrapped = [wrap(r[0], label_w - 12) for r in rows]
    bh = max(26.0, max(len(w) for w in wrapped) * 13 + 8)
    x0, x1, y0 = label_w, WIDTH - 60.0, float(MARGIN["top"])
    y1 = y0 + bh * len(rows)
    sx = _scale(xt[0], xt[-1], x0, x1)
    body: list[str] = []
    for v in xt:
        body.append(
            f'<line x1="{_f(sx(v))}" x2="{_f(sx(v))}" y1="{_f(y0)}" y2="{_f(y1)}" '
            f'stroke="#e5e5e5"/>'
        )
    _x_labels(body, [(sx(v), _fmt_tick(v)) for v in xt], y1 + 16, WIDTH)
    for i, (name, v, lo, hi, g) in enumerate(rows):
        top, mid = y0 + i * bh + bh * 0.15, y0 + (i + 0.5) * bh
        left, right = sorted((sx(0.0), sx(v)))
        ci = "" if lo is None or hi is None else f" [{float(lo):.3f}, {float(hi):.3f}]"
        lines = wrapped[i]
        body.append(
            f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(max(right - left, 1.0))}" '
            f'height="{_f(bh * 0.7)}" fill="{color(g)}"><title>{_t(name)}: {v:.3f}{_t(ci)}'
            f"</title></rect>"
            + _lines(x0 - 6, mid + 4 - 6.5 * (len(lines) - 1), lines, ' text-anchor="end"', 13)
        )
        end = sx(v)
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            a, b = sx(float(lo)), sx(float(hi))
            end = max(end, a, b)
            body.append(
                f'<path d="M{_f(a)} {_f(mid)}L{_f(b)} {_f(mid)}M{_f(a)} {_f(mid - 5)}'
                f'L{_f(a)} {_f(mid + 5)}M{_f(b)} {_f(mid - 5)}L{_f(b)} {_f(mid + 5)}" '
                f'stroke="#222222" stroke-width="1.5"/>'
            )
        body.append(f'<text x="{_f(end + 6)}" y="{_f(mid + 4)}">{v:.3f}</text>')
    bottom = y1 + 26
    if group_labels:
        legend, used = _legend_below(
            group_labels, [color(i) for i in range(len(group_labels))], 24, WIDTH - 24, bottom
        )
        body += legend
        bottom += used
    return "".join(_open(title, height=bottom + 8) + body) + "</svg>"
