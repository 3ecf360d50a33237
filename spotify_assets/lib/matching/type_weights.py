"""Learned stage-1 weights: semantic/acoustic per playlist type, and the emotion and genre
weights, fitted on the person's own memberships.

The seed plan's table (playlists/types.TYPE_WEIGHTS: workout 0.3 / 0.7 …) is "heuristic first,
learned later". Here it is the prior: a type keeps its seed weights unless it has at least
MIN_TYPE_PLAYLISTS playlists and MIN_TYPE_MEMBERSHIPS training memberships, and a fitted
weight is pulled towards the seed's by SHRINK playlists' worth of evidence. The learned set
serves only if, on the held-out validation songs, it ranks each song's playlists better (MRR,
the ranker's gate) and each playlist's songs no worse (NDCG@10) than the seed's table: on
person f, fits that won on MRR alone lowered held-out NDCG@10 by up to 5 points. Otherwise
the seed's table serves and the note says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.signals import combine
from spotify_assets.lib.metrics import filtered_mrr, playlist_ndcg
from spotify_assets.lib.playlists.profiles import Profiles

SEMANTIC_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # acoustic = 1 - semantic
PART_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)  # emotion and genre weight candidates
MIN_TYPE_PLAYLISTS = 3
MIN_TYPE_MEMBERSHIPS = 20
SHRINK = 3.0  # playlists of evidence the seed's weight counts as
PASSES = 2  # coordinate-ascent rounds over the types and parts
MAX_FIT_SONGS = 3000  # training songs the grid is scored on (sampled beyond)


@dataclass
class TypeWeightFit:
    config: MatchConfig  # what serves: learned weights, or the configuration as it came
    serves: bool
    note: str
    learned: dict[str, tuple[float, float]] = field(default_factory=dict)  # type → fitted
    prior_kept: dict[str, str] = field(default_factory=dict)  # type → why the seed's stays
    validation_mrr: float | None = None  # learned, on the validation songs
    validation_mrr_prior: float | None = None
    validation_ndcg: float | None = None  # NDCG@10 of each playlist's validation songs
    validation_ndcg_prior: float | None = None

    def as_metadata(self) -> dict:
        return {
            "serves": self.serves,
            "note": self.note,
            "learned": {t: list(w) for t, w in self.learned.items()},
            "prior_kept": self.prior_kept,
            "validation_mrr": self.validation_mrr,
            "validation_mrr_prior": self.validation_mrr_prior,
            "validation_ndcg": self.validation_ndcg,
            "validation_ndcg_prior": self.validation_ndcg_prior,
        }


def _subset(values: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {name: v[rows] for name, v in values.items()}


def fit_type_weights(
    signals: dict[str, np.ndarray],
    profiles: Profiles,
    knowns: dict[str, np.ndarray],
    member: np.ndarray,
    train: np.ndarray,
    validation: np.ndarray,
    config: MatchConfig,
    rng: np.random.Generator,
) -> TypeWeightFit:
    """Fit on the `train` songs (their signals leave-one-out against playlists without the
    validation songs), judge on the `validation` songs; every matrix is songs × playlists.
    Songs in no playlist may be among them: they only count as other songs a playlist's own
    are ranked against (NDCG@10)."""
    train_rows = np.nonzero(train)[0]
    if len(train_rows) > MAX_FIT_SONGS:
        train_rows = np.sort(rng.choice(train_rows, MAX_FIT_SONGS, replace=False))
    val_rows = np.nonzero(validation)[0]
    fit_signals, fit_known = _subset(signals, train_rows), _subset(knowns, train_rows)
    fit_truth = member[train_rows]

    def train_objective(candidate: MatchConfig) -> float:
        """Both views of the scores: each song's playlists (MRR) and each playlist's songs
        (NDCG@10); MRR alone moved weights that lowered held-out NDCG@10 (person f)."""
        score = combine(fit_signals, profiles, candidate, fit_known).score
        return 0.5 * (filtered_mrr(score, fit_truth) + playlist_ndcg(score, fit_truth))

    types = np.asarray(profiles.types)
    fallback = np.asarray(profiles.fallback, dtype=bool)
    memberships = fit_truth.sum(axis=0)  # per playlist, training memberships
    fittable, prior_kept = [], {}
    for kind in sorted(set(profiles.types)):
        playlists = (types == kind) & ~fallback  # name-only playlists ignore the type weights
        n, m = int(playlists.sum()), int(memberships[playlists].sum())
        if n < MIN_TYPE_PLAYLISTS or m < MIN_TYPE_MEMBERSHIPS:
            prior_kept[kind] = (
                f"{n} playlists, {m} training memberships (need {MIN_TYPE_PLAYLISTS} and "
                f"{MIN_TYPE_MEMBERSHIPS})"
            )
        else:
            fittable.append((kind, n))

    table = dict(config.type_weights)
    default = table["default"]
    learned = replace(config, type_weights=dict(table))
    raw: dict[str, float] = {}
    best = train_objective(learned)
    for _ in range(PASSES):
        for kind, _ in fittable:
            for w in SEMANTIC_GRID:
                weights = dict(learned.type_weights)
                weights[kind] = (w, round(1 - w, 4))
                score = train_objective(replace(learned, type_weights=weights))
                if score > best + 1e-9:
                    best, learned, raw[kind] = score, replace(learned, type_weights=weights), w
        for name in ("emotion_weight", "genre_weight"):
            for w in PART_GRID:
                score = train_objective(replace(learned, **{name: w}))
                if score > best + 1e-9:
                    best, learned = score, replace(learned, **{name: w})
    # shrink each fitted type towards its seed weight (few playlists: mostly the seed's)
    weights = dict(learned.type_weights)
    fitted = {}
    for kind, n in fittable:
        seed = table.get(kind, default)[0]
        w = raw.get(kind, seed)
        shrunk = round((n * w + SHRINK * seed) / (n + SHRINK), 3)
        weights[kind] = (shrunk, round(1 - shrunk, 3))
        fitted[kind] = weights[kind]
    learned = replace(learned, type_weights=weights)

    if not member[val_rows].any() or (not fittable and learned == config):
        why = (
            "no validation songs" if not member[val_rows].any() else "no type has enough playlists"
        )
        return TypeWeightFit(config, False, f"seed type weights serve ({why})", {}, prior_kept)
    val_signals, val_known = _subset(signals, val_rows), _subset(knowns, val_rows)
    val_truth = member[val_rows]

    def validation_scores(candidate: MatchConfig) -> tuple[float, float]:
        score = combine(val_signals, profiles, candidate, val_known).score
        return filtered_mrr(score, val_truth), playlist_ndcg(score, val_truth)

    (mrr_learned, ndcg_learned), (mrr_prior, ndcg_prior) = (
        validation_scores(learned),
        validation_scores(config),
    )
    changed = ", ".join(
        f"{kind} {table.get(kind, default)[0]:g}/{table.get(kind, default)[1]:g}→{w[0]:g}/{w[1]:g}"
        for kind, w in fitted.items()
        if w != table.get(kind, default)
    )
    parts = [
        f"{name.split('_')[0]} {getattr(config, name):g}→{getattr(learned, name):g}"
        for name in ("emotion_weight", "genre_weight")
        if getattr(learned, name) != getattr(config, name)
    ]
    what = "; ".join(x for x in (changed, ", ".join(parts)) if x) or "no change"
    figures = (
        f"validation MRR {mrr_learned:.3f} vs seed table {mrr_prior:.3f}, NDCG@10 "
        f"{ndcg_learned:.3f} vs {ndcg_prior:.3f}"
    )
    fit = TypeWeightFit(config, False, "", fitted, prior_kept, mrr_learned, mrr_prior,
                        ndcg_learned, ndcg_prior)  # fmt: skip
    if mrr_learned > mrr_prior and ndcg_learned >= ndcg_prior:
        fit.config, fit.serves = learned, True
        fit.note = f"learned type weights serve: {figures} ({what})"
    else:
        fit.note = (
            f"seed type weights serve: learned ({what}) does not beat the seed table on "
            f"validation ({figures})"
        )
    return fit
