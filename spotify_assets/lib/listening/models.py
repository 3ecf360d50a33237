"""Time-split XGBoost models for next-mood and session-start prediction, with calibration.

Train on the past, early-stop on the following weeks, test on the last weeks: a random split
would let the model learn from plays after the ones it is scored on. Depth 3 trees, a minimum
child weight and row/column subsampling keep a few thousand rows from being memorised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # xgboost and sklearn take seconds to import: a fit or a load imports them
    import xgboost as xgb

COMMON_PARAMS: dict[str, Any] = {
    "max_depth": 3,
    "min_child_weight": 5,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "eta": 0.05,
    "lambda": 2.0,
    "tree_method": "hist",
    "nthread": 2,
    "seed": 0,
}
MOOD_PARAMS: dict[str, Any] = {**COMMON_PARAMS, "objective": "multi:softprob"}
SESSION_PARAMS: dict[str, Any] = {**COMMON_PARAMS, "objective": "binary:logistic"}
MAX_ROUNDS = 500
EARLY_STOPPING = 30
ISOTONIC_MIN_PER_CLASS = 200  # fewer positives or negatives than this: Platt scaling


# -- time splits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """Boolean row masks; rows whose target lies past a boundary are purged from the earlier fold."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    boundaries: tuple[pd.Timestamp, pd.Timestamp]


def time_boundaries(
    times: pd.Series, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Start times of the validation and test periods, at row quantiles of `times`."""
    ordered = pd.to_datetime(times, utc=True).sort_values().reset_index(drop=True)
    n = len(ordered)
    if n < 3:
        raise ValueError(f"need at least 3 rows to split, got {n}")
    i1 = min(max(1, int(n * fractions[0])), n - 2)
    i2 = min(max(i1 + 1, int(n * (fractions[0] + fractions[1]))), n - 1)
    return ordered[i1], ordered[i2]


def time_split(
    frame: pd.DataFrame,
    time_col: str = "played_at",
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    boundaries: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    target_time_col: str | None = None,
) -> Split:
    """train: t < b1, val: b1 ≤ t < b2, test: t ≥ b2, with targets never crossing into a later fold."""
    t = pd.to_datetime(frame[time_col], utc=True)
    b1, b2 = boundaries or time_boundaries(t, fractions)
    train = np.array(t < b1, dtype=bool)
    val = np.array((t >= b1) & (t < b2), dtype=bool)
    test = np.array(t >= b2, dtype=bool)
    if target_time_col is not None:
        target_t = pd.to_datetime(frame[target_time_col], utc=True)
        train &= (target_t < b1).to_numpy()
        val &= (target_t < b2).to_numpy()
    return Split(train, val, test, (b1, b2))


def rolling_origin(
    times: pd.Series, n_folds: int = 3, min_train: float = 0.5
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds: train on rows before each origin, test on the next block."""
    t = pd.to_datetime(times, utc=True).to_numpy()
    ordered = np.sort(t)
    n = len(ordered)
    cuts = [int(n * (min_train + (1 - min_train) * k / n_folds)) for k in range(n_folds + 1)]
    folds = []
    for lo, hi in pairwise(cuts):
        start = ordered[min(lo, n - 1)]
        stop = ordered[hi] if hi < n else None
        test = (t >= start) & (t < stop) if stop is not None else t >= start
        folds.append((t < start, test))
    return folds


# -- calibration ----------------------------------------------------------------------------


@dataclass
class Calibrator:
    """Maps raw probabilities to calibrated ones; isotonic knots or Platt (a·logit(p) + b)."""

    kind: str  # "isotonic" | "platt" | "identity"
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    a: float = 1.0
    b: float = 0.0

    def __call__(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        if self.kind == "isotonic":
            return np.interp(p, self.x, self.y)
        if self.kind == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * _logit(p) + self.b)))
        return p

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "x": self.x, "y": self.y, "a": self.a, "b": self.b}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        return cls(**data)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_calibrator(p: np.ndarray, y: np.ndarray, kind: str | None = None) -> Calibrator:
    """Isotonic when both classes are plentiful, Platt otherwise (isotonic overfits small folds)."""
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=int)
    pos = int(y.sum())
    if pos == 0 or pos == len(y):
        return Calibrator("identity")
    if kind is None:
        small = min(pos, len(y) - pos) < ISOTONIC_MIN_PER_CLASS
        kind = "platt" if small else "isotonic"
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
        return Calibrator("isotonic", iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6).fit(_logit(p)[:, None], y)
    return Calibrator("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))


# -- trained models --------------------------------------------------------------------------


@dataclass
class TrainedModel:
    """A trained booster and everything needed to reuse or audit it."""

    task: str  # "mood" | "session"
    booster: xgb.Booster
    feature_columns: list[str]
    params: dict[str, Any]
    best_iteration: int
    n_classes: int
    data_window: dict[str, str]
    calibrator: Calibrator | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def booster_json(self) -> bytes:
        return bytes(self.booster.save_raw(raw_format="json"))

    def predict_proba(self, frame: pd.DataFrame, calibrated: bool = True) -> np.ndarray:
        """(n, K) class probabilities for moods; P(session start) for sessions."""
        import xgboost as xgb

        dm = xgb.DMatrix(frame[self.feature_columns].astype(float))
        p = self.booster.predict(dm, iteration_range=(0, self.best_iteration + 1))
        if calibrated and self.calibrator is not None:
            p = self.calibrator(p)
        return p

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "booster_json": self.booster_json().decode("utf-8"),
            "feature_columns": list(self.feature_columns),
            "params": self.params,
            "best_iteration": self.best_iteration,
            "n_classes": self.n_classes,
            "data_window": self.data_window,
            "calibrator": self.calibrator.to_dict() if self.calibrator else None,
            "metrics": self.metrics,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainedModel:
        import xgboost as xgb

        booster = xgb.Booster()
        booster.load_model(bytearray(data["booster_json"].encode("utf-8")))
        cal = data.get("calibrator")
        return cls(
            task=data["task"],
            booster=booster,
            feature_columns=list(data["feature_columns"]),
            params=dict(data["params"]),
            best_iteration=int(data["best_iteration"]),
            n_classes=int(data["n_classes"]),
            data_window=dict(data["data_window"]),
            calibrator=Calibrator.from_dict(cal) if cal else None,
            metrics=dict(data.get("metrics", {})),
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), default=_jsonable))
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainedModel:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _window(frame: pd.DataFrame, time_col: str, split: Split) -> dict[str, str]:
    t = pd.to_datetime(frame[time_col], utc=True)

    def span(mask: np.ndarray) -> str:
        return f"{t[mask].min()} .. {t[mask].max()} ({int(mask.sum())} rows)" if mask.any() else ""

    return {"train": span(split.train), "val": span(split.val), "test": span(split.test)}


def _fit(
    params: dict[str, Any],
    X: pd.DataFrame,
    y: np.ndarray,
    split: Split,
    weights: tuple[np.ndarray, np.ndarray] | None,
    metric: str,
) -> tuple[xgb.Booster, int]:
    if not split.train.any() or not split.val.any():
        raise ValueError("time split left the train or validation fold empty")
    import xgboost as xgb

    w_train, w_val = weights if weights is not None else (None, None)
    dtrain = xgb.DMatrix(X[split.train].astype(float), label=y[split.train], weight=w_train)
    dval = xgb.DMatrix(X[split.val].astype(float), label=y[split.val], weight=w_val)
    booster = xgb.train(
        {**params, "eval_metric": metric},
        dtrain,
        num_boost_round=MAX_ROUNDS,
        evals=[(dval, "val")],
        early_stopping_rounds=EARLY_STOPPING,
        verbose_eval=False,
    )
    return booster, int(booster.best_iteration)


def train_mood(
    data: pd.DataFrame,
    split: Split,
    n_classes: int,
    feature_columns: list[str],
    params: dict[str, Any] | None = None,
) -> TrainedModel:
    """Multi-class next-mood model; balanced class weights so rare moods are not ignored."""
    params = {**MOOD_PARAMS, **(params or {}), "num_class": n_classes}
    y = data["target"].to_numpy(dtype=int)
    from sklearn.utils.class_weight import compute_sample_weight

    y_train = y[split.train]
    w_train = compute_sample_weight("balanced", y_train)
    # Validation rows weighted with the TRAIN class weights, so early stopping sees the same loss.
    per_class = dict(zip(y_train, w_train, strict=True))
    w_val = np.array([per_class.get(c, 1.0) for c in y[split.val]])
    booster, best = _fit(params, data[feature_columns], y, split, (w_train, w_val), "mlogloss")
    return TrainedModel(
        "mood", booster, list(feature_columns), params, best, n_classes,
        _window(data, "played_at", split),
    )  # fmt: skip


def train_session(
    data: pd.DataFrame,
    split: Split,
    feature_columns: list[str],
    params: dict[str, Any] | None = None,
    calibration: str | None = None,
) -> TrainedModel:
    """Binary session-start model, up-weighted positives, calibrated on the validation fold.

    The validation fold serves both early stopping and calibration; the test fold stays unseen.
    """
    y = data["target"].to_numpy(dtype=int)
    pos = max(int(y[split.train].sum()), 1)
    neg = int(split.train.sum()) - pos
    params = {**SESSION_PARAMS, **(params or {}), "scale_pos_weight": max(neg, 1) / pos}
    booster, best = _fit(params, data[feature_columns], y, split, None, "aucpr")
    model = TrainedModel(
        "session", booster, list(feature_columns), params, best, 2,
        _window(data, "hour_start", split),
    )  # fmt: skip
    p_val = model.predict_proba(data[split.val], calibrated=False)
    model.calibrator = fit_calibrator(p_val, y[split.val], calibration)
    return model
