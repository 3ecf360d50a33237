"""Stage 2's learned ranker: which stage-1 signals predict the person's own memberships.

Trained on the playlists as they are: for a member song, its signals are computed against
its playlist *without it* (leave-one-out, a subtraction on the profile's sums), so the model
learns what a new song that belongs looks like, not "a song is close to a centroid it is in".
Negatives are each song's best-scoring other playlists (hard) plus a few random ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.signals import (
    Stage1,
    combine,
    compute_signals,
    leave_one_out,
    song_knowns,
    top_indices,
)
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays

FEATURES = (
    "sem_centroid",
    "sem_name",
    "acoustic",
    "emotion",
    "genre",
    "subgenre",
    "stage1",
    "stage1_gap",  # minus the song's best stage-1 score over all playlists
    "stage1_z",  # standardized within the song's row
    "stage1_rank",  # log(1 + rank of the playlist for the song)
    "sem_gap",
    "acoustic_z",
    "log_members",
    "fallback",
    "artist",  # share of the playlist's members by the song's primary artist
    "year",  # closeness of release year to the playlist's (in its spread)
    "popularity",
    "member_z",  # stage 1 against how the playlist's own members score (leave-one-out)
    "has_features",  # the song has audio features (most library tracks do not)
)
MIN_POSITIVES = 20
MIN_FLOOR_MEMBERS = 10
MIN_VALIDATION = 20  # validation memberships below which the ranker is not trusted


@dataclass
class RankerReport:
    trained: bool
    reason: str
    songs: int = 0
    pairs: int = 0
    positives: int = 0
    train_logloss: float | None = None
    serves: bool = False  # the ranker beat stage 1 on this person's validation songs
    decision: str = ""  # why the ranker or stage 1 serves, with the validation figures
    validation_memberships: int = 0
    validation_mrr: float | None = None  # stage 1 + ranker, on the validation songs
    validation_mrr_stage1: float | None = None


def _row_stats(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True) + 1e-6
    return matrix.max(axis=1, keepdims=True), mean, std


def pair_features(
    st1: Stage1,
    profiles: Profiles,
    rows: np.ndarray,
    cols: np.ndarray,
    member_stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Features of the pairs (rows[i], cols[i]) of a songs × playlists Stage1.
    `member_stats`: per playlist, mean and spread of its members' leave-one-out stage-1
    scores (the per-playlist view: is this song as good as the songs already in it?)."""
    score, sig = st1.score, st1.signals
    s_max, s_mean, s_std = _row_stats(score)
    ranks = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1)
    sem_max = sig["sem_centroid"].max(axis=1)
    _, ac_mean, ac_std = _row_stats(sig["acoustic"])
    out = np.column_stack(
        [
            *(sig[name][rows, cols] for name in FEATURES[:6]),
            score[rows, cols],
            score[rows, cols] - s_max[rows, 0],
            (score[rows, cols] - s_mean[rows, 0]) / s_std[rows, 0],
            np.log1p(ranks[rows, cols]),
            sig["sem_centroid"][rows, cols] - sem_max[rows],
            (sig["acoustic"][rows, cols] - ac_mean[rows, 0]) / ac_std[rows, 0],
            np.log1p(profiles.count[cols]),
            profiles.fallback[cols].astype(float),
            sig["artist"][rows, cols],
            sig["year"][rows, cols],
            sig["popularity"][rows, cols],
            _member_z(score[rows, cols], cols, member_stats),
            _has_features(st1, rows),
        ]
    )
    return out.astype(np.float32)


def _filtered_mrr(scores: np.ndarray, truth: np.ndarray) -> float:
    """Mean reciprocal rank of each true (song, playlist) among the playlists that are not
    the song's other true ones."""
    reciprocal = []
    for s, p in zip(*np.nonzero(truth), strict=True):
        others = truth[s].copy()
        others[p] = False
        better = (scores[s] > scores[s, p]) & ~others
        reciprocal.append(1.0 / (1 + better.sum()))
    return float(np.mean(reciprocal)) if reciprocal else 0.0


def _has_features(st1: Stage1, rows: np.ndarray) -> np.ndarray:
    known = st1.known.get("acoustic")
    return np.ones(len(rows)) if known is None else known[rows].astype(float)


def _member_z(score: np.ndarray, cols: np.ndarray, stats) -> np.ndarray:
    if stats is None:
        return np.zeros(len(score))
    mean, spread = stats
    return (score - mean[cols]) / spread[cols]


def member_score_stats(
    scores: np.ndarray, rows: np.ndarray, cols: np.ndarray, n_playlists: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per playlist, mean and spread of its members' (leave-one-out) stage-1 scores; small
    playlists borrow the overall ones."""
    member = scores[rows, cols].astype(np.float64)
    overall = (member.mean(), member.std() + 1e-3) if len(member) else (0.0, 1.0)
    n = np.bincount(cols, minlength=n_playlists).astype(np.float64)
    total = np.bincount(cols, weights=member, minlength=n_playlists)
    sq = np.bincount(cols, weights=member**2, minlength=n_playlists)
    ok = n >= MIN_FLOOR_MEMBERS
    mean = np.where(ok, total / np.maximum(n, 1), overall[0])
    std = np.sqrt(np.clip(sq / np.maximum(n, 1) - mean**2, 0, None))
    return mean, np.where(ok, std + 1e-3, overall[1])


def member_floors(
    scores: np.ndarray, rows: np.ndarray, cols: np.ndarray, n_playlists: int, quantile: float
) -> np.ndarray:
    """Per playlist, the stage-1 score that all but `quantile` of its own members reach
    (leave-one-out scores): a candidate below it fits worse than nearly every member. Small
    playlists use the floor over all memberships."""
    member_scores = scores[rows, cols]
    overall = float(np.quantile(member_scores, quantile)) if len(rows) else -np.inf
    floors = np.full(n_playlists, overall)
    for p in np.unique(cols):
        mine = member_scores[cols == p]
        if len(mine) >= MIN_FLOOR_MEMBERS:
            floors[p] = np.quantile(mine, quantile)
    return floors


class LearnedRanker:
    """XGBoost logistic model over FEATURES; `predict` gives P(belongs | shortlisted).

    It ranks playlists *for a song* well but, being relative, cannot say that a song fits
    nowhere: `floors` (how well the playlists' own members score) carry the abstain rule.
    """

    def __init__(self, config: MatchConfig):
        self.config = config
        self.model = None
        self.report = RankerReport(False, "not trained")
        self.floors: np.ndarray | None = None
        self.member_stats: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def trained(self) -> bool:
        return self.model is not None

    @property
    def serves(self) -> bool:
        """Trained, and better than stage 1 on the person's validation songs: only then does
        it score suggestions (otherwise stage 1 serves, and the report says why)."""
        return self.trained and self.report.serves

    def fit(
        self,
        tracks: TrackArrays,
        profiles: Profiles,
        member_rows: np.ndarray,
        member_cols: np.ndarray,
    ) -> RankerReport:
        """Train on memberships (tracks row member_rows[i] is in playlist member_cols[i])."""
        config = self.config
        rng = np.random.default_rng(config.seed)
        song_rows = np.unique(member_rows)
        if len(song_rows) > config.max_training_songs:
            song_rows = np.sort(rng.choice(song_rows, config.max_training_songs, replace=False))
        local = np.full(len(tracks), -1)
        local[song_rows] = np.arange(len(song_rows))
        keep = local[member_rows] >= 0
        pos_rows, pos_cols = local[member_rows[keep]], member_cols[keep]

        songs = tracks.take(song_rows)
        signals = compute_signals(songs, profiles)
        leave_one_out(signals, songs, profiles, pos_rows, pos_cols)
        st1 = combine(signals, profiles, config, song_knowns(songs, config))
        self.floors = member_floors(
            st1.score, pos_rows, pos_cols, len(profiles), config.abstain_quantile
        )
        self.member_stats = member_score_stats(st1.score, pos_rows, pos_cols, len(profiles))
        if config.ranker == "none":
            self.report = RankerReport(False, "disabled by config")
            return self.report
        if len(member_rows) < MIN_POSITIVES or len(profiles) < 3:
            self.report = RankerReport(
                False,
                f"too little to learn from ({len(member_rows)} memberships, {len(profiles)} "
                f"playlists; need {MIN_POSITIVES} and 3)",
            )
            return self.report
        member = np.zeros(st1.score.shape, dtype=bool)
        member[pos_rows, pos_cols] = True
        hard = np.argsort(-np.where(member, -np.inf, st1.score), axis=1)[:, : config.hard_negatives]

        # the person's own validation songs decide whether the ranker serves
        validation = rng.random(len(songs)) < config.ranker_validation_share
        val_pairs = int(validation[pos_rows].sum())
        if val_pairs >= MIN_VALIDATION and (~validation).sum() >= MIN_POSITIVES:
            model = self._train(st1, profiles, member, hard, pos_rows, pos_cols, ~validation, rng)
            mrr_ranker, mrr_stage1 = self._validate(model, st1, profiles, member, validation)
            serves = mrr_ranker > mrr_stage1
        else:
            mrr_ranker = mrr_stage1 = None
            serves = True  # too few songs to hold any back: trust the ranker, say so
        self.model = self._train(
            st1, profiles, member, hard, pos_rows, pos_cols, np.ones(len(songs), bool), rng
        )
        labels = self._labels
        prob = self.model.predict_proba(self._features)[:, 1]
        eps = 1e-7
        logloss = -np.mean(labels * np.log(prob + eps) + (1 - labels) * np.log(1 - prob + eps))
        if mrr_ranker is None:
            decision = f"the ranker serves (under {MIN_VALIDATION} validation memberships to check)"
        elif serves:
            decision = (
                f"the ranker serves: validation MRR {mrr_ranker:.3f} vs stage 1 {mrr_stage1:.3f}"
            )
        else:
            decision = (
                f"stage 1 serves: the ranker's validation MRR {mrr_ranker:.3f} is not above "
                f"stage 1's {mrr_stage1:.3f}"
            )
        self.report = RankerReport(
            True, "trained", len(songs), len(labels), int(labels.sum()), float(logloss),
            serves=serves, decision=decision, validation_memberships=val_pairs,
            validation_mrr=mrr_ranker, validation_mrr_stage1=mrr_stage1,
        )  # fmt: skip
        return self.report

    def _train(self, st1, profiles, member, hard, pos_rows, pos_cols, use, rng):
        """A model on the pairs of the songs marked `use`: their memberships, their hard
        negatives (best-scoring playlists they are not in) and a few random ones."""
        import xgboost as xgb

        config = self.config
        keep = use[pos_rows]
        songs = np.nonzero(use)[0]
        rand = rng.integers(0, len(profiles), size=(len(songs), config.random_negatives))
        neg_cols = np.concatenate([hard[songs], rand], axis=1)
        neg_rows = np.repeat(songs, neg_cols.shape[1])
        neg_cols = neg_cols.ravel()
        ok = ~member[neg_rows, neg_cols]
        pairs = np.unique(np.column_stack([neg_rows[ok], neg_cols[ok]]), axis=0)
        rows = np.concatenate([pos_rows[keep], pairs[:, 0]])
        cols = np.concatenate([pos_cols[keep], pairs[:, 1]])
        self._labels = np.concatenate([np.ones(int(keep.sum())), np.zeros(len(pairs))])
        self._features = pair_features(st1, profiles, rows, cols, self.member_stats)
        model = xgb.XGBClassifier(
            objective="binary:logistic",
            n_estimators=200,
            max_depth=4,
            learning_rate=0.08,
            subsample=0.9,
            colsample_bytree=0.9,
            min_child_weight=2,
            n_jobs=2,
            random_state=config.seed,
            eval_metric="logloss",
        )
        model.fit(self._features, self._labels)
        return model

    def _validate(self, model, st1, profiles, member, validation) -> tuple[float, float]:
        """Filtered MRR of the validation songs' own playlists, served as `score_matrix` would
        (ranker blended on each song's shortlist) vs stage 1 alone."""
        config = self.config
        songs = np.nonzero(validation)[0]
        score = st1.score[songs].astype(np.float64)
        short = np.zeros(score.shape, dtype=bool)
        short[np.arange(len(songs))[:, None], top_indices(score, config.rerank_depth)] = True
        r, c = np.nonzero(short)
        prob = model.predict_proba(pair_features(st1, profiles, songs[r], c, self.member_stats))
        blended = score - 1.0  # outside the shortlist: below every shortlisted pair
        blended[r, c] = config.ranker_blend * prob[:, 1] + (1 - config.ranker_blend) * score[r, c]
        truth = member[songs]
        return _filtered_mrr(blended, truth), _filtered_mrr(score, truth)

    def features(
        self, st1: Stage1, profiles: Profiles, rows: np.ndarray, cols: np.ndarray
    ) -> np.ndarray:
        return pair_features(st1, profiles, rows, cols, self.member_stats)

    def to_json(self) -> bytes:
        """The trained model in XGBoost's JSON format (loadable with Booster.load_model)."""
        return bytes(self.model.get_booster().save_raw("json"))

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(features)[:, 1]

    def contributions(self, features: np.ndarray) -> np.ndarray:
        """Per-feature SHAP contributions (log-odds), last column the bias."""
        import xgboost as xgb

        return self.model.get_booster().predict(xgb.DMatrix(features), pred_contribs=True)
