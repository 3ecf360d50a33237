"""Model results written by hand for dashboard tests: a table of test-week scores per model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spotify_assets.lib.bootstrap import Interval
from spotify_assets.lib.listening.results import Evaluation, ModelResult

TITLES = {"mood": "Next mood", "session": "Session start per hour"}


def result(
    name: str, table: Mapping[str, Mapping[str, Any]], *, serves: str = "model", reason: str = ""
) -> ModelResult:
    """`table`: metric → system → a value or {value, lo, hi} (as a document keeps it)."""
    scores = {
        metric: {system: Interval.from_dict(v) for system, v in systems.items()}
        for metric, systems in table.items()
    }
    shown = tuple(table)
    return ModelResult(
        name, TITLES.get(name, name), shown[0], shown, Evaluation(scores, {}, 30, 500),
        serves=serves, reason=reason,
    )  # fmt: skip


def results(
    metrics: Mapping[str, Mapping[str, Any]], **mood: str
) -> list[ModelResult]:
    """One result per model named in `metrics`; `mood` (serves, reason) for the next mood."""
    return [
        result(name, table, **(mood if name == "mood" else {})) for name, table in metrics.items()
    ]
