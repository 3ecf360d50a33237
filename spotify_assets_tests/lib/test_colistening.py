"""Co-listening vectors: learned from what a person puts and plays together, chosen on their
own playlists, never taught by an evaluation's held-out memberships."""

from __future__ import annotations

import numpy as np
import pytest

from spotify_assets.lib.colistening.contexts import build_contexts
from spotify_assets.lib.colistening.fit import fit_colistening, placement_mrr, refitter
from spotify_assets.lib.colistening.inputs import ColisteningInputs
from spotify_assets.lib.colistening.methods import METHODS
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.matching.ranker import CROSS_FOLDS, FEATURES, LearnedRanker
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import TrackArrays, build_profiles


def _groups(n_groups: int = 6, size: int = 12) -> dict[str, list[str]]:
    return {f"g{g}": [f"t{g}_{i}" for i in range(size)] for g in range(n_groups)}


def _sessions(groups: dict[str, list[str]], rng: np.random.Generator, n: int = 300) -> list:
    """Sessions that each play songs of one group, shuffled."""
    names = list(groups)
    out = []
    for _ in range(n):
        songs = groups[names[rng.integers(len(names))]]
        out.append(list(rng.choice(songs, size=8, replace=True)))
    return out


def test_contexts_keep_order_and_drop_what_says_nothing():
    contexts = build_contexts({"a": ["x", "y", "y", "z"], "b": ["solo"]}, ["x"] * 3,
                              [["y", "z"], ["z"]])  # fmt: skip
    assert contexts.kinds == ["playlist", "session"]
    assert [contexts.vocab[i] for i in contexts.sequences[0]] == ["x", "y", "z"]


@pytest.mark.parametrize("method", list(METHODS))
def test_each_method_puts_songs_played_together_together(method):
    rng = np.random.default_rng(0)
    groups = _groups()
    contexts = build_contexts({}, [], _sessions(groups, rng))
    vectors = METHODS[method](contexts, dims=16, seed=0)
    index = contexts.index
    same, other = [], []
    for g, songs in groups.items():
        a = vectors[index[songs[0]]]
        same += [float(a @ vectors[index[s]]) for s in songs[1:]]
        other += [float(a @ vectors[index[s]]) for h, ss in groups.items() if h != g for s in ss]
    assert np.mean(same) > np.mean(other) + 0.3, method


def test_the_method_that_places_held_back_members_better_serves():
    rng = np.random.default_rng(1)
    groups = _groups()
    model = fit_colistening(groups, [], _sessions(groups, rng), seed=3)
    scores = model.report["validation"]
    assert set(scores) == set(METHODS)
    best = max(scores, key=lambda m: scores[m]["validation_mrr"])
    assert model.method == best and scores[best]["validation_mrr"] > 0.5
    assert model.known == sum(len(s) for s in groups.values())
    assert np.isnan(model.for_tracks(["never heard of"])).all()  # unknown: NaN, not a zero


def test_placement_counts_a_song_without_a_vector_as_chance():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [np.nan, np.nan], [0.0, 1.0]])
    members = [np.array([0]), np.array([3])]
    held = [np.array([1, 2]), np.array([], dtype=np.int64)]
    mrr, covered = placement_mrr(vectors, members, held)
    assert covered == 0.5 and mrr == pytest.approx((1.0 + 2 / 3) / 2)


def _world(groups: dict[str, list[str]]) -> EvalInputs:
    """Songs whose names and sounds say nothing about their playlists: only co-listening can."""
    ids = [t for songs in groups.values() for t in songs]
    rng = np.random.default_rng(5)
    emb = rng.normal(size=(len(ids), 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    tracks = TrackArrays(
        np.array(ids, dtype=object), emb, np.full((len(ids), 9), np.nan),
        np.full(len(ids), -1), np.full(len(ids), -1),
        np.full((len(ids), len(BUCKETS)), 1 / len(BUCKETS)), [], [],
    )  # fmt: skip
    row = {t: i for i, t in enumerate(ids)}
    members = [np.array([row[t] for t in songs]) for songs in groups.values()]
    names = list(groups)
    return EvalInputs(tracks, names, names, [""] * len(names), [None] * len(names), members,
                      np.eye(len(names), 8, dtype=np.float32))  # fmt: skip


def test_held_out_memberships_never_teach_the_vectors():
    """With playlists as the only context, a held-out song appears nowhere else: it must get no
    vector (co-listening ranks it by chance). With sessions that play it beside its playlist's
    songs, co-listening places it — from listening, which the harness may use."""
    groups = _groups(n_groups=8, size=16)
    inputs = _world(groups)
    only_playlists = ColisteningInputs(groups)
    config = MatchConfig(ranker="none")
    alone = evaluate_matching(
        EvalInputs(**{**inputs.__dict__, "colistening": only_playlists}), config, seed=3
    ).metrics
    chance = np.mean([1 / r for r in range(1, len(groups) + 1)])
    assert alone["baseline_co_listening/mrr"] <= chance + 0.1
    rng = np.random.default_rng(2)
    played = ColisteningInputs(groups, [], _sessions(groups, rng, n=400))
    heard = evaluate_matching(
        EvalInputs(**{**inputs.__dict__, "colistening": played}), config, seed=3
    ).metrics
    assert heard["baseline_co_listening/mrr"] > 0.8
    assert heard["shipped/mrr"] > alone["shipped/mrr"] + 0.3  # stage 1 uses it


def test_the_rankers_validation_songs_never_teach_the_vectors_either():
    """What serves is learned from every membership; the ranker's validation songs (which
    choose the weights, the blend and the abstain threshold) are judged on vectors learned
    without theirs, as the harness's held-out songs are. With playlists the only context, a
    validation song then has no vector: the leak that made validation look better than
    held-out songs is gone."""
    groups = _groups(n_groups=8, size=24)
    inputs = _world(groups)
    model = fit_colistening(groups, seed=3)
    tracks = inputs.tracks.with_colisten(model.for_tracks(inputs.tracks.track_ids.tolist()))
    profiles = build_profiles(tracks, inputs.playlist_ids, inputs.names, inputs.descriptions,
                              inputs.members, inputs.name_vectors)  # fmt: skip
    rows = np.concatenate(inputs.members)
    cols = np.repeat(np.arange(len(groups)), [len(m) for m in inputs.members])
    real = refitter(ColisteningInputs(groups), tracks.track_ids.tolist(), model.method, seed=3)
    calls = []

    def refit(held):
        calls.append(held)
        return real(held)

    leaky = LearnedRanker(MatchConfig())
    leaky.fit(tracks, profiles, rows, cols)
    honest = LearnedRanker(MatchConfig())
    honest.fit(tracks, profiles, rows, cols, refit)
    # per fold the final model's training pairs' own; then the validation songs'
    # memberships, then per fold the validation view's training pairs' own with them
    assert len(calls) == 1 + 2 * CROSS_FOLDS
    held = calls[CROSS_FOLDS]
    assert all(held[pid] <= call.get(pid, set()) for call in calls[CROSS_FOLDS + 1 :]
               for pid in held)  # fmt: skip
    assert all(song in groups[pid] for pid, songs in held.items() for song in songs)
    assert sum(len(s) for s in held.values()) == honest.report.validation_memberships >= 20
    assert honest.report.validation_mrr_stage1 < leaky.report.validation_mrr_stage1 - 0.2
    # and the pairs the final model learns from are cross-fitted: with playlists the only
    # context, a member's co-listening is unknown once its own fold is out, not a memory
    column = FEATURES.index("colisten")
    remembered = leaky._features[leaky._labels == 1, column]
    cross_fitted = honest._features[honest._labels == 1, column]
    assert np.isfinite(remembered).mean() > 0.8 and np.nanmean(remembered) > 0.3
    assert np.isfinite(cross_fitted).mean() < 0.2


def test_a_song_in_no_playlist_and_never_played_still_gets_a_score_and_says_so():
    """Co-listening knows nothing of a song the person never put anywhere or played: it is
    scored on what it is (meaning, the artist's style) on the same scale as the rest, never
    dropped or scored as a bad match, and its reasons name that fallback."""
    from spotify_assets.lib.matching.explain import reason_text
    from spotify_assets.lib.matching.score import score_matrix
    from spotify_assets.lib.matching.signals import stage1

    groups = _groups(n_groups=6, size=20)
    inputs = _world(groups)
    rng = np.random.default_rng(4)
    model = fit_colistening(groups, [], _sessions(groups, rng, n=300), seed=3)
    tracks = inputs.tracks.with_colisten(model.for_tracks(inputs.tracks.track_ids.tolist()))
    profiles = build_profiles(tracks, inputs.playlist_ids, inputs.names, inputs.descriptions,
                              inputs.members, inputs.name_vectors)  # fmt: skip
    rows = np.concatenate(inputs.members)
    cols = np.repeat(np.arange(len(groups)), [len(m) for m in inputs.members])
    ranker = LearnedRanker(MatchConfig())
    ranker.fit(tracks, profiles, rows, cols)
    # three songs nobody has: a member's embedding (its meaning), no vector
    newcomers = tracks.take(np.array([0, 20, 40]))
    newcomers.track_ids = np.array(["new0", "new1", "new2"], dtype=object)
    newcomers.colisten = np.full_like(newcomers.colisten, np.nan)
    assert not newcomers.has_colisten.any()
    scored = score_matrix(newcomers, profiles, ranker.chosen, ranker)
    assert np.isfinite(scored.final).all()
    assert not scored.stage1.parts["colisten"].any()
    # scored exactly as in a world without co-listening
    no_model = newcomers.take(np.arange(3))
    no_model.colisten = np.full((3, 0), np.nan, dtype=np.float32)
    np.testing.assert_allclose(stage1(newcomers, profiles, ranker.chosen).score,
                               stage1(no_model, profiles, ranker.chosen).score, rtol=1e-6)  # fmt: skip
    text = reason_text("g0", {"semantic": 0.1}, 0.5, 0.2, [], None, None, 0.0,
                       no_colistening=True)  # fmt: skip
    assert text.endswith("(not in your playlists or plays yet: matched on the song itself)")
