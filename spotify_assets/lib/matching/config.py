"""Matching settings; their hash is part of every match context, so a change recomputes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.playlists.types import TYPE_WEIGHTS


@dataclass(frozen=True)
class MatchConfig:
    # stage 1: semantic = (1 - name_weight) · centroid similarity + name_weight · name similarity
    name_weight: float = 0.3
    emotion_weight: float = 0.1
    genre_weight: float = 0.15
    # the person's co-listening (lib/colistening): how close the song sits to the playlist's
    # members in what they put and play together; validation keeps it only where it helps
    colisten_weight: float = 0.5
    # the song's artist's typical sound and genres (lib/catalog/artists), lower than the
    # song's own evidence; validation keeps it only where it helps
    artist_style_weight: float = 0.25
    # a part the song lacks (no audio features, no genre) is missing, not a bad match: its
    # weight goes to the known parts (signals.combine); False scores it as before (acoustic
    # as a distant match, genre as no overlap)
    renormalize_missing: bool = True
    type_weights: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(TYPE_WEIGHTS))
    # fit the type weights (and the emotion and genre weights) on the person's training songs,
    # served only if they beat `type_weights` (the prior) on the validation songs
    # (lib/matching/type_weights.py); needs validate_choices
    learn_type_weights: bool = True
    top_n: int = 5  # playlists kept per song
    top_k: int = 20  # songs kept per playlist
    # stage 2
    rerank_depth: int = 30  # playlists per song the cross-encoder and ranker look at
    ranker: str = "xgboost"  # xgboost | none
    # share of the training songs held back: the ranker serves only if it beats stage 1 on them
    ranker_validation_share: float = 0.2
    # the variant and the blend are chosen over this many disjoint validation splits of that
    # share (pooled; the weights and abstaining on the first): one split's choice among 16
    # follows its noise. Measured with 3 on the four exports it did not help (README: F · 42
    # and H · 42 still over 1 point below the best variant) and costs a ranker per split
    validation_folds: int = 1
    # final = blend · ranker probability + (1 - blend) · stage 1; the served blend is the best
    # of ranker.BLEND_GRID and this one on the validation songs (0: stage 1 serves), and
    # name/emotion/genre weights that do not beat 0 there are served as 0
    ranker_blend: float = 0.8
    # the ranker reorders each song's shortlist and the song keeps its stage-1 values in that
    # new order (ranker.serve_blend): trained per song, its probabilities do not compare
    # across songs, and mixed into the score they cost the playlist view (held-out NDCG@10
    # H 0.702 → 0.684 while MRR rose 0.419 → 0.510); False: the blended value is the score
    ranker_keeps_scale: bool = True
    # False: serve the configured weights, blend and abstain_below as they are (the ranker
    # is still gated against stage 1). A new field: contexts cached before it recompute.
    validate_choices: bool = True
    rerank_blend: float = 0.3  # then (1 - b) · final + b · cross-encoder score
    hard_negatives: int = 10  # per training song: best-scoring playlists it is not in
    random_negatives: int = 5
    max_training_songs: int = 6000
    # abstain: a suggestion fits only if its score reaches a threshold and its stage-1 score
    # reaches what all but `abstain_quantile` of the playlist's own members reach. The
    # threshold is fitted per person (best F1 of validation memberships vs non-members,
    # ranker.calibrate_abstain); `abstain_below` is the default when there are too few
    abstain_below: float = 0.3
    # and only among the song's best `abstain_max_rank` playlists (0: no limit); chosen with
    # the threshold on validation (ranker.ABSTAIN_RANKS) when fit_abstain is on
    abstain_max_rank: int = 0
    # serve the fitted threshold instead of abstain_below: with validation songs held out of
    # the profiles its held-out F1 beats 0.3's for person f (0.42 vs 0.30) and the generated
    # sample (0.46 vs 0.41), and ties it on TidyTuesday and person e (±0.003); False serves
    # abstain_below (the fitted one is still reported)
    fit_abstain: bool = True
    abstain_quantile: float = 0.05
    seed: int = 7

    @property
    def hash(self) -> str:
        return stable_hash("mc", asdict(self))
