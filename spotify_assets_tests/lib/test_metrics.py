"""The ranking metrics and the paired bootstrap, checked against hand-worked cases and a slow
reference implementation on random matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spotify_assets.lib.bootstrap import mean_of_means, paired_difference
from spotify_assets.lib.metrics import (
    filtered_mrr,
    filtered_reciprocal_ranks,
    ndcg_at_k,
    playlist_ndcg,
    playlist_ndcgs,
    precision_at_k,
    recall_at_k,
    sampled_candidates,
)


def test_list_metrics_on_a_worked_example() -> None:
    ranked = ["a", "x", "b", "y"]
    relevant = {"a", "b", "c"}
    assert precision_at_k(ranked, relevant, 2) == 0.5
    assert recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 + 1 / math.log2(4)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(ranked, set(), 4) == 0.0


def test_filtered_rank_leaves_out_the_songs_other_true_playlists() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.1]])
    truth = np.array([[True, False, True, False]])
    # playlist 0 is first; playlist 2 is behind 0 (true, left out) and 1: rank 2
    assert filtered_reciprocal_ranks(scores, truth).tolist() == [1.0, 0.5]
    assert filtered_mrr(scores, truth) == pytest.approx(0.75)
    assert filtered_mrr(scores, np.zeros_like(truth)) == 0.0


def _slow_playlist_ndcgs(scores: np.ndarray, truth: np.ndarray, k: int) -> list[float]:
    out = []
    for p in range(scores.shape[1]):
        relevant = {str(i) for i in np.nonzero(truth[:, p])[0]}
        if relevant:
            ranked = [str(i) for i in np.argsort(-scores[:, p], kind="stable")]
            out.append(ndcg_at_k(ranked, relevant, k))
    return out


def test_playlist_ndcgs_match_the_list_definition() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((40, 7))
    truth = rng.random((40, 7)) < 0.15
    truth[:, 3] = False  # a playlist without a true song is left out, not scored 0
    got = playlist_ndcgs(scores, truth, k=10)
    assert len(got) == 6
    assert got == pytest.approx(_slow_playlist_ndcgs(scores, truth, 10))
    assert playlist_ndcg(scores, truth) == pytest.approx(np.mean(got))
    # fewer songs than k: still the list definition
    assert playlist_ndcgs(scores[:5], truth[:5], k=10) == pytest.approx(
        _slow_playlist_ndcgs(scores[:5], truth[:5], 10)
    )


def test_paired_difference_interval_covers_a_clear_gain_and_straddles_noise() -> None:
    rng = np.random.default_rng(0)
    old = rng.random(400)
    better = paired_difference(old + 0.1 + rng.normal(0, 0.05, 400), old)
    assert better.lo > 0.08 and better.hi < 0.12 and better.n == 400
    noise = paired_difference(old + rng.normal(0, 0.05, 400), old)
    assert noise.lo < 0 < noise.hi
    assert "95% CI" in better.text()
    with pytest.raises(ValueError, match="not paired"):
        paired_difference(old, old[:10])
    assert paired_difference(np.zeros(0), np.zeros(0)).n == 0


def test_blocked_bootstrap_is_wider_when_items_in_a_block_move_together() -> None:
    rng = np.random.default_rng(1)
    days = np.repeat(np.arange(20), 30)  # 20 days of 30 plays
    day_effect = rng.normal(0, 0.3, 20)[days]  # the days differ, plays within one do not
    new, old = day_effect + 0.05, np.zeros(len(days))
    iid = paired_difference(new, old)
    blocked = paired_difference(new, old, blocks=days)
    assert blocked.n == 20 and iid.n == 600
    assert blocked.value == pytest.approx(iid.value)
    assert (blocked.hi - blocked.lo) > 3 * (iid.hi - iid.lo)


def test_mean_of_means_weighs_each_group_the_same() -> None:
    rng = np.random.default_rng(2)
    big, small = rng.normal(0.1, 0.05, 2000), rng.normal(-0.1, 0.05, 20)
    both = mean_of_means([big, small])
    assert both.value == pytest.approx((big.mean() + small.mean()) / 2)
    assert both.n == 2 and both.lo < both.value < both.hi
    assert mean_of_means([big]).lo > 0.09
    assert mean_of_means([]).n == 0


def test_sampled_candidates_hold_each_playlists_true_songs_and_non_members_only() -> None:
    rng = np.random.default_rng(0)
    member = rng.random((300, 6)) < 0.1
    truth = member & (rng.random(member.shape) < 0.3)
    truth[:, 5] = False  # a playlist without a true song is not judged
    pool = sampled_candidates(member, truth, 50, np.random.default_rng(1))
    assert (pool[truth]).all()
    assert not pool[member & ~truth].any()  # a member is never a negative of its playlist
    negatives = (pool & ~member).sum(axis=0)
    assert negatives[truth.any(axis=0)].tolist() == [50] * int(truth.any(axis=0).sum())
    assert not pool[:, 5].any()
    # read with the other scores at −inf, NDCG is the list definition over the pool
    scores = rng.random(member.shape)
    p = int(np.nonzero(truth.any(axis=0))[0][0])
    cand = np.nonzero(pool[:, p])[0]
    ranked = cand[np.argsort(-scores[cand, p])].tolist()
    expected = ndcg_at_k(ranked, set(np.nonzero(truth[:, p])[0].tolist()), 10)
    got = playlist_ndcgs(np.where(pool, scores, -np.inf), truth)[0]
    assert got == pytest.approx(expected)
