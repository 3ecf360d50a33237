"""What a retrain produces, typed: one result per listening model, whatever the model.

A `ModelResult` is one model's test weeks next to its baselines (every metric an `Interval`),
the model minus the best baseline per metric, whether it beats them, and what serves
predictions (the model, or a rule such as "repeat the last mood"). A retrain is a list of them
(`retrain.Retrain`), so the summary, the checks, the metadata and the dashboard read every
model the same way and a new model is one entry in `registry.MODELS`.

Also here, because every model needs them: the retrain's one clustering (`Clustering`) and the
inputs each model is fitted from (`RetrainInputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from spotify_assets.lib.bootstrap import Interval
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.listening.gaps import Gap
from spotify_assets.lib.listening.moods import MoodModel

if TYPE_CHECKING:  # the XGBoost wrapper: not needed to read a result
    from spotify_assets.lib.listening.models import TrainedModel

MODEL = "model"  # the system name of the model itself in every comparison


class RetrainError(InputError):
    """The history cannot support a retrain at all; the message says what is missing."""


@dataclass(frozen=True)
class Difference:
    """The model minus the best baseline on one metric, paired on the same resamples."""

    baseline: str
    interval: Interval
    beats: bool  # the interval lies above 0 over enough test days to count

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, **self.interval.to_dict(), "beats": self.beats}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Difference:
        return cls(str(data["baseline"]), Interval.from_dict(data), bool(data.get("beats")))


@dataclass
class Evaluation:
    """Every system on the test weeks with 95% CIs (day blocks), and model − best baseline."""

    scores: dict[str, dict[str, Interval]]  # metric → system → its value and CI
    differences: dict[str, Difference]  # metric → model − the best baseline on it
    days: int  # distinct test days: the bootstrap's blocks
    n: int  # test rows
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able extras (by part of day…)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scores": {
                metric: {system: iv.to_dict() for system, iv in systems.items()}
                for metric, systems in self.scores.items()
            },
            "differences": {m: d.to_dict() for m, d in self.differences.items()},
            "days": self.days,
            "n": self.n,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(
            {
                metric: {system: Interval.from_dict(v) for system, v in systems.items()}
                for metric, systems in data["scores"].items()
            },
            {m: Difference.from_dict(d) for m, d in data["differences"].items()},
            int(data["days"]),
            int(data["n"]),
            dict(data.get("details") or {}),
        )


@dataclass
class ModelResult:
    """One listening model of a retrain: its evaluation against its baselines (None when it
    could not be evaluated, with the reason), whether it beats them, and what serves."""

    name: str  # identifier: model_runs.model, the check `<name>_model_beats_baselines`, plots
    title: str  # what a person reads: "Next mood"
    decides: str  # the metric whose difference says whether the model beats its baselines
    shown: tuple[str, ...]  # metrics the dashboard and tables show, in order
    evaluation: Evaluation | None
    serves: str = MODEL  # what predictions use: the model, or the name of a rule
    reason: str = ""  # why that serves, or why there is no evaluation
    window: dict[str, Any] = field(default_factory=dict)  # rows/time spans it used (model_runs)
    labels: dict[str, str] = field(default_factory=dict)  # its metric/system names in words
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able, e.g. the mood policy
    facts: dict[str, Any] = field(default_factory=dict)  # entries for the retrain summary
    trained: TrainedModel | None = None  # what predictions load; None when a rule serves

    @property
    def headline(self) -> Difference | None:
        return self.evaluation.differences.get(self.decides) if self.evaluation else None

    @property
    def beats_baselines(self) -> bool:
        return bool(self.headline and self.headline.beats)

    def score(self, metric: str, system: str = MODEL) -> Interval | None:
        return (self.evaluation.scores.get(metric) or {}).get(system) if self.evaluation else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON every consumer reads (the retrain document, `model_runs.metrics`); the
        trained model itself is stored apart, as an artifact."""
        return {
            "name": self.name,
            "title": self.title,
            "decides": self.decides,
            "shown": list(self.shown),
            "evaluation": self.evaluation.to_dict() if self.evaluation else None,
            "beats_baselines": self.beats_baselines,
            "serves": self.serves,
            "reason": self.reason,
            "window": self.window,
            "labels": self.labels,
            "details": self.details,
            "facts": self.facts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelResult:
        evaluation = data.get("evaluation")
        return cls(
            name=str(data["name"]),
            title=str(data["title"]),
            decides=str(data["decides"]),
            shown=tuple(data.get("shown") or ()),
            evaluation=Evaluation.from_dict(evaluation) if evaluation else None,
            serves=str(data.get("serves", MODEL)),
            reason=str(data.get("reason", "")),
            window=dict(data.get("window") or {}),
            labels=dict(data.get("labels") or {}),
            details=dict(data.get("details") or {}),
            facts=dict(data.get("facts") or {}),
        )


@dataclass
class Clustering:
    """The retrain's one clustering, fitted on the training weeks, or why there is none."""

    boundaries: tuple[pd.Timestamp, pd.Timestamp]
    moods: MoodModel | None
    reason: str = ""
    fitted_on: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "boundaries": [b.isoformat() for b in self.boundaries],
            "moods": self.moods.to_dict() if self.moods else None,
            "reason": self.reason,
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Clustering:
        b1, b2 = (pd.Timestamp(b) for b in data["boundaries"])
        moods = MoodModel.from_dict(data["moods"]) if data.get("moods") else None
        return cls((b1, b2), moods, data.get("reason", ""), int(data.get("fitted_on", 0)))


@dataclass(frozen=True)
class RetrainInputs:
    """What every listening model is fitted and tested from: the person's sessionized plays,
    each with its mood in the retrain's clustering (`cluster`, -1 for none), the split, the
    stretches missing from the history, and the bootstrap settings."""

    plays: pd.DataFrame
    clustering: Clustering
    timezone: str
    gaps: tuple[Gap, ...]
    n_boot: int
    seed: int

    @property
    def boundaries(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        return self.clustering.boundaries
