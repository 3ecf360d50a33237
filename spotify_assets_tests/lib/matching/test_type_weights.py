"""Learned playlist-type weights: fitted on the person's training songs, served only when they
beat the seed's table on the validation songs, the seed's table kept for thin types."""

import numpy as np
import pytest

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.matching.ranker import LearnedRanker
from spotify_assets.lib.matching.score import score_matrix
from spotify_assets.lib.matching.signals import song_knowns, stage1
from spotify_assets.lib.matching.type_weights import fit_type_weights
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES, TrackArrays, build_profiles
from spotify_assets.lib.playlists.types import TYPE_WEIGHTS

F = len(ACOUSTIC_FEATURES)
DIMS = 16


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def typed_world(seed=0, per=40, meaning_noise=0.9, audio_noise=0.04, sad=4):
    """The seed's table is wrong for this person: their workout playlists share meaning and not
    sound (seed: 0.3 semantic), their sad ones share sound and not meaning (seed: 0.8); two
    chill playlists are too few to learn from. Genres are unknown, emotions random."""
    rng = np.random.default_rng(seed)
    names, emb, feats, rows = [], [], [], []
    for kind, count in (("Workout", 4), ("Sad songs", sad), ("Chill", 2)):
        for k in range(count):
            start = sum(len(r) for r in rows)
            rows.append(np.arange(start, start + per))
            names.append(f"{kind} {k}")
            center, sound = rng.normal(size=DIMS), rng.uniform(0.1, 0.9, F)
            if kind == "Workout":  # one meaning, any sound
                emb.append(center + meaning_noise * rng.normal(size=(per, DIMS)))
                feats.append(rng.uniform(0, 1, (per, F)))
            elif kind == "Sad songs":  # one sound, any meaning
                emb.append(rng.normal(size=(per, DIMS)))
                feats.append(sound + audio_noise * rng.normal(size=(per, F)))
            else:
                emb.append(center + meaning_noise * rng.normal(size=(per, DIMS)))
                feats.append(sound + audio_noise * rng.normal(size=(per, F)))
    n = sum(len(r) for r in rows)
    tracks = TrackArrays(
        track_ids=np.array([f"t{i}" for i in range(n)], dtype=object),
        embeddings=unit(np.vstack(emb)),
        features=np.clip(np.vstack(feats), 0, 1),
        genre=np.full(n, -1),
        subgenre=np.full(n, -1),
        emotions=rng.dirichlet(np.ones(len(BUCKETS)), size=n),
        genres=[],
        subgenres=[],
    )
    name_vectors = unit(rng.normal(size=(len(rows), DIMS)))  # names say nothing
    return tracks, rows, names, name_vectors


def memberships(rows):
    return np.concatenate(rows), np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])


def profiles_for(tracks, rows, names, vecs):
    return build_profiles(
        tracks, [f"p{i}" for i in range(len(rows))], names, [""] * len(rows), rows, vecs
    )


def test_type_weights_are_learned_where_the_seed_table_is_wrong_and_serve():
    tracks, rows, names, vecs = typed_world()
    prof = profiles_for(tracks, rows, names, vecs)
    assert prof.types == ["workout"] * 4 + ["melancholic"] * 4 + ["chill"] * 2
    ranker = LearnedRanker(MatchConfig(ranker="none"))
    report = ranker.fit(tracks, prof, *memberships(rows))
    chosen = ranker.chosen.type_weights
    assert report.type_weights_note.startswith("learned type weights serve"), report.summary()
    assert chosen["workout"][0] > TYPE_WEIGHTS["workout"][0] and chosen["workout"][0] > 0.5
    assert (
        chosen["melancholic"][0] < TYPE_WEIGHTS["melancholic"][0] and chosen["melancholic"][0] < 0.5
    )
    assert sum(chosen["workout"]) == sum(chosen["melancholic"]) == 1.0
    # too few chill playlists: the seed's weights, and why
    assert chosen["chill"] == TYPE_WEIGHTS["chill"]
    assert report.type_weights["prior_kept"]["chill"].startswith("2 playlists")
    fit = report.type_weights
    assert fit["validation_mrr"] > fit["validation_mrr_prior"]
    assert fit["validation_ndcg"] >= fit["validation_ndcg_prior"]
    assert "learned type weights serve" in report.summary()
    # what serves is stage 1 with the learned weights
    songs = tracks.take(rows[0][:3])
    served = score_matrix(songs, prof, MatchConfig(ranker="none"), ranker).stage1.score
    np.testing.assert_array_equal(served, stage1(songs, prof, ranker.chosen).score)


def test_learned_type_weights_beat_the_seed_table_on_held_out_songs():
    """The harness holds out a quarter of each playlist before anything is fitted: learned
    weights must win there too, not only on the validation songs that chose them."""
    tracks, rows, names, vecs = typed_world(seed=1)
    ids = [f"p{i}" for i in range(len(rows))]
    inputs = EvalInputs(tracks, ids, names, [""] * len(rows), [None] * len(rows), rows, vecs)
    learned = evaluate_matching(inputs, MatchConfig(ranker="none"), seed=3).metrics
    seed = evaluate_matching(
        inputs, MatchConfig(ranker="none", learn_type_weights=False), seed=3
    ).metrics
    assert learned["shipped/mrr"] > seed["shipped/mrr"] + 0.03
    assert learned["shipped/ndcg@10"] > seed["shipped/ndcg@10"]


def test_weights_that_win_on_training_songs_but_lose_on_validation_do_not_serve():
    """Signals where the training songs' playlists show in how they sound and the validation
    songs' in what they mean: fitted on the first, the workout weight moves to sound, loses on
    the second, and the seed's table serves (saying why)."""
    tracks, rows, names, vecs = typed_world(seed=2, sad=2)  # only the workout type is fitted
    prof = profiles_for(tracks, rows, names, vecs)
    rng = np.random.default_rng(0)
    member_rows, member_cols = memberships(rows)
    member = np.zeros((len(tracks), len(rows)), bool)
    member[member_rows, member_cols] = True
    validation = rng.random(len(tracks)) < 0.3
    shape = member.shape
    clue = member.astype(np.float32)
    noise = {name: rng.normal(0, 0.4, shape).astype(np.float32) for name in ("sem", "ac")}
    semantic = noise["sem"] + np.where(validation[:, None], clue, 0)
    signals = {
        "sem_centroid": semantic,
        "sem_name": semantic,
        "acoustic": noise["ac"] + np.where(validation[:, None], 0, clue),
        "emotion": np.zeros(shape, np.float32),
        "genre": np.zeros(shape, np.float32),
        "subgenre": np.zeros(shape, np.float32),
    }
    knowns = song_knowns(tracks, MatchConfig())
    config = MatchConfig(emotion_weight=0.0)
    fit = fit_type_weights(signals, prof, knowns, member, ~validation, validation, config,
                           np.random.default_rng(0))  # fmt: skip
    assert fit.learned["workout"][0] < TYPE_WEIGHTS["workout"][0]  # training said: sound
    assert set(fit.learned) == {"workout"} and set(fit.prior_kept) == {"melancholic", "chill"}
    assert not fit.serves and fit.config == config
    assert fit.validation_mrr < fit.validation_mrr_prior
    assert fit.note.startswith("seed type weights serve: learned (workout 0.3/0.7→")
    assert "does not beat the seed table on validation (validation MRR" in fit.note


def test_playlist_ndcg_ranks_each_playlists_songs_by_score():
    from spotify_assets.lib.metrics import playlist_ndcg

    truth = np.array([[1, 0], [0, 1], [1, 0], [0, 0]], bool)
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.3], [0.5, 0.9]])
    first = (1 + 1 / np.log2(5)) / (1 + 1 / np.log2(3))  # its songs at ranks 1 and 4
    second = (1 / np.log2(4)) / 1.0  # its song at rank 3
    assert playlist_ndcg(scores, truth) == pytest.approx((first + second) / 2)
    assert playlist_ndcg(scores, np.zeros_like(truth)) == 0.0


def test_where_the_ranker_serves_over_the_seed_table_the_seed_table_stays():
    """Type weights are stage 1's: where the ranker beats stage 1 over the seed table it
    weighs the parts per pair itself, and the learned weights (which win for stage 1 alone
    here, as in the first test) are reported, not served."""
    tracks, rows, names, vecs = typed_world()
    prof = profiles_for(tracks, rows, names, vecs)
    ranker = LearnedRanker(MatchConfig())
    report = ranker.fit(tracks, prof, *memberships(rows))
    assert report.serves and report.decision.startswith("the ranker serves")
    assert report.type_weights_note.startswith(
        "seed type weights serve: the ranker serves over them and weighs the parts per pair "
        "itself (stage 1 alone: learned type weights serve: validation MRR"
    )
    assert ranker.chosen.type_weights == TYPE_WEIGHTS and not report.type_weights["serves"]
    assert report.type_weights["learned"]["workout"][0] > 0.5  # what stage 1 alone would use
