"""One retrain of a person's models: split, one clustering, then every registered model.

The time split is decided first, and the mood clustering is fitted on the training weeks only;
that one clustering then labels the datasets, the predictions and the dashboard until the next
retrain, so a mood id always means the same thing within a retrain (`retrain_id`). Each model
of `registry.MODELS` is then fitted on that split and returns a `ModelResult`; a `Retrain` is
the list of them, and its `to_dict` the one document the assets, the dashboard and the
`model_runs` table read.

Most plays of a real person have no audio features. The mood half degrades in words (no
clustering, or repeating the last mood serves) rather than failing; the session model needs
only play times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.listening.gaps import Gap, describe_gaps, find_gaps
from spotify_assets.lib.listening.models import time_boundaries
from spotify_assets.lib.listening.mood_policy import REPEAT, MoodPolicy
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.registry import MODELS, ListeningModel
from spotify_assets.lib.listening.results import (
    MODEL,
    Clustering,
    ModelResult,
    RetrainError,
    RetrainInputs,
)
from spotify_assets.lib.listening.words import METRIC_NAMES, SYSTEM_NAMES, words_for
from spotify_assets.lib.versions import LISTENING_MODELS_VERSION

__all__ = ["Clustering", "Retrain", "RetrainError", "cluster_training_weeks", "retrain"]

MIN_MOOD_PLAYS = 50  # training plays with features needed to cluster moods
MIN_DAYS = 14  # days of history the session model needs (train, validation and test weeks)


def coverage(plays: pd.DataFrame) -> dict[str, Any]:
    """How many plays have audio features (and so a mood): the normal case is a minority.
    With where they came from and a fingerprint of the values: features are shared per song
    across people, so another person's import can change what this person's moods are fitted
    on (`feature_change`)."""
    n, featured = len(plays), int(plays["has_features"].sum())
    out: dict[str, Any] = {
        "plays": n, "with_features": featured, "share": round(featured / n, 4) if n else 0.0,
    }  # fmt: skip
    if "feature_source" in plays.columns:
        used = plays[plays["has_features"]]
        out["features_by_source"] = {
            str(k): int(v) for k, v in used["feature_source"].value_counts().sort_index().items()
        }
        columns = [c for c in AUDIO_FEATURES if c in used.columns]
        song = used["catalog_track_id"].fillna(used["play_key"]) if len(used) else used["play_key"]
        values = used[columns].round(4).astype(str).agg("|".join, axis=1) if len(used) else []
        pairs = sorted(set(zip(song, values, strict=True)))
        out["songs_with_features"] = len({s for s, _ in pairs})
        out["features_hash"] = stable_hash("lf", pairs)
    return out


def feature_change(previous: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """What changed in the audio features since the previous retrain (its summary), in words;
    None when nothing did or either retrain did not record them."""
    if not previous or "features_hash" not in previous or "features_hash" not in current:
        return None
    if previous["features_hash"] == current["features_hash"]:
        return None
    before, after = previous.get("features_by_source", {}), current.get("features_by_source", {})
    sources = ", ".join(
        f"{source} {before.get(source, 0):,} → {after.get(source, 0):,}"
        for source in sorted({*before, *after})
    )
    return (
        f"audio features changed since the previous retrain: plays with features "
        f"{previous.get('with_features', 0):,} → {current.get('with_features', 0):,}, songs "
        f"{previous.get('songs_with_features', 0):,} → {current.get('songs_with_features', 0):,}"
        f" ({sources or 'no source recorded'}); values of songs shared with other people's "
        "imports may have changed, and moods are fitted on them"
    )


def cluster_training_weeks(plays: pd.DataFrame, seed: int = 0) -> Clustering:
    """Split boundaries from all plays, then moods fitted on the training weeks' featured plays."""
    days = plays["played_at"].dt.normalize().nunique() if len(plays) else 0
    if len(plays) < 3 or days < MIN_DAYS:
        raise RetrainError(
            f"{len(plays)} plays over {days} days: the models need at least {MIN_DAYS} days of "
            "listening (import a longer history)"
        )
    b1, b2 = time_boundaries(plays["played_at"])
    train = plays[plays["played_at"] < b1]
    featured = int(train["has_features"].sum())
    if featured < MIN_MOOD_PLAYS:
        reason = (
            f"only {featured} of the training weeks' plays have audio features (moods need "
            f"{MIN_MOOD_PLAYS}; {coverage(plays)['share']:.0%} of all plays have them): load a "
            "catalog that covers this person's songs (spotify-assets catalog FILE), then retrain"
        )
        return Clustering((b1, b2), None, reason, featured)
    return Clustering((b1, b2), fit_moods(train, seed=seed), "", featured)


@dataclass
class Retrain:
    """A person's retrain: its clustering and one `ModelResult` per registered model."""

    retrain_id: str
    person: str
    trained_at: pd.Timestamp
    timezone: str
    clustering: Clustering
    models: list[ModelResult]
    summary: dict[str, Any] = field(default_factory=dict)

    def model(self, name: str) -> ModelResult | None:
        return next((m for m in self.models if m.name == name), None)

    @property
    def policy(self) -> MoodPolicy:
        """The policy serving next moods (what predictions apply), from the next-mood result."""
        mood = self.model("mood")
        if mood is None or "policy" not in mood.details:
            return MoodPolicy(REPEAT, reason="no next-mood model in this retrain")
        return MoodPolicy.from_dict(mood.details["policy"])

    @property
    def serving_models(self) -> dict[str, Any]:
        """The trained models predictions load, by name: a model a rule replaced is not one."""
        return {m.name: m.trained for m in self.models if m.trained is not None}

    def model_runs(self, artifacts: dict[str, str]) -> list[dict[str, Any]]:
        """Rows for `model_runs`: each model's result as its metrics, and the model file when a
        trained model serves (a rule has none)."""
        return [
            {
                "model": m.name,
                "data_window": m.window,
                "metrics": m.to_dict(),
                "beats_baseline": m.beats_baselines,
                "artifact": artifacts.get(m.name),
            }
            for m in self.models
        ]

    def to_dict(
        self, artifacts: dict[str, str] | None = None, clustering: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The retrain document (`listening_models`' output): what predictions, the dashboard
        and the CLI read. `artifacts`: where each serving model was stored; `clustering`: the
        clustering's document with its settings (mood_clusters' output), else the clustering."""
        return {
            "retrain_id": self.retrain_id,
            "person": self.person,
            "trained_at": self.trained_at.isoformat(),
            "timezone": self.timezone,
            "clustering": clustering if clustering is not None else self.clustering.to_dict(),
            "policy": self.policy.to_dict(),
            "artifacts": dict(artifacts or {}),
            "models": [m.to_dict() for m in self.models],
            "summary": self.summary,
        }

    def describe(self) -> str:
        """One line for logs and the CLI: coverage, K, each model against its best baseline
        (or why it was not measured), a change in the features, the history's gaps."""
        s = self.summary
        parts = [
            f"{s['plays']:,} plays ({s['share']:.0%} with features), {s['sessions']:,} sessions, "
            f"K={s['k']}, times in {self.timezone}"
        ]
        parts += [describe_result(m) for m in self.models]
        if s.get("feature_change"):
            parts.append(s["feature_change"])
        gaps = describe_gaps([Gap.from_dict(g) for g in s.get("gaps", [])], self.timezone)
        if gaps:
            parts.append(gaps)
        return "; ".join(parts)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Retrain:
        """A stored retrain document; one written before results were typed (its `models`
        were artifact keys) has no model results."""
        models = data.get("models")
        return cls(
            data["retrain_id"], data.get("person", ""), pd.Timestamp(data["trained_at"]),
            data["timezone"], Clustering.from_dict(data["clustering"]),
            [ModelResult.from_dict(m) for m in models] if isinstance(models, list) else [],
            dict(data.get("summary") or {}),
        )  # fmt: skip


def describe_result(result: ModelResult) -> str:
    """"next mood: served by repeat the last mood, macro-F1 0.412 (+0.010 [−0.02, +0.04] vs
    last known mood)", or why there is no evaluation."""
    names = {**METRIC_NAMES, **SYSTEM_NAMES, **result.labels}
    head = f"{result.title.lower()}: "
    if result.serves != MODEL:
        head += f"served by {words_for(result.serves)}, "
    d, score = result.headline, result.score(result.decides)
    if d is None or score is None:
        return head + f"not evaluated ({result.reason or 'no test weeks'})"
    return (
        f"{head}{names.get(result.decides, result.decides)} {score.value:.3f} "
        f"({d.interval.value:+.3f} [{d.interval.lo:+.3f}, {d.interval.hi:+.3f}] vs "
        f"{names.get(d.baseline, d.baseline)})"
    )


def artifact_keys(document: dict[str, Any]) -> dict[str, str]:
    """Where a retrain document's serving models are stored (older documents: `models`)."""
    keys = document.get("artifacts")
    if keys is None and isinstance(document.get("models"), dict):
        keys = document["models"]
    return dict(keys or {})


def retrain_id(person: str, trained_at: pd.Timestamp, plays: pd.DataFrame) -> str:
    """Readable and unique: the time it was trained and a hash of what it was trained on."""
    digest = stable_hash(
        "lr",
        {
            "person": person,
            "at": trained_at.isoformat(),
            "plays": len(plays),
            "last": plays["played_at"].max().isoformat() if len(plays) else None,
            "version": LISTENING_MODELS_VERSION,
        },
    )
    return f"{trained_at.strftime('%Y%m%dT%H%M%SZ')}-{digest[-8:]}"


def retrain(
    plays: pd.DataFrame,
    clustering: Clustering,
    person: str,
    timezone: str = "UTC",
    n_boot: int = 500,
    seed: int = 0,
    trained_at: pd.Timestamp | None = None,
    models: Sequence[ListeningModel] = MODELS,
) -> Retrain:
    """Fit and evaluate every model of `models` on sessionized plays with the retrain's
    clustering; the summary records coverage, the split, the history's gaps and each model's
    facts."""
    trained_at = trained_at or pd.Timestamp.now(tz="UTC").floor("s")
    b1, b2 = clustering.boundaries
    plays = plays.copy()
    plays["cluster"] = (
        assign(clustering.moods, plays) if clustering.moods else np.full(len(plays), -1)
    )
    # a stretch missing from the export is no stretch of silence (lib/listening/gaps.py)
    gaps = tuple(find_gaps(plays["played_at"]))
    inputs = RetrainInputs(plays, clustering, timezone, gaps, n_boot, seed)
    results = []
    for spec in models:
        result = spec.train(inputs)
        if (result.name, result.title) != (spec.name, spec.title):
            raise ValueError(f"model {spec.name!r} returned the result of {result.name!r}")
        results.append(result)
    summary: dict[str, Any] = {
        **coverage(plays),
        "sessions": int(plays["session_id"].nunique()),
        "k": clustering.moods.k if clustering.moods else 0,
        "timezone": timezone,
        "boundaries": [b1.isoformat(), b2.isoformat()],
        "gaps": [g.to_dict() for g in gaps],
        "models": [m.name for m in results],
    }
    for result in results:
        summary.update(result.facts)
    return Retrain(
        retrain_id(person, trained_at, plays), person, trained_at, timezone, clustering,
        results, summary,
    )  # fmt: skip
