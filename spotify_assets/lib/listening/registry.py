"""The listening models every retrain fits, in the order they are reported: one place.

A new model is one entry in `MODELS`: a name, what its asset check asserts, and a function
that fits it and returns a `ModelResult` (`results.py`). The retrain's summary and
`model_runs` rows, its asset check (`<name>_model_beats_baselines`), the metadata tables and
the dashboard panel all follow from that result (README, "Where to change what").

The fit function is named by its import path and imported only when a retrain runs, so that
loading the Dagster definitions (which declare the checks from this list) stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spotify_assets.lib.listening.results import ModelResult, RetrainInputs


@dataclass(frozen=True)
class ListeningModel:
    """A model a retrain fits. `fit` (a function, or "module:function") trains on the training
    weeks, chooses on the validation weeks, tests on the test weeks and returns the model's
    `ModelResult` named `name`; it raises `RetrainError` when the history cannot support it."""

    name: str
    title: str  # what a person reads ("Next mood"); its result carries the same
    check: str  # what `<name>_model_beats_baselines` asserts, in words
    fit: Callable[[RetrainInputs], ModelResult] | str

    @property
    def check_name(self) -> str:
        return f"{self.name}_model_beats_baselines"

    def train(self, inputs: RetrainInputs) -> ModelResult:
        fit = self.fit
        if isinstance(fit, str):
            module, _, function = fit.partition(":")
            fit = getattr(importlib.import_module(module), function)
        return fit(inputs)


MODELS: tuple[ListeningModel, ...] = (
    ListeningModel(
        "mood",
        "Next mood",
        check="Macro-F1 of the served next-mood predictor above majority, 'same as previous' and "
        "'last known mood' on the test weeks (CI of the difference > 0).",
        fit="spotify_assets.lib.listening.next_mood:fit_next_mood",
    ),
    ListeningModel(
        "session",
        "Session start per hour",
        check="PR-AUC above always-negative and the hour-of-week prior (CI of the difference > 0).",
        fit="spotify_assets.lib.listening.session_start:fit_session_start",
    ),
)
