"""Bar charts small enough to show inline in a Dagster asset's overview.

The UI renders a markdown metadata entry inline only while it is under 1,000 characters (longer
ones hide behind "[Show Markdown]"), so a dashboard plot as a base64 SVG never shows without a
click. These are one SVG path each (24 bars ≈ 300 characters), written into a `data:` URI with
only spaces and `#` escaped, so a caption and the image fit well under that limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MARKDOWN_INLINE_LIMIT = 1000  # characters; the UI's limit for showing markdown without a click


def bars_svg(
    values: Sequence[float],
    *,
    bar: int = 7,
    gap: int = 1,
    height: int = 32,
    color: str = "seagreen",
) -> str:
    """`values` as bars scaled to the largest (non-finite and negative values draw nothing)."""
    clean = [v if v is not None and math.isfinite(v) and v > 0 else 0.0 for v in values]
    top = max(clean, default=0.0) or 1.0
    path = [f"M0 {height}"]
    for v in clean:
        h = round(height * v / top)
        path.append(f"v-{h}h{bar}v{h}h{gap}" if h else f"h{bar + gap}")
    width = len(clean) * (bar + gap)
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'>"
        f"<path d='{''.join(path)}' fill='{color}'/></svg>"
    )


def data_uri(svg: str) -> str:
    """An SVG as a `data:` URI usable as a markdown image destination (no spaces, no `#`)."""
    return "data:image/svg+xml," + svg.replace("%", "%25").replace(" ", "%20").replace("#", "%23")


def bars_markdown(caption: str, values: Sequence[float], **style) -> str:
    """ "caption" above a small bar chart of `values`, as markdown."""
    return f"{caption}\n\n![bar chart]({data_uri(bars_svg(values, **style))})"
