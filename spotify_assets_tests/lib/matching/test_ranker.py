"""What the learned ranker may rely on and what a person's validation songs decide: explicit
missing features, the blend and stage-1 weights, the abstain threshold (synthetic arrays)."""


import numpy as np
import pytest

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.matching.ranker import (
    ABSTAIN_MIN_PRECISION,
    BLEND_GRID,
    CHECKED_WEIGHTS,
    FEATURES,
    MIN_VALIDATION,
    LearnedRanker,
    _judged,
    calibrate_abstain,
    f_score,
    fit_abstain_rule,
    rule_quality,
    within_rank,
)
from spotify_assets.lib.matching.score import score_matrix
from spotify_assets.lib.matching.signals import stage1
from spotify_assets_tests.lib.matching.test_matching import clustered_world, profiles_for

CONTEXT = ("artist", "year", "popularity")


def memberships(rows):
    return np.concatenate(rows), np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])


def column(features: np.ndarray, name: str) -> np.ndarray:
    return features[:, FEATURES.index(name)]


def noisy_world(seed=1):
    """Meaning and audio say nothing about the playlists; the artist says everything."""
    tracks, rows, names, vecs = clustered_world()
    rng = np.random.default_rng(seed)
    e = rng.normal(size=tracks.embeddings.shape)
    tracks.embeddings = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
    tracks.features = rng.uniform(0, 1, size=tracks.features.shape)
    tracks.genre = np.full(len(tracks), -1)
    tracks.artist = memberships(rows)[1].astype(np.int64)
    return tracks, rows, names, vecs


def test_columns_a_catalog_lacks_are_flagged_missing_not_scored_as_zero_or_a_half():
    tracks, rows, names, vecs = clustered_world()  # no artist, year, popularity columns
    tracks.genre = np.full(len(tracks), -1)  # nor genre
    prof = profiles_for(tracks, rows, names, vecs)
    ranker = LearnedRanker(MatchConfig())
    assert ranker.fit(tracks, prof, *memberships(rows)).trained
    st1 = stage1(tracks, prof, MatchConfig())
    pairs = np.arange(len(tracks)), memberships(rows)[1]  # each song with its own playlist
    features = ranker.features(st1, prof, *pairs)
    for name in (*CONTEXT, "genre", "subgenre"):
        assert (column(features, f"has_{name}") == 0).all(), name
        assert np.isnan(column(features, name)).all(), name  # never a 0 or 0.5 that looks real
    assert (column(features, "has_features") == 1).all()  # what the catalog has is known
    assert np.isfinite(column(features, "acoustic")).all()

    # the same songs with the columns: flags set, real values
    tracks.artist = memberships(rows)[1].astype(np.int64)
    tracks.context = np.column_stack([np.full(len(tracks), 2001.0), np.arange(len(tracks)) % 90])
    tracks.genre = np.arange(len(tracks)) % 3
    prof = profiles_for(tracks, rows, names, vecs)
    st1 = stage1(tracks, prof, MatchConfig())
    features = ranker.features(st1, prof, *pairs)
    for name in (*CONTEXT, "genre"):
        assert (column(features, f"has_{name}") == 1).all(), name
        assert np.isfinite(column(features, name)).all(), name
    own = features[:, FEATURES.index("artist")]
    assert own == pytest.approx(1.0)  # every member of a playlist shares the song's artist

    # one song without an artist among songs with one: only its pair is missing
    tracks.artist[0] = -1
    features = ranker.features(stage1(tracks, prof, MatchConfig()), prof, *pairs)
    assert column(features, "has_artist")[:2].tolist() == [0.0, 1.0]
    assert np.isnan(column(features, "artist")[0])


def test_without_the_columns_the_ranker_that_does_not_beat_stage_1_does_not_serve():
    tracks, rows, names, vecs = clustered_world()  # no artist, year, popularity
    prof = profiles_for(tracks, rows, names, vecs)
    ranker = LearnedRanker(MatchConfig())
    report = ranker.fit(tracks, prof, *memberships(rows))
    assert report.trained and report.validation_memberships >= MIN_VALIDATION
    # stage 1 already puts every validation song home: no blend can beat it
    assert report.blend_mrr["0"] == report.validation_mrr_stage1 == 1.0
    assert not ranker.serves and report.blend == 0.0 and ranker.chosen.ranker_blend == 0.0
    assert report.decision.startswith("stage 1 serves")
    scored = score_matrix(tracks.take(rows[2][:5]), prof, MatchConfig(), ranker)
    assert np.isnan(scored.ranker).all()  # stage 1 scored them


def test_the_blend_is_the_one_that_ranks_validation_songs_best_and_it_is_what_serves():
    tracks, rows, names, vecs = noisy_world()
    prof = profiles_for(tracks, rows, names, vecs)
    config = MatchConfig(ranker_blend=0.3)  # not in the grid: tried as well
    ranker = LearnedRanker(config)
    report = ranker.fit(tracks, prof, *memberships(rows))
    tried = {float(b): v for b, v in report.blend_mrr.items()}
    assert set(tried) == {*BLEND_GRID, 0.3}
    best = max(tried.values())
    assert ranker.serves and report.blend > 0
    assert tried[report.blend] == best and report.blend == min(b for b, v in tried.items()
                                                               if v == best)  # fmt: skip
    assert best > tried[0.0]
    assert round(report.validation_mrr, 4) == max(v for b, v in tried.items() if b)
    assert f"at blend {report.blend:g}" in report.decision
    assert ranker.chosen.ranker_blend == report.blend


@pytest.mark.parametrize("keeps_scale", [True, False])
def test_the_ranker_serves_its_order_on_stage_1_values_or_the_blended_value(keeps_scale):
    """Kept scale: each song's shortlist in the order of blend · P(ranker) + (1 - blend) ·
    stage 1, holding the song's own stage-1 values (they still compare across songs);
    otherwise the blended value itself."""
    tracks, rows, names, vecs = noisy_world()
    prof = profiles_for(tracks, rows, names, vecs)
    config = MatchConfig(ranker_blend=0.5, validate_choices=False, ranker_keeps_scale=keeps_scale)
    ranker = LearnedRanker(config)
    ranker.fit(tracks, prof, *memberships(rows))
    assert ranker.serves and ranker.chosen.ranker_keeps_scale == keeps_scale
    songs = tracks.take(rows[1][:6])
    scored = score_matrix(songs, prof, config, ranker)
    mixed = 0.5 * scored.ranker + 0.5 * scored.stage1.score
    if not keeps_scale:
        short = scored.shortlist
        np.testing.assert_allclose(scored.final[short], mixed[short], rtol=1e-6)
        return
    reordered = 0
    for song in range(len(songs)):
        short = scored.shortlist[song]
        final, st1 = scored.final[song, short], scored.stage1.score[song, short]
        np.testing.assert_allclose(np.sort(final), np.sort(st1), rtol=1e-6)
        assert (np.argsort(-final, kind="stable") == np.argsort(-mixed[song, short],
                                                                kind="stable")).all()  # fmt: skip
        reordered += not (np.argsort(-final) == np.argsort(-st1)).all()
    assert reordered  # the ranker did change an order


def test_a_stage_1_weight_that_does_not_beat_zero_on_validation_is_served_as_zero():
    tracks, rows, names, vecs = clustered_world()
    rng = np.random.default_rng(4)
    e = rng.normal(size=tracks.embeddings.shape)  # meaning says nothing
    tracks.embeddings = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
    tracks.features = rng.uniform(0, 1, size=tracks.features.shape)
    tracks.genre = memberships(rows)[1].astype(np.int64)  # the genre says everything
    tracks.genres = [f"g{i}" for i in range(len(rows))]
    moods = tracks.emotions.shape[1]
    tracks.emotions = np.eye(moods)[rng.integers(0, moods, len(tracks))]  # random moods
    prof = profiles_for(tracks, rows, names, vecs)
    # weighed heavily (the learned type weights would refit it: tested on their own)
    config = MatchConfig(emotion_weight=3.0, learn_type_weights=False)
    ranker = LearnedRanker(config)
    report = ranker.fit(tracks, prof, *memberships(rows))
    assert ranker.chosen.emotion_weight == 0.0 and report.weights["emotion_weight"] == 0.0
    assert "emotion_weight 3→0" in report.weights_note
    assert ranker.chosen.genre_weight == config.genre_weight  # it beats 0
    # what serves is stage 1 with the chosen weights
    songs = tracks.take(rows[0][:3])
    served = score_matrix(songs, prof, config, ranker).stage1.score
    np.testing.assert_array_equal(served, stage1(songs, prof, ranker.chosen).score)
    assert not np.array_equal(served, stage1(songs, prof, config).score)


def test_the_abstain_threshold_separates_members_from_non_members():
    rng = np.random.default_rng(0)
    members = rng.uniform(0.6, 0.9, 40)
    others = rng.uniform(0.1, 0.4, 60)
    threshold, precision, recall = calibrate_abstain(members, others)
    assert others.max() < threshold <= members.min()
    assert precision == 1.0 and recall == 1.0
    # overlapping: the figures are those of the threshold returned
    members = np.concatenate([members, [0.2, 0.3]])
    others = np.concatenate([others, [0.7, 0.8, 0.85]])
    threshold, precision, recall = calibrate_abstain(members, others)
    tp, fp = (members >= threshold).sum(), (others >= threshold).sum()
    assert precision == pytest.approx(tp / (tp + fp)) and recall == pytest.approx(tp / 42)
    assert precision >= ABSTAIN_MIN_PRECISION  # reachable here: the most recall at it
    for t in np.concatenate([members, others]):  # no threshold does better
        tp_t, fp_t = (members >= t).sum(), (others >= t).sum()
        p_t, r_t = tp_t / (tp_t + fp_t), tp_t / 42
        assert p_t < ABSTAIN_MIN_PRECISION or r_t <= recall + 1e-12
    # where no rule is precise enough, the best F0.5: precision weighs more than recall
    assert f_score(1.0, 0.5) > f_score(0.5, 1.0)
    assert rule_quality(0.56, 0.1) > rule_quality(0.54, 0.99)  # precise enough always wins
    noisy = rng.uniform(0, 1, 40), rng.uniform(0, 1, 400)  # members no better than the rest
    _, p_noisy, r_noisy = calibrate_abstain(*noisy)
    best = f_score(p_noisy, r_noisy)
    for t in np.concatenate(noisy):
        tp_t, fp_t = (noisy[0] >= t).sum(), (noisy[1] >= t).sum()
        p_t = tp_t / (tp_t + fp_t)
        assert p_t >= ABSTAIN_MIN_PRECISION or f_score(p_t, tp_t / 40) <= best + 1e-12
    assert calibrate_abstain(members[: MIN_VALIDATION - 1], others) is None  # too few


def test_a_rank_limit_serves_when_scores_only_mean_something_against_the_songs_others():
    """Each song's own playlist is usually its best, but songs differ in level (a loud song
    scores high everywhere): no single threshold separates members from the playlists shown
    instead; "among its best playlist" does, and is chosen for it."""
    rng = np.random.default_rng(1)
    songs, playlists = 200, 12
    level = rng.uniform(0.0, 1.0, songs)[:, None]  # each song's own level
    served = level + rng.uniform(0, 0.3, (songs, playlists))
    truth = np.zeros((songs, playlists), dtype=bool)
    truth[np.arange(songs), rng.integers(0, playlists, songs)] = True
    served[truth] += 0.35  # best of its row, not above every other row's playlists
    eligible = np.ones_like(truth)
    fitted, max_rank, pairs = fit_abstain_rule(served, truth, eligible, top_n=5)
    _, precision, recall = fitted
    assert max_rank == 1 and precision > 0.9 and recall > 0.9
    assert pairs == songs + 5 * songs
    # the threshold alone does clearly worse on the same pairs
    top = np.argsort(-np.where(truth, -np.inf, served), axis=1)[:, :5]
    neg = np.zeros_like(truth)
    neg[np.arange(songs)[:, None], top] = True
    _, p0, r0 = calibrate_abstain(served[truth], served[neg])
    assert rule_quality(p0, r0) < rule_quality(precision, recall) - 0.2
    assert within_rank(served, 0).all() and within_rank(served, 1).sum() == songs


def test_abstaining_is_fitted_on_validation_pairs_or_falls_back_to_the_default_and_says_so():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    off = LearnedRanker(MatchConfig(fit_abstain=False))  # fitted and reported, default served
    report = off.fit(tracks, prof, *memberships(rows))
    assert report.abstain_pairs >= 2 * MIN_VALIDATION and report.abstain_threshold != 0.3
    assert off.chosen.abstain_below == 0.3 and "fit_abstain off" in report.abstain_note
    ranker = LearnedRanker(MatchConfig(fit_abstain=True))
    report = ranker.fit(tracks, prof, *memberships(rows))
    assert report.abstain_pairs >= 2 * MIN_VALIDATION
    assert ranker.chosen.abstain_below == report.abstain_threshold
    # clean clusters; the members' floors alone turn away about 5% of new members
    assert report.abstain_precision > 0.9 and report.abstain_recall > 0.85
    assert "the most recall at precision ≥ 0.55" in report.abstain_note
    scored = score_matrix(tracks.take(rows[4][:3]), prof, MatchConfig(fit_abstain=True), ranker)
    assert (scored.fits == (scored.final >= report.abstain_threshold)
            & within_rank(scored.final, report.abstain_max_rank)
            & (scored.stage1.score >= ranker.floors[None, :])).all()  # fmt: skip

    # a person with too few songs to hold back: the configured default, said so
    small, small_rows, _, _ = clustered_world(n_clusters=3, per_cluster=12)
    few = LearnedRanker(MatchConfig(abstain_below=0.42, fit_abstain=True))
    report = few.fit(small, profiles_for(small, small_rows, names[:3], vecs[:3]),
                     *memberships(small_rows))  # fmt: skip
    assert report.abstain_pairs == 0 and report.abstain_threshold == 0.42
    assert few.chosen.abstain_below == 0.42 and "the default" in report.abstain_note


def test_with_validate_choices_off_the_configuration_serves_as_it_is_still_gated():
    tracks, rows, names, vecs = noisy_world()
    prof = profiles_for(tracks, rows, names, vecs)
    config = MatchConfig(ranker_blend=0.3, validate_choices=False)
    ranker = LearnedRanker(config)
    report = ranker.fit(tracks, prof, *memberships(rows))
    assert set(report.blend_mrr) == {"0", "0.3"}  # the configured blend against stage 1 only
    assert ranker.serves and ranker.chosen.ranker_blend == 0.3
    assert ranker.chosen.abstain_below == config.abstain_below and report.abstain_pairs == 0
    assert report.weights == {name: getattr(config, name) for name in CHECKED_WEIGHTS}


def artist_world(seed=0, n_playlists=8, per_playlist=40, artists_per_playlist=25):
    """Meaning and audio say nothing; each playlist's songs are by its own artists, about 1.6
    songs each: a song fits where another song by its artist already is (when one is)."""
    tracks, rows, names, vecs = clustered_world(n_playlists, per_playlist, seed=seed)
    rng = np.random.default_rng(seed + 1)
    e = rng.normal(size=tracks.embeddings.shape)
    tracks.embeddings = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
    tracks.features = rng.uniform(0, 1, size=tracks.features.shape)
    tracks.genre = np.full(len(tracks), -1)
    tracks.artist = np.concatenate(
        [c * artists_per_playlist + rng.integers(0, artists_per_playlist, len(r))
         for c, r in enumerate(rows)]
    ).astype(np.int64)  # fmt: skip
    return tracks, rows, names, vecs


def test_validation_mrr_is_what_held_out_songs_get():
    """Validation songs are scored as new songs are (playlists without them), and the ranker
    learned on leave-one-out pairs ranks new songs as well as it ranks those."""
    tracks, rows, names, vecs = artist_world()
    n = len(rows)
    inputs = EvalInputs(tracks, [f"p{i}" for i in range(n)], names, [""] * n, [None] * n, rows,
                        vecs)  # fmt: skip
    result = evaluate_matching(inputs, MatchConfig(), seed=3)
    report, metrics = result.details["ranker"], result.metrics
    assert report["validation_mrr"] > report["validation_mrr_stage1"] + 0.2  # artists count
    held_out = 0.5 * (metrics["ranker/mrr"] + metrics["ranker/ndcg@10"])  # the same objective
    assert report["validation_mrr"] == pytest.approx(held_out, abs=0.05)
    assert metrics["ranker/mrr"] > metrics["stage1/mrr"] + 0.2


def test_no_blend_serves_that_loses_mrr_or_ndcg_to_stage_1_beyond_the_guard():
    """The objective weighs MRR and NDCG@10 together; a person reads either view, so a blend
    with the best objective that loses one of them by more than GUARD does not serve."""
    from spotify_assets.lib.matching.ranker import GUARD, _best_blend, _floor

    def items(mrr: float, ndcg: float):
        return np.full(40, mrr), np.full(12, ndcg)

    figures = {0.0: items(0.40, 0.70), 0.5: items(0.55, 0.70 - GUARD / 2),
               0.8: items(0.60, 0.70 - 2 * GUARD), 1.0: items(0.38, 0.80)}  # fmt: skip
    objective = {b: 0.5 * (m.mean() + n.mean()) for b, (m, n) in figures.items()}
    assert max(objective, key=objective.get) == 0.8  # best objective, but NDCG@10 lost
    floor = _floor(figures)
    assert floor == pytest.approx((0.40, 0.70))
    assert _best_blend(objective, figures, floor) == 0.5
    # measured against a stage 1 that every blend loses to on one view: none serves
    assert _best_blend({1.0: objective[1.0]}, {1.0: figures[1.0]}, (0.60, 0.70)) is None


def test_validation_draws_songs_in_no_playlist_at_the_validation_share():
    from spotify_assets.lib.matching.ranker import _outside_rows

    tracks, rows, _, _ = noisy_world()
    member_rows = np.concatenate(rows[: len(rows) // 2])  # the other half: in no playlist
    config = MatchConfig()
    outside = _outside_rows(tracks, member_rows, config)
    assert not set(outside.tolist()) & set(member_rows.tolist())
    free = len(tracks) - len(np.unique(member_rows))
    assert free >= 100
    assert abs(len(outside) - config.ranker_validation_share * free) <= 3 * np.sqrt(free)
    assert (outside == _outside_rows(tracks, member_rows, config)).all()  # seeded


def test_more_validation_splits_are_disjoint_and_as_large_as_the_first():
    from spotify_assets.lib.matching.ranker import _extra_folds

    rng = np.random.default_rng(0)
    n, share = 2000, 0.2
    validation = rng.random(n) < share
    pos_rows = np.arange(n)  # one membership per song
    config = MatchConfig(validation_folds=5, ranker_validation_share=share)
    folds = _extra_folds(validation, pos_rows, config)
    assert len(folds) == 4
    seen = validation.copy()
    for fold in folds:
        assert not (fold & seen).any()  # each song validated at most once
        assert abs(fold.sum() - share * n) <= 3 * np.sqrt(n)
        seen |= fold
    assert seen.all()  # five splits of a fifth: every song once
    assert len(_extra_folds(validation, pos_rows, MatchConfig(validation_folds=3))) == 2
    assert _extra_folds(validation, pos_rows, MatchConfig(validation_folds=1)) == []
    # a fold with too few memberships to judge by is left out
    assert _extra_folds(validation, pos_rows[:30], config) == []


def test_the_variant_and_blend_are_chosen_over_every_validation_split():
    """One split decides the weights; the variant and the blend are judged on the pooled
    validation songs of all splits (more memberships, the same objective)."""
    tracks, rows, names, vecs = noisy_world()
    prof = profiles_for(tracks, rows, names, vecs)
    one = LearnedRanker(MatchConfig(validation_folds=1))
    three = LearnedRanker(MatchConfig(validation_folds=3))
    report_one = one.fit(tracks, prof, *memberships(rows))
    report_three = three.fit(tracks, prof, *memberships(rows))
    assert "validation splits" not in report_one.variant_note
    pooled = int(report_three.variant_note.split("validation splits, ")[1].split()[0])
    assert "over 3 validation splits" in report_three.variant_note
    # the primary split is the same in both; the pooled objective counts about 3× its songs
    assert report_one.validation_memberships == report_three.validation_memberships
    assert pooled >= 2.5 * report_three.validation_memberships
    assert report_one.blend_mrr != report_three.blend_mrr  # judged on more songs
    assert three.serves and report_three.blend > 0  # the artist decides: the ranker serves


def test_validation_ranks_a_playlists_songs_among_the_rankers_own_training_songs_too():
    """As the harness and a sort do: a playlist's suggestions come from all the person's
    songs, most of them songs the ranker trained on (their own playlists masked)."""
    rng = np.random.default_rng(3)
    member = rng.random((400, 5)) < 0.15
    validation = rng.random(400) < 0.2
    judged = _judged(member, validation, seed=7)
    n = int(validation.sum())
    assert judged.n_validation == n and validation[judged.rows[:n]].all()
    assert not validation[judged.rows[n:]].any()
    training_rows = np.arange(len(judged.rows)) >= n
    assert (judged.known == (member[judged.rows] & training_rows[:, None])).all()
    assert (judged.truth == (member[judged.rows] & ~training_rows[:, None])).all()
    for p in np.nonzero(judged.truth.any(axis=0))[0]:
        negatives = judged.pool[:, p] & ~judged.truth[:, p]
        assert negatives.sum() == 50 and not member[judged.rows][negatives, p].any()
    assert (judged.pool[training_rows] & ~judged.known[training_rows]).any()
    # the same songs for every configuration judged (paired comparisons)
    again = _judged(member, validation, seed=7)
    assert (again.pool == judged.pool).all()
    # a score that puts training songs above every validation song loses NDCG, not MRR
    scores = rng.random(member.shape)
    low = scores.copy()
    low[training_rows] += 10.0
    assert judged.objective(low) < judged.objective(scores)
    assert (judged.figures(low)[0] == judged.figures(scores)[0]).all()
