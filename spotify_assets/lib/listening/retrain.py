"""One retrain of a person's models: split, one clustering, next-mood policy, session model.

The time split is decided first, and the mood clustering is fitted on the training weeks only;
that one clustering then labels the datasets, the predictions and the dashboard until the next
retrain, so a mood id always means the same thing within a retrain (`retrain_id`).

Most plays of a real person have no audio features. The mood half degrades in words (no
clustering, or repeating the last mood serves) rather than failing; the session model needs
only play times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.errors import InputError
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.listening.datasets import (
    SESSION_FEATURE_COLUMNS,
    local_times,
    mood_dataset,
    mood_feature_columns,
    session_dataset,
)
from spotify_assets.lib.listening.evaluation import (
    evaluate_mood,
    evaluate_session,
    hour_of_week_prior,
    mood_baselines,
)
from spotify_assets.lib.listening.gaps import find_gaps, in_gaps
from spotify_assets.lib.listening.models import (
    TrainedModel,
    time_boundaries,
    time_split,
    train_mood,
    train_session,
)
from spotify_assets.lib.listening.mood_policy import (
    MODEL,
    REPEAT,
    MoodPolicy,
    PolicyRows,
    choose_policy,
    rule_predictions,
    split_by_day,
)
from spotify_assets.lib.listening.moods import MoodModel, assign, fit_moods
from spotify_assets.lib.versions import LISTENING_MODELS_VERSION

MIN_MOOD_PLAYS = 50  # training plays with features needed to cluster moods
MIN_MODEL_ROWS = 100  # training transitions needed to fit the next-mood model
MIN_DAYS = 14  # days of history the session model needs (train, validation and test weeks)


class RetrainError(InputError):
    """The history cannot support a retrain at all; the message says what is missing."""


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
    retrain_id: str
    person: str
    trained_at: pd.Timestamp
    timezone: str
    clustering: Clustering
    policy: MoodPolicy
    mood_model: TrainedModel | None
    session_model: TrainedModel
    mood_result: dict[str, Any] | None
    session_result: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def mood_beats_baseline(self) -> bool:
        return bool(self.mood_result and self.mood_result["beats_baseline"]["macro_f1"])

    @property
    def session_beats_baseline(self) -> bool:
        return bool(self.session_result["beats_baseline"]["pr_auc"])

    @property
    def serving_models(self) -> dict[str, TrainedModel]:
        """The models predictions need: the session model, and the mood model if it serves."""
        models = {"session": self.session_model}
        if self.policy.kind == MODEL and self.mood_model is not None:
            models["mood"] = self.mood_model
        return models

    def model_runs(self, artifacts: dict[str, str]) -> list[dict[str, Any]]:
        """Rows for `model_runs`: what served, its test metrics next to the baselines, and the
        model file when a model served (a rule has none)."""
        rows = [
            {
                "model": "session", "data_window": self.session_model.data_window,
                "metrics": self.session_model.metrics,
                "beats_baseline": self.session_beats_baseline,
                "artifact": artifacts.get("session"),
            }
        ]  # fmt: skip
        if self.mood_result:
            rows.append(
                {
                    "model": "mood", "data_window": self.mood_result["rows"],
                    "metrics": {"served": self.policy.kind, "policy": self.policy.to_dict(),
                                **_headline(self.mood_result, ("accuracy", "macro_f1", "roc_auc"))},
                    "beats_baseline": self.mood_beats_baseline,
                    "artifact": artifacts.get("mood"),
                }
            )  # fmt: skip
        return rows

    def metrics(self) -> dict[str, Any]:
        """Headline metrics with CIs for every system: what the dashboard and status show."""

        def table(result: dict[str, Any], metric: str) -> dict[str, Any]:
            return {s: v[metric] for s, v in result["scores"].items()}

        out: dict[str, Any] = {}
        if self.mood_result:
            out["mood"] = {
                m: table(self.mood_result, m) for m in ("macro_f1", "accuracy", "roc_auc")
            }
            out["mood_difference"] = self.mood_result["difference"]
        s = self.session_result
        out["session"] = {m: table(s, m) for m in ("pr_auc", "roc_auc")}
        out["session"]["ece"] = {
            "before_calibration": s["ece_before"],
            "after_calibration": s["ece_after"],
            "hour_of_week_prior": s["scores"]["hour_of_week_prior"]["ece"],
        }
        out["session_difference"] = s["difference"]
        return out


def folds(
    plays: pd.DataFrame,
    hours: pd.DataFrame,
    boundaries: tuple[pd.Timestamp, pd.Timestamp],
    tz: str,
) -> dict[str, dict[str, Any]]:
    """Per fold (train, validation, test): first and last play, local weeks with plays and the
    session model's hours, so a reader sees what each fold holds, not only where it starts."""
    b1, b2 = boundaries
    played = pd.to_datetime(plays["played_at"], utc=True)
    local = local_times(played, tz).dt.tz_localize(None).dt.normalize()
    week = (local - pd.to_timedelta(local.dt.day_of_week, unit="D")).to_numpy()
    hour = pd.to_datetime(hours["hour_start"], utc=True)
    out = {}
    for name, lo, hi in (("train", None, b1), ("validation", b1, b2), ("test", b2, None)):
        in_plays = _window_mask(played, lo, hi)
        # the session split's own boundaries: whole hours
        in_hours = _window_mask(hour, lo and lo.ceil("h"), hi and hi.ceil("h"))
        out[name] = {
            "first_play": played[in_plays].min().isoformat() if in_plays.any() else None,
            "last_play": played[in_plays].max().isoformat() if in_plays.any() else None,
            "weeks_with_plays": len(np.unique(week[in_plays.to_numpy()])),
            "session_hours": int(in_hours.sum()),
        }
    return out


def _window_mask(times: pd.Series, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> pd.Series:
    mask = pd.Series(True, index=times.index)
    if lo is not None:
        mask &= times >= lo
    if hi is not None:
        mask &= times < hi
    return mask


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
) -> Retrain:
    """Train and evaluate both models on sessionized plays with the retrain's clustering."""
    trained_at = trained_at or pd.Timestamp.now(tz="UTC").floor("s")
    b1, b2 = clustering.boundaries
    plays = plays.copy()
    plays["cluster"] = (
        assign(clustering.moods, plays) if clustering.moods else np.full(len(plays), -1)
    )
    majority = -1
    if clustering.moods:
        k = clustering.moods.k
        mood_model, policy, mood_result, majority = _mood(
            plays, k, (b1, b2), timezone, n_boot, seed
        )
    else:
        mood_model, mood_result = None, None
        policy = MoodPolicy(REPEAT, reason=f"no mood clustering: {clustering.reason}")

    # a stretch missing from the export is no hour of silence: its hours are in no fold
    gaps = find_gaps(plays["played_at"])
    hours = session_dataset(plays, tz=timezone)
    hours = hours[~in_gaps(hours["hour_start"], gaps, pd.Timedelta(hours=1))].reset_index(drop=True)
    split = time_split(hours, time_col="hour_start", boundaries=(b1.ceil("h"), b2.ceil("h")))
    if not (split.val.any() and split.test.any()) or hours.loc[split.train, "target"].nunique() < 2:
        raise RetrainError(
            "too few listening sessions in the training weeks to model session starts"
        )
    session_model = train_session(hours, split, SESSION_FEATURE_COLUMNS)
    test = hours[split.test]
    session_result = evaluate_session(
        test["target"].to_numpy(), session_model.predict_proba(test, calibrated=False),
        session_model.predict_proba(test), hour_of_week_prior(hours[split.train], test),
        test["hour_start"], n_boot=n_boot, seed=seed, tz=timezone,
    )  # fmt: skip
    session_model.metrics = _headline(session_result, ("pr_auc", "roc_auc", "f1@0.3"))
    session_model.metrics["ece_before"] = session_result["ece_before"]
    session_model.metrics["ece_after"] = session_result["ece_after"]

    summary = {
        **coverage(plays),
        "sessions": int(plays["session_id"].nunique()),
        "k": clustering.moods.k if clustering.moods else 0,
        "mood_rows": mood_result["rows"] if mood_result else 0,
        "session_hours": len(hours),
        "timezone": timezone,
        "boundaries": [b1.isoformat(), b2.isoformat()],
        "gaps": [g.to_dict() for g in gaps],
        "folds": folds(plays, hours, (b1, b2), timezone),
        "mood_policy": policy.kind,
        "mood_policy_reason": policy.reason,
        "majority_mood": majority,
    }
    return Retrain(
        retrain_id(person, trained_at, plays), person, trained_at, timezone, clustering,
        policy, mood_model, session_model, mood_result, session_result, summary,
    )  # fmt: skip


def _mood(
    plays: pd.DataFrame,
    k: int,
    boundaries: tuple[pd.Timestamp, pd.Timestamp],
    timezone: str,
    n_boot: int,
    seed: int,
) -> tuple[TrainedModel | None, MoodPolicy, dict[str, Any] | None, int]:
    """The next-mood model, the policy that serves, its test evaluation, the majority mood."""
    data = mood_dataset(plays, k, tz=timezone)
    split = time_split(data, boundaries=boundaries, target_time_col="target_at")
    y = data["target"].to_numpy(dtype=int)
    train_y = y[split.train]
    majority = int(np.bincount(train_y if len(train_y) else y, minlength=k).argmax())
    rules = rule_predictions(data, majority)

    local_days = local_times(data["played_at"], timezone).dt.date.to_numpy()
    val = split.val
    earlier = np.zeros(len(data), dtype=bool)
    earlier[np.flatnonzero(val)] = split_by_day(local_days[val])[0]
    model, note = None, ""
    if split.train.sum() >= MIN_MODEL_ROWS and earlier.any():
        # early stopping sees only the earlier validation days: the later ones confirm
        model = train_mood(data, replace(split, val=earlier), k, mood_feature_columns(k))
    elif split.train.sum() < MIN_MODEL_ROWS:
        note = f"{int(split.train.sum())} training transitions (the model needs {MIN_MODEL_ROWS})"
    else:
        note = "no validation transitions to early-stop on"
    rows = PolicyRows(
        y[val], {name: r[val] for name, r in rules.items()},
        model.predict_proba(data[val]) if model is not None and val.any() else None,
        local_days[val],
    )  # fmt: skip
    policy = choose_policy(rows, k, n_boot=n_boot, seed=seed, model_note=note)
    test = split.test
    if not test.any():
        return model, policy, None, majority
    proba = model.predict_proba(data[test]) if model is not None else None
    served, scores = policy.predict({n: r[test] for n, r in rules.items()}, proba, k)
    baselines = mood_baselines(
        data.loc[test, "cluster_0"].to_numpy(), data.loc[test, "last_known"].to_numpy(), majority
    )
    result = evaluate_mood(
        y[test], served, scores, baselines, data.loc[test, "played_at"], n_boot=n_boot, seed=seed,
        tz=timezone,
    )  # fmt: skip
    result["rows"] = {
        "train": int(split.train.sum()),
        "val": int(val.sum()),
        "test": int(test.sum()),
    }
    result["policy"] = policy.to_dict()
    return model, policy, result, majority


def _headline(result: dict[str, Any], metrics: tuple[str, ...]) -> dict[str, Any]:
    return {
        m: {
            "model": result["scores"]["model"][m],
            "difference": result["difference"][m],
            "beats_baseline": result["beats_baseline"][m],
        }
        for m in metrics
    }
