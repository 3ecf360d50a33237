"""Which next-mood predictor serves: a learned one only when it beats repeating the mood.

"The next track has the mood of the last one" is hard to beat: people stay in a mood. So
repeating the last known mood is a candidate policy like any other, and the fallback. The
others are the successor memory (the mood that followed this track when the person last played
it, else repeat) and the model, whose probabilities get a bonus `tau` for staying with the
successor-or-repeat mood, so it predicts a change only when it is confident. The best is picked
on the earlier half of the validation weeks and must then beat repeating on the later half
(day-blocked bootstrap 95% CI above 0) to serve. The test weeks are never looked at.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.bootstrap import interval, resample
from spotify_assets.lib.listening.evaluation import MIN_DAYS, macro_f1
from spotify_assets.lib.listening.words import words_for

REPEAT, SUCCESSOR, MODEL = "repeat_last_mood", "successor_memory", "model"
TAUS = (-0.1, 0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0)
MIN_VALIDATION_ROWS = 200


@dataclass
class MoodPolicy:
    kind: str  # REPEAT | SUCCESSOR | MODEL
    tau: float = 0.0
    reason: str = ""
    validation: dict[str, Any] = field(default_factory=dict)

    def predict(
        self, rules: dict[str, np.ndarray], proba: np.ndarray | None, n_classes: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted moods and (n, K) scores for rows with `rule_predictions` and model proba."""
        if self.kind == MODEL:
            if proba is None:
                raise ValueError("the model policy needs the model's probabilities")
            return _with_bonus(proba, rules[SUCCESSOR], self.tau)
        pred = rules[self.kind]
        return pred, np.eye(n_classes)[pred]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MoodPolicy:
        return cls(**data)


def rule_predictions(frame: pd.DataFrame, majority: int) -> dict[str, np.ndarray]:
    """Repeat the last known mood (majority when none), and the successor memory (repeat when
    the track has no remembered successor)."""
    last = frame["last_known"].to_numpy()
    repeat = np.where(last >= 0, last, majority).astype(np.int64)
    successor = frame["successor_last"].to_numpy()
    return {REPEAT: repeat, SUCCESSOR: np.where(successor >= 0, successor, repeat)}


def _with_bonus(proba: np.ndarray, base: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array(proba, dtype=float, copy=True)
    scores[np.arange(len(scores)), base] += tau
    scores /= scores.sum(axis=1, keepdims=True)
    return scores.argmax(axis=1), scores


@dataclass
class PolicyRows:
    """Validation rows for choosing a policy: true next moods, rule predictions, model
    probabilities (None without a model) and each row's local day (the bootstrap block)."""

    y: np.ndarray
    rules: dict[str, np.ndarray]
    proba: np.ndarray | None
    days: np.ndarray

    def take(self, mask: np.ndarray) -> PolicyRows:
        proba = None if self.proba is None else self.proba[mask]
        return PolicyRows(
            self.y[mask], {k: v[mask] for k, v in self.rules.items()}, proba, self.days[mask]
        )

    def candidates(self) -> dict[tuple[str, float], np.ndarray]:
        found = {(SUCCESSOR, 0.0): self.rules[SUCCESSOR]}
        if self.proba is not None:
            for tau in TAUS:
                found[(MODEL, tau)] = _with_bonus(self.proba, self.rules[SUCCESSOR], tau)[0]
        return found


def split_by_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the earlier and the later half of the validation days."""
    ordered = np.unique(days)
    cut = ordered[len(ordered) // 2] if len(ordered) > 1 else None
    later = days >= cut if cut is not None else np.zeros(len(days), dtype=bool)
    return ~later, later


def choose_policy(
    rows: PolicyRows, n_classes: int, n_boot: int = 500, seed: int = 0, model_note: str = ""
) -> MoodPolicy:
    """Pick the best candidate on the earlier validation days, then confirm it on the later
    ones: it serves only if its gain over repeating the mood there has a 95% CI above 0.

    Confirming on days the choice never saw keeps the gate honest: the best of a dozen
    candidates always looks good on the days it was picked on.
    """
    n = len(rows.y)
    select, confirm = (rows.take(mask) for mask in split_by_day(rows.days))
    validation: dict[str, Any] = {"rows": n, "select_rows": len(select.y),
                                  "confirm_rows": len(confirm.y)}  # fmt: skip
    if model_note:
        validation["model_note"] = model_note
    if n < MIN_VALIDATION_ROWS:
        return MoodPolicy(
            REPEAT,
            reason=f"only {n} validation transitions with a known mood (need "
            f"{MIN_VALIDATION_ROWS}): this person's data cannot support more than repeating "
            "the last mood",
            validation=validation,
        )
    confirm_days = len(set(confirm.days))
    if not len(select.y) or confirm_days < MIN_DAYS:
        return MoodPolicy(
            REPEAT,
            reason=f"the validation weeks hold {len(set(rows.days))} days with known moods; "
            f"confirming a learned policy needs {MIN_DAYS} of them after the days it is chosen "
            "on: this person's data cannot support more than repeating the last mood",
            validation=validation,
        )
    scores = {key: macro_f1(select.y, pred, n_classes) for key, pred in select.candidates().items()}
    validation["select_macro_f1"] = {
        REPEAT: macro_f1(select.y, select.rules[REPEAT], n_classes),
        **{f"{kind}@{tau:g}": v for (kind, tau), v in scores.items()},
    }
    (kind, tau), _ = max(scores.items(), key=lambda kv: (kv[1], kv[0][0] == SUCCESSOR))
    chosen = confirm.candidates()[(kind, tau)]
    y, repeat = confirm.y, confirm.rules[REPEAT]
    gain = interval(
        lambda idx: (
            macro_f1(y[idx], chosen[idx], n_classes) - macro_f1(y[idx], repeat[idx], n_classes)
        ),
        resample(len(y), n_boot, seed, blocks=confirm.days),
    )
    validation["gain"] = {"policy": kind, "tau": tau, **gain.to_dict()}
    label = words_for(kind) if kind == SUCCESSOR else f"{words_for(kind)} (stay bonus {tau:g})"
    text = f"{gain.value:+.3f} [{gain.lo:+.3f}, {gain.hi:+.3f}]"
    if gain.above_zero:
        return MoodPolicy(
            kind, tau, reason=f"{label} beat repeating the last mood on the later validation "
            f"weeks: macro-F1 {text}", validation=validation,
        )  # fmt: skip
    return MoodPolicy(
        REPEAT,
        reason=f"the best alternative on the earlier validation weeks, {label}, did not clearly "
        f"beat repeating the last mood on the later ones (macro-F1 {text}): repeating serves",
        validation=validation,
    )
