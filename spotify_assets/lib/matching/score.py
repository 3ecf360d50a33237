"""Stage 1 + stage 2 over songs × playlists: shortlist, learned ranker, cross-encoder, blend.

Stage 2 looks only at a shortlist (each song's best `rerank_depth` playlists and each
playlist's best `top_k` songs by stage 1), so its cost grows with songs, not songs × playlists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.ranker import BELOW, LearnedRanker, serve_blend, within_rank
from spotify_assets.lib.matching.signals import Stage1, stage1, top_indices
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays

__all__ = ["BELOW", "Reranker", "Scored", "score_matrix", "shortlist_mask"]


class Reranker(Protocol):
    def score(self, pairs: list[tuple[str, str]]) -> np.ndarray: ...


@dataclass
class RerankStats:
    calls: int = 0
    pairs: int = 0
    seconds: float = 0.0


@dataclass
class Scored:
    stage1: Stage1
    final: np.ndarray  # (S, P); excluded pairs are -inf
    shortlist: np.ndarray  # (S, P) bool
    ranker: np.ndarray  # (S, P) ranker probability, NaN outside the shortlist / untrained
    rerank: np.ndarray  # (S, P) cross-encoder score, NaN where not run
    confidence: np.ndarray  # (S, P)
    fits: np.ndarray  # (S, P) bool: a confident fit (see MatchConfig's abstain settings)
    rerank_stats: RerankStats = field(default_factory=RerankStats)


def shortlist_mask(score: np.ndarray, config: MatchConfig) -> np.ndarray:
    mask = np.zeros(score.shape, dtype=bool)
    if score.size == 0:
        return mask
    per_song = top_indices(score, config.rerank_depth, axis=1)
    mask[np.arange(score.shape[0])[:, None], per_song] = True
    per_playlist = top_indices(score, config.top_k, axis=0)
    mask[per_playlist, np.arange(score.shape[1])[None, :]] = True
    return mask


def score_matrix(
    songs: TrackArrays,
    profiles: Profiles,
    config: MatchConfig,
    ranker: LearnedRanker | None = None,
    reranker: Reranker | None = None,
    song_texts: Sequence[str] | None = None,
    profile_texts: Sequence[str] | None = None,
    exclude: np.ndarray | None = None,
) -> Scored:
    """Final scores of every song for every playlist. `exclude` (S, P) marks pairs that must
    not be suggested (the song is already in the playlist). With a fitted `ranker`, what its
    validation chose (`ranker.chosen`: stage-1 weights, blend, abstain threshold) serves; the
    threshold applies to the score before the cross-encoder (the score it was fitted on),
    unless it is the configured default."""
    if ranker is not None:
        config = ranker.chosen
    st1 = stage1(songs, profiles, config, members=exclude)
    score = st1.score if exclude is None else np.where(exclude, -np.inf, st1.score)
    short = shortlist_mask(score, config) & np.isfinite(score)
    rows, cols = np.nonzero(short)
    blended = score[rows, cols].astype(np.float64)
    ranker_out = np.full(score.shape, np.nan)
    rerank_out = np.full(score.shape, np.nan)
    confidence = np.clip(score, 0.0, 1.0)
    if ranker is not None and ranker.serves and len(rows):
        prob = ranker.predict(ranker.features(st1, profiles, rows, cols))
        ranker_out[rows, cols] = prob
        confidence = np.zeros(score.shape)
        confidence[rows, cols] = prob
        blended = serve_blend(blended, prob, config.ranker_blend, rows, config.ranker_keeps_scale)
    before_ce = blended.copy()
    stats = RerankStats()
    if reranker is not None and len(rows):
        if song_texts is None or profile_texts is None:
            raise ValueError("the cross-encoder needs song descriptions and profile texts")
        pairs = [(profile_texts[c], song_texts[r]) for r, c in zip(rows, cols, strict=True)]
        started = time.perf_counter()
        ce = np.asarray(reranker.score(pairs), dtype=np.float64)
        stats = RerankStats(1, len(pairs), time.perf_counter() - started)
        rerank_out[rows, cols] = ce
        blended = (1 - config.rerank_blend) * blended + config.rerank_blend * ce
    final = np.where(np.isfinite(score), score - BELOW, -np.inf)
    final[rows, cols] = blended
    calibrated = ranker is not None and config.fit_abstain and ranker.report.abstain_pairs > 0
    basis = final  # what "fits" is judged on: as calibrated (before the cross-encoder)
    if calibrated:
        basis = final.copy()
        basis[rows, cols] = before_ce
    fits = (basis >= config.abstain_below) & within_rank(basis, config.abstain_max_rank)
    if ranker is not None and ranker.floors is not None:
        fits &= st1.score >= ranker.floors[None, :]
    return Scored(st1, final, short, ranker_out, rerank_out, confidence, fits, stats)
