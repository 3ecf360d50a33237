"""Mood clusters over audio features: K chosen by silhouette, named in plain words.

Clustering runs in standardized units so that tempo does not dominate; names are read off the
raw-unit centroids so that thresholds mean what they say (energy 0.66 is "high").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # sklearn takes seconds to import: only a fit needs it
    from sklearn.cluster import KMeans

MOOD_FEATURES: tuple[str, ...] = (
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "instrumentalness",
    "tempo_norm",
)
SILHOUETTE_SAMPLE = 5_000
MIN_SILHOUETTE = 0.1
MAX_K = 15
_N_INIT = 4


def mood_matrix(plays: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Raw mood features (n, 6) and a mask of rows with every feature known."""
    frame = pd.DataFrame(index=plays.index)
    for name in MOOD_FEATURES[:-1]:
        frame[name] = pd.to_numeric(plays[name], errors="coerce")
    frame["tempo_norm"] = (pd.to_numeric(plays["tempo"], errors="coerce") / 250.0).clip(0.0, 1.0)
    X = frame.to_numpy(dtype=float)
    return X, ~np.isnan(X).any(axis=1)


@dataclass
class KChoice:
    """The chosen K and the evidence for it (`rule` says which criterion decided)."""

    k: int
    rule: str  # "silhouette" | "elbow" | "minimum"
    silhouettes: dict[int, float] = field(default_factory=dict)
    inertias: dict[int, float] = field(default_factory=dict)


def _kmeans(X: np.ndarray, k: int, seed: int) -> KMeans:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=_N_INIT, random_state=seed).fit(X)


def _elbow(inertias: dict[int, float]) -> int | None:
    """K with the largest second difference of inertia (needs neighbours on both sides)."""
    ks = sorted(inertias)
    best, best_d2 = None, -np.inf
    for prev, k, nxt in zip(ks, ks[1:], ks[2:], strict=False):
        d2 = inertias[prev] - 2 * inertias[k] + inertias[nxt]
        if d2 > best_d2:
            best, best_d2 = k, d2
    return best


def choose_k(X: np.ndarray, k_min: int = 3, k_max: int | None = None, seed: int = 0) -> KChoice:
    """Pick K by best silhouette over k_min..min(15, n/10); fall back to the elbow of inertia.

    The elbow decides when every silhouette is below 0.1 (no real cluster structure) or when n is
    too small for k_min clusters of ~10 points. Silhouettes use a seeded sample of at most 5,000
    rows, since the exact score is O(n²).
    """
    return _choose(X, k_min, k_max, seed)[0]


def _choose(
    X: np.ndarray, k_min: int, k_max: int | None, seed: int
) -> tuple[KChoice, dict[int, KMeans]]:
    """`choose_k` plus the fitted models, so the winner need not be fitted twice."""
    from sklearn.metrics import silhouette_score

    n = len(X)
    if n < 2:
        raise ValueError(f"need at least 2 rows to cluster, got {n}")
    upper = min(MAX_K, n // 10) if k_max is None else min(k_max, n - 1)
    models: dict[int, KMeans] = {}
    silhouettes: dict[int, float] = {}
    if upper >= k_min:
        for k in range(k_min, upper + 1):
            km = models[k] = _kmeans(X, k, seed)
            if len(np.unique(km.labels_)) > 1:
                sample = min(SILHOUETTE_SAMPLE, n)
                silhouettes[k] = float(
                    silhouette_score(X, km.labels_, sample_size=sample, random_state=seed)
                )
    if silhouettes and max(silhouettes.values()) >= MIN_SILHOUETTE:
        best = max(silhouettes, key=silhouettes.__getitem__)
        return KChoice(best, "silhouette", silhouettes, _inertias(models)), models
    # Elbow: extend one K either side so that k_min and the top K can win too.
    lo, hi = max(1, k_min - 1), min(max(upper, k_min) + 1, n - 1, MAX_K + 1)
    for k in range(lo, hi + 1):
        if k not in models:
            models[k] = _kmeans(X, k, seed)
    inertias = _inertias(models)
    elbow = _elbow(inertias)
    if elbow is None:
        return KChoice(max(1, min(k_min, n - 1)), "minimum", silhouettes, inertias), models
    return KChoice(elbow, "elbow", silhouettes, inertias), models


def _inertias(models: dict[int, KMeans]) -> dict[int, float]:
    return {k: float(m.inertia_) for k, m in sorted(models.items())}


def _band(value: float, high: float, mid: float, words: tuple[str, str, str]) -> str:
    return words[0] if value >= high else words[1] if value >= mid else words[2]


def label_cluster(raw_centroid: Sequence[float] | Mapping[str, float]) -> str:
    """Plain-words name from a raw-unit centroid (MOOD_FEATURES order, or a name->value map)."""
    c = (
        dict(raw_centroid)
        if isinstance(raw_centroid, Mapping)
        else dict(zip(MOOD_FEATURES, raw_centroid, strict=True))
    )
    energy = _band(c["energy"], 0.66, 0.4, ("high", "medium", "low"))
    valence = _band(c["valence"], 0.6, 0.4, ("positive", "neutral", "negative"))
    texture = "acoustic" if c["acousticness"] >= 0.5 else "electronic"
    return f"{energy} energy, {valence}, {texture}"


# Words for a cluster that sits above / below the others sharing its base name, per feature.
_DESCRIPTORS = {
    "danceability": ("danceable", "less danceable"),
    "instrumentalness": ("instrumental", "vocal"),
    "tempo_norm": ("faster", "slower"),
    "valence": ("brighter", "darker"),
    "energy": ("more intense", "softer"),
    "acousticness": ("more acoustic", "more produced"),
}
_MAX_TRAITS = 3


def cluster_labels(raw_centroids: np.ndarray, std_centroids: np.ndarray) -> list[str]:
    """Names for all clusters, every one distinct and in words.

    Clusters sharing a base name get, one at a time, the trait (feature) on which they deviate
    most from the others sharing it, until the names differ (at most three traits). Clusters
    whose centroids are identical on every feature are named by their rounded values.
    """
    base = [label_cluster(c) for c in raw_centroids]
    labels = list(base)
    cols = [MOOD_FEATURES.index(f) for f in _DESCRIPTORS]
    for _ in range(_MAX_TRAITS):
        groups: dict[str, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(i)
        clashes = [idx for idx in groups.values() if len(idx) > 1]
        if not clashes:
            return labels
        for idx in clashes:
            sub = std_centroids[np.ix_(idx, cols)]
            dev = sub - sub.mean(axis=0)
            for row, i in enumerate(idx):
                used = labels[i]
                order = np.argsort(-np.abs(dev[row]), kind="stable")
                for j in order:
                    up, down = _DESCRIPTORS[MOOD_FEATURES[cols[j]]]
                    word = up if dev[row, j] >= 0 else down
                    if abs(dev[row, j]) > 1e-9 and up not in used and down not in used:
                        labels[i] = f"{used}, {word}"
                        break
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    for i, label in enumerate(labels):
        if counts[label] > 1:
            c = dict(zip(MOOD_FEATURES, raw_centroids[i], strict=True))
            labels[i] = (
                f"{label} (energy {c['energy']:.2f}, valence {c['valence']:.2f}, "
                f"{c['tempo_norm'] * 250:.0f} BPM)"
            )
    return _settle(labels)


def _settle(labels: list[str]) -> list[str]:
    """Identical centroids (a degenerate fit): say so in words rather than with a number."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(
            label
            if seen[label] == 1
            else f"{label}, same profile as another cluster ({seen[label]})"
        )
    return out


@dataclass
class MoodModel:
    """A fitted mood clustering; everything needed to assign new plays and to name clusters."""

    mean: np.ndarray
    scale: np.ndarray
    centroids_std: np.ndarray
    centroids_raw: np.ndarray
    k: int
    labels: list[str]
    rule: str
    silhouettes: dict[int, float]
    inertias: dict[int, float]
    sizes: list[int]
    n_fit: int
    seed: int = 0
    features: tuple[str, ...] = MOOD_FEATURES

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (int dict keys become strings, arrays become lists)."""
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "centroids_std": self.centroids_std.tolist(),
            "centroids_raw": self.centroids_raw.tolist(),
            "k": self.k,
            "labels": list(self.labels),
            "rule": self.rule,
            "silhouettes": {str(k): v for k, v in self.silhouettes.items()},
            "inertias": {str(k): v for k, v in self.inertias.items()},
            "sizes": list(self.sizes),
            "n_fit": self.n_fit,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MoodModel:
        return cls(
            mean=np.asarray(data["mean"], dtype=float),
            scale=np.asarray(data["scale"], dtype=float),
            centroids_std=np.asarray(data["centroids_std"], dtype=float),
            centroids_raw=np.asarray(data["centroids_raw"], dtype=float),
            k=int(data["k"]),
            labels=list(data["labels"]),
            rule=str(data["rule"]),
            silhouettes={int(k): float(v) for k, v in data["silhouettes"].items()},
            inertias={int(k): float(v) for k, v in data["inertias"].items()},
            sizes=[int(s) for s in data["sizes"]],
            n_fit=int(data["n_fit"]),
            seed=int(data.get("seed", 0)),
            features=tuple(data.get("features", MOOD_FEATURES)),
        )


def fit_moods(
    plays: pd.DataFrame, seed: int = 0, k_min: int = 3, k_max: int | None = None
) -> MoodModel:
    """Standardize, choose K, fit K-means; plays with any missing feature are left out."""
    from sklearn.preprocessing import StandardScaler

    X_raw, ok = mood_matrix(plays)
    X_raw = X_raw[ok]
    if len(X_raw) < 2:
        raise ValueError("need at least 2 plays with all mood features to fit moods")
    scaler = StandardScaler().fit(X_raw)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    X = (X_raw - scaler.mean_) / scale
    choice, models = _choose(X, k_min, k_max, seed)
    km = models.get(choice.k) or _kmeans(X, choice.k, seed)
    centroids_std = km.cluster_centers_
    centroids_raw = centroids_std * scale + scaler.mean_
    return MoodModel(
        mean=scaler.mean_.copy(),
        scale=scale,
        centroids_std=centroids_std,
        centroids_raw=centroids_raw,
        k=choice.k,
        labels=cluster_labels(centroids_raw, centroids_std),
        rule=choice.rule,
        silhouettes=choice.silhouettes,
        inertias=choice.inertias,
        sizes=np.bincount(km.labels_, minlength=choice.k).tolist(),
        n_fit=len(X),
        seed=seed,
    )


def assign(model: MoodModel, plays: pd.DataFrame) -> np.ndarray:
    """Nearest standardized centroid per play (-1 where a feature is missing).

    Lets new plays get a mood between retrains without moving the centroids.
    """
    X_raw, ok = mood_matrix(plays)
    out = np.full(len(X_raw), -1, dtype=np.int64)
    if ok.any():
        X = (X_raw[ok] - model.mean) / model.scale
        C = model.centroids_std
        # ||x - c||² without the (n, k, d) intermediate, so large histories stay cheap.
        d2 = (C**2).sum(axis=1)[None, :] - 2.0 * X @ C.T
        out[ok] = d2.argmin(axis=1)
    return out
