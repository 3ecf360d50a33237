"""Say which model is loading, from where, and how long it took.

Loading a model is the one long silent part of a step (a sentence-transformer takes seconds on a
CPU before the first batch): callers pass their progress callback (a Dagster step's log, the
CLI's print) so the wait has a line before it and one after.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def model_source(model: str, source: str = "") -> str:
    """Where a model's files are looked up, in words (nothing is resolved or loaded)."""
    if source.startswith("artifact://"):
        return f"the artifact store ({source.removeprefix('artifact://')})"
    if source.startswith("package:"):
        return f"the package {source.removeprefix('package:')}"
    if source:
        return source
    return f"$SPOTIFY_ASSETS_MODELS/{model.replace('/', '__')} or the Hugging Face cache"


def load_with_progress(
    factory: Callable[[], T], what: str, where: str, progress: Callable[[str], None]
) -> T:
    """`factory()`, with "loading WHAT from WHERE…" before and "loaded WHAT in N s" after (a
    model already loaded in this process reports a load time near 0)."""
    progress(f"loading {what} from {where}…")
    started = time.perf_counter()
    loaded = factory()
    progress(f"loaded {what} in {time.perf_counter() - started:.1f} s")
    return loaded
