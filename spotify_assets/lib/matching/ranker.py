"""Stage 2's learned ranker: which stage-1 signals predict the person's own memberships.

Trained on the playlists as they are: for a member song, its signals are computed against
its playlist *without it* (leave-one-out, a subtraction on the profile's sums), so the model
learns what a new song that belongs looks like, not "a song is close to a centroid it is in".
Negatives are each song's best-scoring other playlists (hard) plus a few random ones.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from spotify_assets.lib.bootstrap import paired_difference
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.signals import (
    Stage1,
    combine,
    compute_signals,
    leave_one_out,
    song_knowns,
    song_presence,
    top_indices,
)
from spotify_assets.lib.matching.type_weights import fit_type_weights
from spotify_assets.lib.matching.units import colisten as colisten_unit
from spotify_assets.lib.metrics import (
    PLAYLIST_NEGATIVES,
    filtered_reciprocal_ranks,
    playlist_ndcgs,
    sampled_candidates,
)
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays

# The ranker's features, in column order: the one list (pair_features builds exactly these,
# `contributions` and match_results' `ranker_top` name them from it). A value derived from a
# column a catalog may lack is NaN where unknown (XGBoost's "missing", learned per split) and
# comes with a has_* flag, never a 0 or 0.5 that looks like a real value; a column missing
# from the whole catalog gives constant features the trees cannot split on.
FEATURES = (
    "sem_centroid",
    "sem_name",
    "acoustic",  # NaN without audio features (song or playlist)
    "emotion",  # NaN without an emotion prediction
    "genre",  # NaN without a genre (song or playlist)
    "subgenre",
    "stage1",
    "stage1_gap",  # minus the song's best stage-1 score over all playlists
    "stage1_z",  # standardized within the song's row
    "stage1_rank",  # log(1 + rank of the playlist for the song)
    "stage1_plain",  # stage 1 with a missing audio profile or genre as a bad match
    "stage1_plain_gap",  # minus the song's best plain score
    "sem_gap",
    "acoustic_z",  # NaN like acoustic
    "log_members",
    "fallback",
    "artist",  # share of the playlist's members by the song's primary artist; NaN: unknown
    "year",  # closeness of release year to the playlist's (in its spread); NaN: unknown
    "popularity",  # NaN: unknown
    "member_z",  # stage 1 against how the playlist's own members score (leave-one-out)
    "colisten",  # the person's co-listening: the song to the members; NaN: unknown
    "artist_sound",  # the song's artist's typical sound to the members' artists'; NaN: unknown
    "artist_genre",  # the same for the artists' genres
    "has_features",  # the song and the playlist have audio features (most library tracks not)
    "has_emotion",
    "has_genre",
    "has_subgenre",
    "has_artist",
    "has_year",
    "has_popularity",
    "has_colisten",
    "has_artist_profile",
)
MIN_POSITIVES = 20
MIN_FLOOR_MEMBERS = 10
MIN_VALIDATION = 20  # validation memberships (and non-member pairs) below which nothing is fitted
BELOW = 2.0  # pairs outside the shortlist sit below every shortlisted pair, in stage-1 order
BLEND_GRID = (0.0, 0.5, 0.8, 1.0)  # ranker_blend candidates (plus the configured one); 0: stage 1
# stage-1 part weights validation keeps only where they beat 0
CHECKED_WEIGHTS = ("name_weight", "emotion_weight", "genre_weight", "colisten_weight",
                   "artist_style_weight")  # fmt: skip
# the person's evidence parts: validation tries these weights (and the configured one, and 0)
WEIGHT_GRIDS = {
    "colisten_weight": ("colisten", (0.25, 0.5, 1.0, 2.0)),
    "artist_style_weight": ("artist_style", (0.1, 0.25, 0.5, 1.0)),
}
# features that go missing together (flag last): in training, MASK_SHARE of the pairs lose
# each group, so the trees learn what a pair without it is worth even when every training
# song has it (else a candidate without audio features takes an arbitrary, untrained branch)
MISSING_GROUPS = (
    ("acoustic", "acoustic_z", "has_features"),
    ("emotion", "has_emotion"),
    ("genre", "has_genre"),
    ("subgenre", "has_subgenre"),
    ("artist", "has_artist"),
    ("year", "has_year"),
    ("popularity", "has_popularity"),
    ("colisten", "has_colisten"),
    ("artist_sound", "artist_genre", "has_artist_profile"),
)
MASK_SHARE = 0.1
TIE = 1e-3  # validation objectives closer than this are a tie: the configured choice stays
# a choice (variant, blend) serves only if its validation MRR and NDCG@10 each stay within this
# of stage 1 as configured: the objective weighs them together, a person reads either view
GUARD = 0.01
TYPE_NEGATIVES = 2000  # catalog tracks outside every playlist the type weights are judged with


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
    validation_mrr: float | None = None  # the objective (below) of the best blend, on validation
    validation_mrr_stage1: float | None = None  # the same objective of stage 1 alone
    # what validation chose: ranker_blend (0: stage 1 serves), the stage-1 part weights, and
    # the validation objective ½(MRR + NDCG@10) of every blend tried
    blend: float | None = None
    blend_mrr: dict[str, float] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    weights_note: str = ""
    # the variant chosen on validation (how a missing part is scored × how the ranker's order
    # is served): each variant's best objective
    variants: dict[str, float] = field(default_factory=dict)
    variant_note: str = ""
    # learned semantic/acoustic weight per playlist type (type_weights.py): served or not, why
    type_weights: dict = field(default_factory=dict)
    type_weights_note: str = ""
    # abstaining ("no good fit"): the score threshold, fitted on validation pairs or not
    abstain_threshold: float | None = None
    abstain_max_rank: int = 0  # and only among the song's best this many playlists (0: any)
    abstain_precision: float | None = None
    abstain_recall: float | None = None
    abstain_pairs: int = 0
    abstain_note: str = ""

    def summary(self) -> str:
        """One line for logs and `sort`: the gate, the chosen blend/weights, abstaining."""
        parts = [self.decision or "stage 1 serves"]
        if self.type_weights_note:
            parts.append(self.type_weights_note)
        if self.weights_note:
            parts.append(self.weights_note)
        if self.variant_note:
            parts.append(f"variant: {self.variant_note}")
        if self.abstain_note:
            parts.append(self.abstain_note)
        return "; ".join(parts)


def _row_stats(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True) + 1e-6
    return matrix.max(axis=1, keepdims=True), mean, std


def pair_known(st1: Stage1, profiles: Profiles, rows: np.ndarray, cols: np.ndarray) -> dict:
    """Per pair, whether each column-derived signal is known: both the song and the playlist
    have what it needs (a signal computed from nothing is unknown, not a bad match)."""
    present = st1.present

    def song(name: str) -> np.ndarray:
        return present[name][rows] if name in present else np.ones(len(rows), dtype=bool)

    uniform = np.full(profiles.emotion_sum.shape[1], 1 / max(profiles.emotion_sum.shape[1], 1))
    emotion_dist = profiles.emotion_sum / np.maximum(
        profiles.emotion_sum.sum(1, keepdims=True), 1e-12
    )
    playlist = {
        "acoustic": profiles.feat_n.sum(axis=1) > 0,
        "emotion": ~np.isclose(emotion_dist, uniform[None, :]).all(axis=1),
        "genre": profiles.genre_counts.sum(axis=1) > 0,
        "subgenre": profiles.subgenre_counts.sum(axis=1) > 0,
    }
    known = {name: song(name) & playlist[name][cols] for name in playlist}
    for name in ("artist", "year", "popularity", "colisten", "artist_sound", "artist_genre"):
        known[name] = np.isfinite(st1.signals[name][rows, cols])
    known["artist_profile"] = known["artist_sound"] | known["artist_genre"]
    return known


def pair_features(
    st1: Stage1,
    profiles: Profiles,
    rows: np.ndarray,
    cols: np.ndarray,
    member_stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Features of the pairs (rows[i], cols[i]) of a songs × playlists Stage1, in FEATURES'
    order. `member_stats`: per playlist, mean and spread of its members' leave-one-out stage-1
    scores (the per-playlist view: is this song as good as the songs already in it?)."""
    score, sig = st1.score, st1.signals
    plain = score if st1.plain is None else st1.plain
    s_max, s_mean, s_std = _row_stats(score)
    ranks = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1)
    sem_max = sig["sem_centroid"].max(axis=1)
    _, ac_mean, ac_std = _row_stats(sig["acoustic"])
    known = pair_known(st1, profiles, rows, cols)

    def value(name: str, values: np.ndarray) -> np.ndarray:
        return np.where(known[name], values, np.nan)

    columns = {
        "sem_centroid": sig["sem_centroid"][rows, cols],
        "sem_name": sig["sem_name"][rows, cols],
        **{
            name: value(name, sig[name][rows, cols])
            for name in ("acoustic", "emotion", "genre", "subgenre")
        },
        "stage1": score[rows, cols],
        "stage1_gap": score[rows, cols] - s_max[rows, 0],
        "stage1_z": (score[rows, cols] - s_mean[rows, 0]) / s_std[rows, 0],
        "stage1_rank": np.log1p(ranks[rows, cols]),
        "stage1_plain": plain[rows, cols],
        "stage1_plain_gap": plain[rows, cols] - plain.max(axis=1)[rows],
        "sem_gap": sig["sem_centroid"][rows, cols] - sem_max[rows],
        "acoustic_z": value(
            "acoustic", (sig["acoustic"][rows, cols] - ac_mean[rows, 0]) / ac_std[rows, 0]
        ),
        "log_members": np.log1p(profiles.count[cols]),
        "fallback": profiles.fallback[cols].astype(float),
        **{name: value(name, sig[name][rows, cols]) for name in ("artist", "year", "popularity")},
        "member_z": _member_z(score[rows, cols], cols, member_stats),
        "colisten": value("colisten", sig["colisten"][rows, cols]),
        "artist_sound": value("artist_sound", sig["artist_sound"][rows, cols]),
        "artist_genre": value("artist_genre", sig["artist_genre"][rows, cols]),
        "has_features": known["acoustic"],
        **{
            f"has_{name}": known[name]
            for name in ("emotion", "genre", "subgenre", "artist", "year", "popularity",
                         "colisten", "artist_profile")
        },
    }
    assert tuple(columns) == FEATURES, "pair_features must build exactly FEATURES, in order"
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns.values()]).astype(
        np.float32
    )


def _member_z(score: np.ndarray, cols: np.ndarray, stats) -> np.ndarray:
    if stats is None:
        return np.full(len(score), np.nan)
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

    `fit` holds back a share of the person's songs (validation; each playlist's songs are
    ranked among them and a like share of the person's songs in no playlist, as the harness
    and a sort see them) and lets them decide, in turn: each stage-1 part weight in
    CHECKED_WEIGHTS is kept only if it beats 0 on them; the variant (a missing part renormalized
    or a bad match; the ranker's order on stage-1 values or blended values) and the ranker
    blend of BLEND_GRID (0 = stage 1 serves) with the best objective ½(MRR + NDCG@10), among
    those within GUARD of stage 1 on each; the abstain threshold is the one with the most
    recall at precision ≥ 0.55 (else the best F0.5) of "fits" over their memberships and their
    best non-member playlists. A challenger to what is configured must win by more than TIE.
    `chosen` is the configuration that results: what `score_matrix` serves with.
    """

    def __init__(self, config: MatchConfig):
        self.config = config
        self.chosen = config
        self.model = None
        self.report = RankerReport(False, "not trained")
        self.floors: np.ndarray | None = None
        self.member_stats: tuple[np.ndarray, np.ndarray] | None = None
        # stage 1's validation (MRR, NDCG@10) as configured: what no choice may lose (GUARD)
        self._floor: tuple[float, float] | None = None

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
        refit_colisten: Callable[[dict[str, set[str]]], np.ndarray] | None = None,
    ) -> RankerReport:
        """Train on memberships (tracks row member_rows[i] is in playlist member_cols[i]).
        `refit_colisten` (lib/colistening.refitter): the person's co-listening vectors for
        `tracks` learned without some memberships ({playlist id: track ids}), so validation
        songs are judged as held-out songs are; without it the given vectors are used."""
        config = self.config
        self._floor = None
        rng = np.random.default_rng(config.seed)
        song_rows = np.unique(member_rows)
        if len(song_rows) > config.max_training_songs:
            song_rows = np.sort(rng.choice(song_rows, config.max_training_songs, replace=False))
        local = np.full(len(tracks), -1)
        local[song_rows] = np.arange(len(song_rows))
        keep = local[member_rows] >= 0
        pos_rows, pos_cols = local[member_rows[keep]], member_cols[keep]

        songs = tracks.take(song_rows)
        knowns = song_knowns(songs, config)
        member = np.zeros((len(songs), len(profiles)), dtype=bool)
        member[pos_rows, pos_cols] = True
        # the person's own validation songs decide the weights, the blend and abstaining
        validation = rng.random(len(songs)) < config.ranker_validation_share
        val_pairs = int(validation[pos_rows].sum())
        checkable = val_pairs >= MIN_VALIDATION and (~validation).sum() >= MIN_POSITIVES
        # what serves: every membership leave-one-out against the whole playlists
        signals = compute_signals(songs, profiles)
        leave_one_out(signals, songs, profiles, pos_rows, pos_cols)
        if refit_colisten is not None and len(pos_rows) >= MIN_POSITIVES:
            _cross_fit_colisten(signals, refit_colisten, tracks, song_rows, profiles,
                                member_rows, member_cols, pos_rows, pos_cols,
                                train=np.ones(len(pos_rows), bool),
                                held=np.zeros(len(pos_rows), bool), seed=config.seed)  # fmt: skip
        # validation ranks each playlist's validation songs among songs from outside every
        # playlist too, drawn at the validation share: the harness (and a person's sort) ranks
        # a playlist's songs among all the person's songs, most of them in no playlist and
        # without features, which decides how a missing part should be scored
        outside = _outside_rows(tracks, member_rows, config) if checkable else song_rows[:0]
        n_songs = len(songs)
        inputs = _SplitInputs(tracks, song_rows, outside, member, profiles, member_rows,
                              member_cols, pos_rows, pos_cols, refit_colisten)  # fmt: skip
        primary = _split(inputs, validation, checkable, config)
        tracks, held = primary.tracks, primary.held
        vsongs, vmember, vvalidation = primary.songs, primary.member, primary.validation
        vknowns = song_knowns(vsongs, config)
        type_fit = None
        starts = [config]
        if checkable and config.validate_choices and config.learn_type_weights:
            type_fit = self._fit_type_weights(
                tracks, song_rows, songs, held[1], {k: v[:n_songs] for k, v in held[0].items()},
                knowns, member, validation,
            )
            if type_fit.serves:
                starts.append(type_fit.config)
        options = []  # (chosen configuration, weights note): the seed table's, the learned
        for start in starts:
            self.chosen, note = start, ""
            if checkable and config.validate_choices:
                self.chosen, note = self._choose_weights(
                    held[0], held[1], vknowns, vmember, vvalidation
                )
            options.append((self.chosen, note))
        self.chosen, weights_note = options[-1]
        chosen_trial = None
        trainable = config.ranker != "none" and len(member_rows) >= MIN_POSITIVES
        if len(options) > 1 and trainable and len(profiles) >= 3:
            # type weights are stage 1's; where the ranker serves over the seed table it
            # weighs the parts per pair itself. Judged against the ranker instead, stage 1 with
            # learned weights won on validation and lost on held-out songs (TidyTuesday:
            # held-out NDCG@10 of what shipped 0.926 → 0.897; the ranker's validation MRR
            # understates its held-out one there, 0.35 vs 0.43)
            seed_trial = self._validation_trial(held, options[0][0], vknowns, vsongs, vmember,
                                                pos_rows, pos_cols, vvalidation, rng)  # fmt: skip
            blend_mrr = seed_trial[2]
            if max(blend_mrr, key=lambda b: (blend_mrr[b], -b)) > 0:
                type_fit.serves, type_fit.config = False, config
                type_fit.note = (
                    "seed type weights serve: the ranker serves over them and weighs the "
                    f"parts per pair itself (stage 1 alone: {type_fit.note})"
                )
                self.chosen, weights_note = options[0]
                chosen_trial = seed_trial
        type_info = {} if type_fit is None else type_fit.as_metadata()
        type_note = "" if type_fit is None else type_fit.note
        variants, variant_note = {}, ""
        if checkable and config.validate_choices and trainable and len(profiles) >= 3:
            # the variant and the blend are chosen on more songs than the weights: one
            # split's choice among 4 variants × 4 blends follows its noise (held-out NDCG@10
            # up to 2 points below the best fixed variant for 2 of 8 person-seeds)
            extra = [_split(inputs, fold, True, config)
                     for fold in _extra_folds(validation, pos_rows, config)]  # fmt: skip
            chosen_trial, vknowns, variants, variant_note = self._choose_variant(
                chosen_trial, primary, vknowns, extra, pos_rows, pos_cols, rng
            )
            knowns = song_knowns(songs, self.chosen)
        st1 = combine(signals, profiles, self.chosen, knowns)
        st1.present = song_presence(songs)
        self.floors = member_floors(
            st1.score, pos_rows, pos_cols, len(profiles), config.abstain_quantile
        )
        self.member_stats = member_score_stats(st1.score, pos_rows, pos_cols, len(profiles))
        view = None
        if held is not None:
            view = _view(held, self.chosen, vknowns, vsongs, pos_rows, pos_cols, config)
        # abstaining is fitted on the validation songs themselves, as the harness judges it
        member_validation = np.concatenate([validation, np.zeros(len(outside), bool)])
        weights = {name: getattr(self.chosen, name) for name in CHECKED_WEIGHTS}
        untrained = None
        if config.ranker == "none":
            untrained = "disabled by config"
        elif len(member_rows) < MIN_POSITIVES or len(profiles) < 3:
            untrained = (
                f"too little to learn from ({len(member_rows)} memberships, {len(profiles)} "
                f"playlists; need {MIN_POSITIVES} and 3)"
            )
        if untrained is not None:
            self.chosen = replace(self.chosen, ranker_blend=0.0)
            report = RankerReport(False, untrained, validation_memberships=val_pairs,
                                  weights=weights, weights_note=weights_note, variants=variants,
            variant_note=variant_note,
                                  type_weights=type_info, type_weights_note=type_note)  # fmt: skip
            self._calibrate(report, None, view, vmember, member_validation)
            self.report = report
            return report
        hard = _hard_negatives(st1.score, member, config.hard_negatives)

        if view is not None:
            if chosen_trial is None:
                chosen_trial = self._validation_trial(held, self.chosen, vknowns, vsongs,
                                                      vmember, pos_rows, pos_cols, vvalidation,
                                                      rng)  # fmt: skip
            view, model, blend_mrr, rng, blend_items = chosen_trial
            floor = self._floor or _floor(blend_items)
            blend = _best_blend(blend_mrr, blend_items, floor) or 0.0
            unguarded = max(blend_mrr, key=lambda b: (blend_mrr[b], -b))  # ties: less ranker
            mrr_stage1 = blend_mrr[0.0]
            mrr_ranker = max(v for b, v in blend_mrr.items() if b > 0)
            serves = blend > 0
            losing = _losing(blend, blend_items, config.seed) if serves else ""
            refused = ""
            if losing:  # better on the objective, clearly worse on one of its halves
                serves, blend, refused = False, 0.0, losing
            elif unguarded != blend and not serves:
                refused = (
                    f"the ranker at blend {unguarded:g} (validation ½(MRR + NDCG@10) "
                    f"{blend_mrr[unguarded]:.3f} vs {mrr_stage1:.3f}) loses MRR or NDCG@10 to "
                    f"stage 1 by over {GUARD:g}"
                )
        else:
            model, blend_mrr = None, {}
            mrr_ranker = mrr_stage1 = None
            blend = config.ranker_blend
            serves = True  # too few songs to hold any back: trust the ranker, say so
        self.chosen = replace(self.chosen, ranker_blend=blend if serves else 0.0)
        self.model = self._train(
            st1,
            profiles,
            member,
            hard,
            pos_rows,
            pos_cols,
            np.ones(len(songs), bool),
            rng,
            self.member_stats,
        )
        labels = self._labels
        prob = self.model.predict_proba(self._features)[:, 1]
        eps = 1e-7
        logloss = -np.mean(labels * np.log(prob + eps) + (1 - labels) * np.log(1 - prob + eps))
        if mrr_ranker is None:
            decision = (
                f"the ranker serves at blend {blend:g} (under {MIN_VALIDATION} validation "
                "memberships to check)"
            )
        elif serves:
            decision = (
                f"the ranker serves: validation ½(MRR + NDCG@10) {blend_mrr[blend]:.3f} at "
                f"blend {blend:g} vs stage 1 {mrr_stage1:.3f}"
            )
        elif refused:
            decision = f"stage 1 serves: {refused}"
        else:
            decision = (
                f"stage 1 serves: the ranker's validation ½(MRR + NDCG@10) {mrr_ranker:.3f} "
                f"is not above stage 1's {mrr_stage1:.3f}"
            )
        report = RankerReport(
            True, "trained", len(songs), len(labels), int(labels.sum()), float(logloss),
            serves=serves, decision=decision, validation_memberships=val_pairs,
            validation_mrr=mrr_ranker, validation_mrr_stage1=mrr_stage1,
            blend=self.chosen.ranker_blend,
            blend_mrr={f"{b:g}": round(v, 4) for b, v in sorted(blend_mrr.items())},
            weights=weights, weights_note=weights_note, variants=variants,
            variant_note=variant_note,
            type_weights=type_info, type_weights_note=type_note,
        )  # fmt: skip
        self._calibrate(report, model if serves else None, view, vmember, member_validation)
        self.report = report
        return report

    def _choose_variant(self, trial, primary: _Split, knowns, extra: list[_Split], pos_rows,
                        pos_cols, rng):  # fmt: skip
        """How a part a song lacks is scored (missing, or a bad match) × how the ranker's
        order is served (on the song's stage-1 values, or as the blended value): the variant
        whose best blend scores highest on the validation objective (over the primary split
        and the `extra` ones, pooled) serves, unless it loses MRR or NDCG@10 to the configured
        one beyond chance. (trial, knowns, objectives, note) of the one that serves; the
        trial's objective and items are pooled; `self.chosen` follows it."""

        def run(config, split, split_knowns):
            return self._validation_trial(split.held, config, split_knowns, split.songs,
                                          split.member, pos_rows, pos_cols, split.validation,
                                          rng)  # fmt: skip

        def pooled(config, first, first_knowns):
            first = first or run(config, primary, first_knowns)
            return _pooled([first, *(run(config, s, song_knowns(s.songs, config)) for s in extra)])

        base = self.chosen
        trial = pooled(base, trial, knowns)
        tried = {_variant_name(base): (base, trial, knowns)}
        for renormalize, keeps in ((not base.renormalize_missing, base.ranker_keeps_scale),
                                   (base.renormalize_missing, not base.ranker_keeps_scale),
                                   (not base.renormalize_missing, not base.ranker_keeps_scale)):  # fmt: skip
            config = replace(base, renormalize_missing=renormalize, ranker_keeps_scale=keeps)
            config_knowns = knowns if renormalize == base.renormalize_missing else song_knowns(
                primary.songs, config)  # fmt: skip
            tried[_variant_name(config)] = (config, pooled(config, None, config_knowns),
                                            config_knowns)  # fmt: skip

        self._floor = floor = _floor(trial[4])

        def best(t) -> float | None:
            return _best_blend(t[2], t[4], floor)

        values = {name: t[2][best(t)] for name, (_, t, _) in tried.items() if best(t) is not None}
        objectives = {name: round(v, 4) for name, v in values.items()}
        mine = _variant_name(base)
        winner = max(values, key=lambda n: values[n] - (0 if n == mine else TIE))
        listed = ", ".join(f"{n} {v:.3f}" for n, v in values.items())
        if len(values) < len(tried):
            listed += f"; {len(tried) - len(values)} lose MRR or NDCG@10 to stage 1 by over {GUARD:g}"
        if extra:
            listed += f"; over {1 + len(extra)} validation splits, {len(trial[4][0.0][0])} memberships"
        if winner == mine:
            return trial, knowns, objectives, f"{mine} serves ({listed})"
        config, other, other_knowns = tried[winner]
        items = {0.0: trial[4][best(trial)], 1.0: other[4][best(other)]}
        losing = _losing(1.0, items, self.config.seed).replace("the ranker at blend 1", winner)
        if losing:
            return trial, knowns, objectives, f"{mine} serves: {losing} ({listed})"
        self.chosen = config
        return other, other_knowns, objectives, f"{winner} serves ({listed})"

    def _validation_trial(self, held, chosen, knowns, songs, member, pos_rows, pos_cols,
                          validation, rng):  # fmt: skip
        """(view, model, validation objective per blend, generator after, per-item scores per
        blend) of a ranker trained on the training songs over stage 1 with `chosen`; `rng`
        itself is left as it was, so that trying two configurations draws what trying one
        would."""
        config = self.config
        rng = copy.deepcopy(rng)
        view = _view(held, chosen, knowns, songs, pos_rows, pos_cols, config)
        val_hard = _hard_negatives(view.st1.score, member, config.hard_negatives)
        model = self._train(view.st1, view.profiles, member, val_hard, pos_rows, pos_cols,
                            ~validation, rng, view.member_stats)  # fmt: skip
        objective, items = self._blend_mrr(model, view, member, validation, chosen)
        return view, model, objective, rng, items

    def _fit_type_weights(self, tracks, song_rows, songs, profiles, signals, knowns, member,
                          validation):  # fmt: skip
        """Type weights fitted and validated as the harness judges them: each playlist's
        songs are ranked against songs from outside every playlist too (up to
        TYPE_NEGATIVES catalog tracks, split between training and validation like the
        person's songs): they are most of what a playlist's suggestions are chosen from."""
        config = self.config
        rng = np.random.default_rng(config.seed + 1)
        outside = np.setdiff1d(np.arange(len(tracks)), song_rows)
        if len(outside) > TYPE_NEGATIVES:
            outside = np.sort(rng.choice(outside, TYPE_NEGATIVES, replace=False))
        if len(outside):
            extra = tracks.take(outside)
            extra_signals = compute_signals(extra, profiles)
            extra_known = song_knowns(extra, config)
            signals = {k: np.concatenate([v, extra_signals[k]]) for k, v in signals.items()}
            knowns = {k: np.concatenate([v, extra_known[k]]) for k, v in knowns.items()}
            member = np.vstack([member, np.zeros((len(outside), member.shape[1]), bool)])
            extra_validation = rng.random(len(outside)) < config.ranker_validation_share
            validation = np.concatenate([validation, extra_validation])
        return fit_type_weights(signals, profiles, knowns, member, ~validation, validation,
                                config, rng)  # fmt: skip

    def _choose_weights(self, signals, profiles, knowns, member, validation):
        """The person's evidence weights from WEIGHT_GRIDS, then each stage-1 part weight in
        CHECKED_WEIGHTS (in turn) stays only if stage 1 with it does better on the validation
        songs (½(MRR + NDCG@10), the gate's objective) than with it at 0."""
        rows = _judged(member, validation, self.config.seed)
        sub_signals = {name: values[rows.rows] for name, values in signals.items()}
        sub_known = {name: values[rows.rows] for name, values in knowns.items()}

        def judged(config: MatchConfig) -> float:
            return rows.objective(combine(sub_signals, profiles, config, sub_known).score)

        chosen, dropped = self.chosen, []  # after the learned type weights, if they serve
        current = judged(chosen)
        for name, (part, grid) in WEIGHT_GRIDS.items():
            configured = getattr(chosen, name)
            if configured <= 0 or part not in sub_known or not sub_known[part].any():
                continue
            tried = {w: judged(replace(chosen, **{name: w})) for w in sorted({*grid, configured})}
            best = max(tried, key=lambda w: (tried[w], -abs(w - configured)))
            if tried[best] > current + TIE:
                chosen, current = replace(chosen, **{name: best}), tried[best]
        for name in CHECKED_WEIGHTS:
            if getattr(chosen, name) <= 0:
                continue
            without = replace(chosen, **{name: 0.0})
            zero = judged(without)
            if zero > current + TIE:  # a tie keeps the configured weight
                dropped.append(f"{name} {getattr(chosen, name):g}→0 ({zero:.3f} vs {current:.3f})")
                chosen, current = without, zero
        note = (
            "stage-1 weights not above 0 on validation ½(MRR + NDCG@10): " + ", ".join(dropped)
            if dropped
            else "stage-1 weights each beat 0 on validation"
        )
        return chosen, note

    def _train(self, st1, profiles, member, hard, pos_rows, pos_cols, use, rng, member_stats):
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
        self._features = mask_groups(pair_features(st1, profiles, rows, cols, member_stats), rng)
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
            # exact: a split sits halfway between the values it separates, not on the
            # lowest member value (hist's cut). A leave-one-out share is k/(n-1) where a new
            # song's is k/n: split on the cut, a new song with one fellow by its artist in a
            # playlist scored as one with none (held-out MRR 0.55 vs validation 0.78)
            tree_method="exact",
        )
        model.fit(self._features, self._labels)
        return model

    def _served(self, model, blend, view: _View, songs) -> np.ndarray:
        """The validation songs' scores as `score_matrix` would serve them: the ranker blended
        on each song's shortlist (with `model`), below it stage 1 minus BELOW."""
        score = view.st1.score[songs].astype(np.float64)
        short = np.zeros(score.shape, dtype=bool)
        short[np.arange(len(songs))[:, None], top_indices(score, self.config.rerank_depth)] = True
        served = score - BELOW
        served[short] = score[short]
        if model is not None and blend > 0:
            r, c = np.nonzero(short)
            features = pair_features(view.st1, view.profiles, songs[r], c, view.member_stats)
            prob = model.predict_proba(features)[:, 1]
            served[r, c] = serve_blend(score[r, c], prob, blend, r,
                                       self.chosen.ranker_keeps_scale)  # fmt: skip
        return served

    def _blend_mrr(self, model, view: _View, member, validation, chosen: MatchConfig
                   ) -> tuple[dict, dict]:  # fmt: skip
        """The validation objective at each blend (0: stage 1): ½ (filtered MRR of the
        validation songs' own playlists + NDCG@10 of each playlist's validation songs among
        all of them), the two views the harness reports; with the per-item (reciprocal
        ranks, NDCGs) at each blend for the intervals of `_losing`."""
        judged = _judged(member, validation, self.config.seed)
        score = np.where(judged.known, -np.inf, view.st1.score[judged.rows].astype(np.float64))
        short = np.zeros(score.shape, dtype=bool)
        short[np.arange(len(score))[:, None], top_indices(score, self.config.rerank_depth)] = True
        short &= ~judged.known
        r, c = np.nonzero(short)
        prob = model.predict_proba(
            pair_features(view.st1, view.profiles, judged.rows[r], c, view.member_stats)
        )
        out, items = {}, {}
        grid = BLEND_GRID if self.config.validate_choices else (0.0,)
        for blend in sorted({*grid, self.config.ranker_blend}):
            served = score - BELOW
            served[r, c] = serve_blend(score[r, c], prob[:, 1], blend, r,
                                       chosen.ranker_keeps_scale)  # fmt: skip
            reciprocal, ndcgs = judged.figures(served)
            items[float(blend)] = (reciprocal, ndcgs)
            mrr = float(reciprocal.mean()) if len(reciprocal) else 0.0
            ndcg = float(ndcgs.mean()) if len(ndcgs) else 0.0
            out[float(blend)] = 0.5 * (mrr + ndcg)
        return out, items

    def _calibrate(self, report, model, view: _View | None, member, validation):
        """The abstain threshold from the validation songs (see `calibrate_abstain`), served
        as chosen; too few pairs: the configured `abstain_below`, said so."""
        config = self.config
        if not config.validate_choices:
            self._abstain_default(report, "validate_choices is off")
            return
        if view is None:
            self._abstain_default(report, "too few validation memberships")
            return
        songs = np.nonzero(validation)[0]
        served = self._served(model, self.chosen.ranker_blend, view, songs)
        truth = member[songs]
        eligible = view.st1.score[songs] >= view.floors[None, :]
        fitted, max_rank, pairs = fit_abstain_rule(served, truth, eligible, config.top_n)
        if fitted is None:
            self._abstain_default(report, f"under {MIN_VALIDATION} validation pairs of each kind")
            return
        threshold, precision, recall = fitted
        report.abstain_threshold = threshold
        report.abstain_max_rank = max_rank
        report.abstain_precision, report.abstain_recall = precision, recall
        report.abstain_pairs = pairs
        limit = f" among its best {max_rank} playlists" if max_rank else ""
        fitted_text = (
            f"{threshold:.3f}{limit} ({_rule_kind(precision)} on {report.abstain_pairs} "
            "validation pairs: "
            f"precision {precision:.2f}, recall {recall:.2f})"
        )
        if config.fit_abstain:
            self.chosen = replace(self.chosen, abstain_below=threshold, abstain_max_rank=max_rank)
            report.abstain_note = f"fits from score {fitted_text}"
        else:
            report.abstain_note = (
                f"fits from score {config.abstain_below:g} (fit_abstain off; fitted: {fitted_text})"
            )

    def _abstain_default(self, report: RankerReport, why: str) -> None:
        report.abstain_threshold = self.config.abstain_below
        report.abstain_note = f"fits from score {self.config.abstain_below:g} (the default: {why})"

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
        """Per-feature SHAP contributions (log-odds) in FEATURES' order, last column the bias."""
        import xgboost as xgb

        return self.model.get_booster().predict(xgb.DMatrix(features), pred_contribs=True)


@dataclass
class _View:
    """Stage 1 for the ranker's songs against some profiles, with the member statistics
    (`member_score_stats`, `member_floors`) of the memberships those profiles hold."""

    st1: Stage1
    profiles: Profiles
    member_stats: tuple[np.ndarray, np.ndarray]
    floors: np.ndarray


def _view(held, config, knowns, songs, pos_rows, pos_cols, base: MatchConfig) -> _View:
    """The validation view: stage 1 (at `config`'s weights) against the profiles without the
    validation songs; member statistics over the training songs' memberships only."""
    signals, profiles, train = held
    st1 = combine(signals, profiles, config, knowns)
    st1.present = song_presence(songs)
    rows, cols = pos_rows[train], pos_cols[train]
    return _View(
        st1,
        profiles,
        member_score_stats(st1.score, rows, cols, len(profiles)),
        member_floors(st1.score, rows, cols, len(profiles), base.abstain_quantile),
    )


@dataclass
class _SplitInputs:
    """What every validation split of one `fit` is cut from."""

    tracks: TrackArrays
    song_rows: np.ndarray  # rows of `tracks` the ranker learns from (its songs)
    outside: np.ndarray  # rows of `tracks` in no playlist, validation songs of every split
    member: np.ndarray  # songs × playlists
    profiles: Profiles
    member_rows: np.ndarray
    member_cols: np.ndarray
    pos_rows: np.ndarray  # memberships as (song, playlist)
    pos_cols: np.ndarray
    refit_colisten: Callable[[dict[str, set[str]]], np.ndarray] | None


@dataclass
class _Split:
    """One validation split: the songs (the ranker's, then `outside`), which are validation
    songs, and `held` = (signals, profiles, training memberships) with the validation songs'
    memberships out of the profiles (and of co-listening); None when nothing is checkable."""

    tracks: TrackArrays  # with the split's co-listening vectors
    songs: TrackArrays
    member: np.ndarray
    validation: np.ndarray
    held: tuple | None


def _split(inputs: _SplitInputs, validation: np.ndarray, checkable: bool,
           config: MatchConfig) -> _Split:  # fmt: skip
    """What validation on the songs marked `validation` sees: the playlists without any
    validation song, so those are scored as new songs are (leave-one-out kept the other
    validation songs in the profiles, and member statistics over all songs: it overstated
    held-out scores); the training songs leave-one-out against those playlists. Each
    playlist's validation songs are ranked among songs from outside every playlist too (the
    harness, and a person's sort, rank a playlist's songs among all the person's songs, most
    of them in no playlist and without features, which decides how a missing part should be
    scored)."""
    i = inputs
    tracks, profiles, pos_rows, pos_cols = i.tracks, i.profiles, i.pos_rows, i.pos_cols
    vrows = np.concatenate([i.song_rows, i.outside])
    songs = tracks.take(vrows)
    member = np.vstack([i.member, np.zeros((len(i.outside), len(profiles)), bool)])
    vvalidation = np.concatenate([validation, np.ones(len(i.outside), bool)])
    if not checkable:
        return _Split(tracks, songs, member, vvalidation, None)
    out = validation[pos_rows]
    val_profiles = profiles
    if i.refit_colisten is not None:  # nor may their memberships teach co-listening
        vectors = i.refit_colisten(_pairs_by_playlist(
            tracks.track_ids[i.song_rows[pos_rows[out]]], pos_cols[out], profiles))  # fmt: skip
        tracks = tracks.with_colisten(vectors)  # the type weights' extra songs too
        songs = songs.with_colisten(vectors[vrows])
        val_profiles = profiles.with_colisten(vectors, i.member_rows, i.member_cols)
    held_profiles = val_profiles.without(songs, pos_rows[out], pos_cols[out])
    held_signals = compute_signals(songs, held_profiles)
    leave_one_out(held_signals, songs, held_profiles, pos_rows[~out], pos_cols[~out])
    if i.refit_colisten is not None:
        _cross_fit_colisten(held_signals, i.refit_colisten, i.tracks, i.song_rows, profiles,
                            i.member_rows, i.member_cols, pos_rows, pos_cols, train=~out,
                            held=out, seed=config.seed)  # fmt: skip
    return _Split(tracks, songs, member, vvalidation, (held_signals, held_profiles, ~out))


def _extra_folds(validation: np.ndarray, pos_rows: np.ndarray,
                 config: MatchConfig) -> list[np.ndarray]:  # fmt: skip
    """`config.validation_folds − 1` more validation masks over the ranker's songs, disjoint
    from `validation` and each other and as large (each song validated at most once), with
    a generator of their own so the other draws stay as they were; a fold with under
    MIN_VALIDATION memberships is left out."""
    share = config.ranker_validation_share
    if config.validation_folds <= 1 or not 0 < share < 1:
        return []
    step = share / (1 - share)  # of the songs left after the primary split
    n = min(config.validation_folds - 1, int(1 / step + 1e-9))
    u = np.random.default_rng(config.seed + 4).random(len(validation))
    folds = [~validation & (u >= k * step) & (u < (k + 1) * step) for k in range(n)]
    return [f for f in folds if f[pos_rows].sum() >= MIN_VALIDATION]


def _pooled(trials: list[tuple]) -> tuple:
    """One trial from several splits' (same configuration): the first split's view, model
    and generator; the objective and per-item figures over all their validation songs."""
    first = trials[0]
    items = {
        blend: tuple(np.concatenate([t[4][blend][k] for t in trials]) for k in (0, 1))
        for blend in first[4]
    }
    objectives = {b: 0.5 * (_mean(r) + _mean(n)) for b, (r, n) in items.items()}
    return first[0], first[1], objectives, first[3], items


def serve_blend(
    stage1: np.ndarray, prob: np.ndarray, blend: float, rows: np.ndarray, keeps_scale: bool
) -> np.ndarray:
    """The served scores of shortlisted pairs (song rows `rows`): blend · ranker probability +
    (1 − blend) · stage 1 orders each song's pairs; with `keeps_scale` the song's own stage-1
    values are handed out in that order, so a score still compares across songs (what a
    playlist's list of songs and the abstain threshold read) while the song's playlists come
    in the ranker's order."""
    mixed = blend * prob + (1 - blend) * stage1
    if not keeps_scale or blend <= 0 or not len(rows):
        return mixed
    by_mixed = np.lexsort((-mixed, rows))  # each song's pairs together, best first
    by_stage1 = np.lexsort((-stage1, rows))
    out = np.empty(len(stage1), dtype=np.float64)
    out[by_mixed] = stage1[by_stage1]
    return out


def _floor(items: dict) -> tuple[float, float]:
    """Stage 1's (MRR, NDCG@10) on validation, from a trial's per-item figures at blend 0."""
    reciprocal, ndcgs = items[0.0]
    return _mean(reciprocal), _mean(ndcgs)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def _best_blend(objectives: dict, items: dict, floor: tuple[float, float]) -> float | None:
    """The blend with the best validation objective among those whose MRR and NDCG@10 each
    stay within GUARD of `floor` (ties: less ranker); None when none does."""
    ok = [b for b in objectives
          if _mean(items[b][0]) >= floor[0] - GUARD and _mean(items[b][1]) >= floor[1] - GUARD]  # fmt: skip
    return max(ok, key=lambda b: (objectives[b], -b)) if ok else None


def _variant_name(config: MatchConfig) -> str:
    missing = "renormalized" if config.renormalize_missing else "missing as a bad match"
    return f"{missing}, {'on stage-1 values' if config.ranker_keeps_scale else 'blended values'}"


def _outside_rows(tracks: TrackArrays, member_rows: np.ndarray, config: MatchConfig) -> np.ndarray:
    """Rows of `tracks` in no playlist, drawn at the validation share (at most
    TYPE_NEGATIVES), with a generator of their own so the other draws stay as they were."""
    outside = np.setdiff1d(np.arange(len(tracks)), member_rows)
    rng = np.random.default_rng(config.seed + 2)
    outside = outside[rng.random(len(outside)) < config.ranker_validation_share]
    if len(outside) > TYPE_NEGATIVES:
        outside = np.sort(rng.choice(outside, TYPE_NEGATIVES, replace=False))
    return outside


def _hard_negatives(score: np.ndarray, member: np.ndarray, k: int) -> np.ndarray:
    """Per song, its k best-scoring playlists it is not in."""
    return np.argsort(-np.where(member, -np.inf, score), axis=1)[:, :k]


CROSS_FOLDS = 3  # co-listening refits per training signal set (see _cross_fit_colisten)


def _pairs_by_playlist(track_ids, cols, profiles: Profiles) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for track_id, col in zip(track_ids, cols, strict=True):
        out.setdefault(profiles.playlist_ids[col], set()).add(track_id)
    return out


def _cross_fit_colisten(signals, refit, tracks, song_rows, profiles, member_rows, member_cols,
                        pos_rows, pos_cols, train, held, seed) -> None:  # fmt: skip
    """Overwrite the co-listening signal of the training pairs (`train`, pairs of local song
    rows × playlists) with values from vectors learned without the pair's own fold of
    memberships (and without the `held` pairs): a song's vector learned with its membership
    remembers it, so the ranker learned a co-listening signal no new song ever shows.
    CROSS_FOLDS refits; in place."""
    rng = np.random.default_rng(seed + 3)
    fold = rng.integers(0, CROSS_FOLDS, len(pos_rows))
    ids = tracks.track_ids[song_rows]
    for f in range(CROSS_FOLDS):
        mine = train & (fold == f)
        if not mine.any():
            continue
        out = mine | held
        vectors = refit(_pairs_by_playlist(ids[pos_rows[out]], pos_cols[out], profiles))
        songs_f = tracks.take(song_rows).with_colisten(vectors[song_rows])
        profiles_f = profiles.with_colisten(vectors, member_rows, member_cols)
        if held.any():
            profiles_f = profiles_f.without(songs_f, pos_rows[held], pos_cols[held])
        rows, cols = pos_rows[mine], pos_cols[mine]
        n = profiles_f.count[cols] - 1
        ok = n >= 1
        values = colisten_unit.leave_one_out(songs_f, profiles_f, rows[ok], cols[ok], n[ok])
        if "colisten" in values:
            signals["colisten"][rows[ok], cols[ok]] = values["colisten"]


@dataclass
class _Judged:
    """What validation reads, as the harness reads held-out songs: each validation song's
    playlists (filtered MRR), and each playlist's validation songs among PLAYLIST_NEGATIVES
    sampled non-members (NDCG@10) drawn from *all* the person's songs, the ranker's own
    training songs included (their own playlists masked), as a sort chooses a playlist's
    suggestions among them. Ranked among validation songs only, the NDCG side never met a
    song the ranker had trained on: validation chose F · 42's missing-as-bad variant by
    +0.029 and it was 2.6 NDCG points worse held out."""

    rows: np.ndarray  # into the split's songs: validation songs first, then training songs
    n_validation: int
    known: np.ndarray  # rows × playlists: a training song's own playlists (not candidates)
    truth: np.ndarray  # rows × playlists: the validation memberships
    pool: np.ndarray  # rows × playlists: what each playlist's NDCG ranks

    def figures(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(reciprocal ranks of the validation memberships, NDCG@10 per playlist)."""
        n = self.n_validation
        reciprocal = filtered_reciprocal_ranks(scores[:n], self.truth[:n])
        return reciprocal, playlist_ndcgs(np.where(self.pool, scores, -np.inf), self.truth)

    def objective(self, scores: np.ndarray) -> float:
        """What validation maximizes: ½ (MRR + NDCG@10), the two views of the same scores the
        harness reports (a song's playlists; a playlist's songs)."""
        reciprocal, ndcgs = self.figures(np.where(self.known, -np.inf, scores))
        return 0.5 * (_mean(reciprocal) + _mean(ndcgs))


def _judged(member: np.ndarray, validation: np.ndarray, seed: int) -> _Judged:
    """The same songs and sampled non-members for every configuration judged on one split
    (paired comparisons), from a generator of their own."""
    order = np.concatenate([np.nonzero(validation)[0], np.nonzero(~validation)[0]])
    is_validation = np.arange(len(order)) < int(validation.sum())
    rows_member = member[order]
    known = rows_member & ~is_validation[:, None]
    truth = rows_member & is_validation[:, None]
    rng = np.random.default_rng(seed + 5)
    pool = sampled_candidates(rows_member, truth, PLAYLIST_NEGATIVES, rng)
    return _Judged(order, int(validation.sum()), known, truth, pool)


def _losing(blend: float, items: dict, seed: int) -> str:
    """Why the ranker at `blend` must not serve although its objective is higher: it loses
    MRR or NDCG@10 to stage 1 by more than chance allows (95% CI of the paired difference
    below 0); "" when it loses neither."""
    if blend not in items or 0.0 not in items:
        return ""
    for name, index in (("MRR", 0), ("NDCG@10", 1)):
        diff = paired_difference(items[blend][index], items[0.0][index], seed=seed)
        if diff.n and diff.hi < 0:
            return f"the ranker at blend {blend:g} loses validation {name} {diff.text()}"
    return ""


def mask_groups(features: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Training features with each MISSING_GROUPS group dropped (values NaN, flag 0) on a
    random MASK_SHARE of the rows."""
    out = features.copy()
    for group in MISSING_GROUPS:
        drop = rng.random(len(out)) < MASK_SHARE
        *values, flag = (FEATURES.index(name) for name in group)
        for column in values:
            out[drop, column] = np.nan
        out[drop, flag] = 0.0
    return out


ABSTAIN_RANKS = (1, 2, 3, 0)  # "fits" only among a song's best r playlists (0: any), tried


def fit_abstain_rule(
    served: np.ndarray, truth: np.ndarray, eligible: np.ndarray, top_n: int
) -> tuple[tuple[float, float, float] | None, int, int]:
    """The "fits" rule with the best rule_quality on validation songs: a score threshold, and a limit
    to the song's best r playlists (ABSTAIN_RANKS) — a score is read against the song's other
    playlists, which a threshold alone cannot. Positives: the songs' memberships; negatives:
    the playlists a person would be shown instead (each song's best `top_n` others; random
    ones are easy to refuse and made the rule too lenient). ((threshold, precision, recall)
    or None with too few pairs, rank limit, pairs)."""
    top = top_indices(np.where(truth, -np.inf, served), top_n)
    neg = np.zeros(truth.shape, dtype=bool)
    neg[np.arange(len(served))[:, None], top] = True
    neg &= ~truth
    fitted, max_rank = None, 0
    for rank in ABSTAIN_RANKS:
        ok = eligible & within_rank(served, rank)
        found = calibrate_abstain(np.where(ok, served, -np.inf)[truth],
                                  np.where(ok, served, -np.inf)[neg])  # fmt: skip
        if found is not None and _quality(found) > _quality(fitted) + 1e-9:
            fitted, max_rank = found, rank
    return fitted, max_rank, int(truth.sum() + neg.sum())


def within_rank(scores: np.ndarray, rank: int) -> np.ndarray:
    """(S, P) whether each pair is among its song's best `rank` playlists (0: all)."""
    if rank <= 0 or rank >= scores.shape[1]:
        return np.ones(scores.shape, dtype=bool)
    out = np.zeros(scores.shape, dtype=bool)
    out[np.arange(len(scores))[:, None], top_indices(scores, rank)] = True
    return out


# "fits" weighs precision twice as much as recall (F0.5): a wrong "fits" costs a person's
# trust more than a missed one; with F1, for people whose songs fit several playlists the best
# rule was "everything fits" (held-out precision 0.2)
ABSTAIN_BETA = 0.5


def f_score(precision, recall, beta: float = ABSTAIN_BETA):
    """F-beta of precision and recall (arrays or floats); 0 where both are 0."""
    b2 = beta * beta
    denom = b2 * np.asarray(precision) + np.asarray(recall)
    return np.where(denom > 0, (1 + b2) * precision * recall / np.maximum(denom, 1e-12), 0.0)


# "fits" should be right at least half the time: among the rules that reach this precision on
# validation songs the one with the most recall serves; only when none does, the best F0.5.
# A little above one half, as a rule chosen on validation reads a little worse on new songs.
ABSTAIN_MIN_PRECISION = 0.55


def _rule_kind(precision: float) -> str:
    if precision >= ABSTAIN_MIN_PRECISION:
        return f"the most recall at precision ≥ {ABSTAIN_MIN_PRECISION}"
    return f"no rule reaches precision {ABSTAIN_MIN_PRECISION}: best F0.5"


def rule_quality(precision, recall):
    """What a "fits" rule is chosen on (arrays or floats): 1 + recall for a rule precise
    enough (ABSTAIN_MIN_PRECISION), else its F0.5 (below 1): a precise-enough rule always wins."""
    precision, recall = np.asarray(precision), np.asarray(recall)
    return np.where(precision >= ABSTAIN_MIN_PRECISION, 1.0 + recall, f_score(precision, recall))


def _quality(fitted: tuple[float, float, float] | None) -> float:
    """rule_quality of a fitted rule's (threshold, precision, recall); -1 for none."""
    return -1.0 if fitted is None else float(rule_quality(fitted[1], fitted[2]))


def calibrate_abstain(
    pos_scores: np.ndarray, neg_scores: np.ndarray, min_pairs: int = MIN_VALIDATION
) -> tuple[float, float, float] | None:
    """(threshold, precision, recall) of "fits when score >= threshold" with the best
    rule_quality (the most recall at ABSTAIN_MIN_PRECISION, else the best F0.5) of member
    pairs (positives) against non-member pairs (negatives);
    ties go to the higher threshold (fewer, surer suggestions). -inf scores never fit (below
    a playlist's floor). None with fewer than `min_pairs` of either kind: too few to fit on."""
    pos = np.asarray(pos_scores, dtype=np.float64)
    neg = np.asarray(neg_scores, dtype=np.float64)
    if len(pos) < min_pairs or len(neg) < min_pairs:
        return None
    candidates = np.unique(np.concatenate([pos, neg]))
    candidates = candidates[np.isfinite(candidates)]
    if not len(candidates):
        return None
    pos_sorted, neg_sorted = np.sort(pos), np.sort(neg)
    tp = len(pos) - np.searchsorted(pos_sorted, candidates, side="left")
    fp = len(neg) - np.searchsorted(neg_sorted, candidates, side="left")
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / len(pos)
    score = np.where(tp > 0, rule_quality(precision, recall), 0.0)
    best = len(score) - 1 - int(np.argmax(score[::-1]))  # the highest threshold among the best
    # a threshold halfway to the next lower score: as separating, less tied to one value
    below = candidates[best - 1] if best > 0 else candidates[best]
    threshold = float(candidates[best]) if best == 0 else float((candidates[best] + below) / 2)
    return threshold, float(precision[best]), float(recall[best])
