"""Profiles, stage-1 signals, leave-one-out, the learned ranker and the evaluation harness on
synthetic arrays (no database): exact values where they can be derived by hand."""

import numpy as np
import pytest

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching, split
from spotify_assets.lib.matching.ranker import FEATURES, LearnedRanker, _losing
from spotify_assets.lib.matching.score import score_matrix
from spotify_assets.lib.matching.signals import (
    compute_signals,
    leave_one_out,
    stage1,
    top_indices,
    type_weight_arrays,
)
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import (
    ACOUSTIC_FEATURES,
    TrackArrays,
    build_profiles,
    profile_hash,
)
from spotify_assets.lib.playlists.types import TYPE_WEIGHTS, detect_type, type_from_name

F = len(ACOUSTIC_FEATURES)


def clustered_world(n_clusters=6, per_cluster=40, dims=16, seed=0):
    """Tracks in well-separated clusters (embedding, audio, genre); one playlist per cluster."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_clusters, dims))
    audio_centers = rng.uniform(0.1, 0.9, size=(n_clusters, F))
    rows, emb, feats, genre = [], [], [], []
    for c in range(n_clusters):
        e = centers[c] + 0.6 * rng.normal(size=(per_cluster, dims))
        emb.append(e / np.linalg.norm(e, axis=1, keepdims=True))
        feats.append(audio_centers[c] + 0.05 * rng.normal(size=(per_cluster, F)))
        genre.append(np.full(per_cluster, c % 3))
        rows.append(np.arange(c * per_cluster, (c + 1) * per_cluster))
    n = n_clusters * per_cluster
    emotions = rng.dirichlet(np.ones(len(BUCKETS)), size=n)
    tracks = TrackArrays(
        track_ids=np.array([f"t{i}" for i in range(n)], dtype=object),
        embeddings=np.vstack(emb).astype(np.float32),
        features=np.vstack(feats),
        genre=np.concatenate(genre),
        subgenre=np.full(n, -1),
        emotions=emotions,
        genres=["a", "b", "c"],
        subgenres=[],
    )
    names = [f"Playlist {c}" for c in range(n_clusters)]
    name_vectors = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    return tracks, rows, names, name_vectors


def profiles_for(tracks, rows, names, name_vectors):
    ids = [f"p{i}" for i in range(len(rows))]
    return build_profiles(tracks, ids, names, [""] * len(rows), rows, name_vectors)


def test_profile_centroid_audio_and_distributions_match_a_direct_computation():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    members = rows[2]
    centroid = tracks.embeddings[members].mean(axis=0)
    np.testing.assert_allclose(prof.centroid[2], centroid / np.linalg.norm(centroid), atol=1e-5)
    np.testing.assert_allclose(prof.audio_mean[2], tracks.features[members].mean(axis=0))
    np.testing.assert_allclose(prof.audio_std[2], tracks.features[members].std(axis=0), atol=1e-9)
    assert prof.genre_dist[2].tolist() == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(prof.emotion_dist[2], tracks.emotions[members].mean(axis=0))


def test_small_playlists_fall_back_to_their_name_embedding():
    tracks, rows, names, vecs = clustered_world()
    rows = [r.copy() for r in rows]
    rows[0] = rows[0][:2]
    prof = profiles_for(tracks, rows, names, vecs)
    assert prof.fallback.tolist() == [True] + [False] * 5
    np.testing.assert_allclose(prof.centroid[0], vecs[0].astype(np.float32))
    np.testing.assert_allclose(prof.audio_mean[0], prof.global_mean)


def test_leave_one_out_equals_rebuilding_the_profile_without_the_song():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    song, playlist = int(rows[3][5]), 3
    signals = compute_signals(tracks, prof)
    leave_one_out(signals, tracks, prof, np.array([song]), np.array([playlist]))
    without = [r.copy() for r in rows]
    without[playlist] = without[playlist][without[playlist] != song]
    rebuilt = build_profiles(
        tracks, prof.playlist_ids, names, [""] * 6, without, vecs, prof.global_mean, prof.global_std
    )
    expected = compute_signals(tracks.take(np.array([song])), rebuilt)
    for name in ("sem_centroid", "acoustic", "emotion", "genre"):
        assert signals[name][song, playlist] == pytest.approx(expected[name][0, playlist], abs=1e-5)


def test_profiles_without_songs_equal_profiles_built_without_them():
    tracks, rows, names, vecs = clustered_world()
    tracks.artist = np.arange(len(tracks)) % 7
    tracks.context = np.column_stack([1990.0 + np.arange(len(tracks)) % 30,
                                      np.arange(len(tracks)) % 90.0])  # fmt: skip
    tracks.features[3, 0] = np.nan
    prof = profiles_for(tracks, rows, names, vecs)
    out_rows = np.array([3, 4, 50, 51, 52])
    out_cols = np.array([0, 0, 1, 1, 1])
    removed = prof.without(tracks, out_rows, out_cols)
    kept = [r[~np.isin(r, out_rows)] for r in rows]
    rebuilt = build_profiles(
        tracks, prof.playlist_ids, names, [""] * 6, kept, vecs, prof.global_mean, prof.global_std
    )
    for name in ("count", "emb_sum", "feat_sum", "feat_sumsq", "feat_n", "genre_counts",
                 "emotion_sum", "ctx_sum", "ctx_sumsq", "ctx_n"):  # fmt: skip
        np.testing.assert_allclose(getattr(removed, name), getattr(rebuilt, name), atol=1e-6)
    np.testing.assert_allclose(removed.artist_counts.toarray(), rebuilt.artist_counts.toarray())
    assert prof.count[0] == 40 and prof.count[2] == 40  # the original is left as it was
    np.testing.assert_allclose(
        compute_signals(tracks, removed)["artist"], compute_signals(tracks, rebuilt)["artist"]
    )


def test_stage1_prefers_the_songs_own_cluster_and_uses_type_weights():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    st1 = stage1(tracks, prof, MatchConfig())
    own = np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])
    assert (st1.score.argmax(axis=1) == own).mean() > 0.95
    np.testing.assert_allclose(sum(st1.parts.values()), st1.score, atol=1e-5)
    # a workout playlist weighs acoustic similarity 0.7 (the seed's table)
    prof.types[0] = "workout"
    weighted = stage1(tracks, prof, MatchConfig())
    np.testing.assert_allclose(
        weighted.parts["acoustic"][:, 0], 0.7 * weighted.signals["acoustic"][:, 0], rtol=1e-5
    )


def test_top_indices_returns_the_best_in_order():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [0.4, 0.3, 0.2, 0.1]])
    assert top_indices(scores, 2).tolist() == [[1, 3], [0, 1]]
    assert top_indices(scores, 1, axis=0).tolist() == [[1, 0, 0, 0]]


def test_ranker_learns_memberships_and_abstains_on_songs_that_fit_nowhere():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    member_rows = np.concatenate(rows)
    member_cols = np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])
    ranker = LearnedRanker(MatchConfig())
    report = ranker.fit(tracks, prof, member_rows, member_cols)
    assert report.trained and report.positives == len(member_rows)
    # a new song from cluster 4, and an outlier far from every cluster
    rng = np.random.default_rng(9)
    new = tracks.take(np.array([rows[4][0], rows[4][1]]))
    outlier = rng.normal(size=new.embeddings.shape[1])
    new.embeddings[1] = outlier / np.linalg.norm(outlier)
    new.features[1] = 5.0  # nowhere near any playlist's audio
    new.genre[1] = -1
    scored = score_matrix(new, prof, MatchConfig(), ranker)
    assert scored.final[0].argmax() == 4
    assert scored.fits[0, 4] and scored.fits[0].sum() == 1
    assert not scored.fits[1].any()  # best of a bad lot is still no good fit


def test_untrainable_ranker_says_why():
    tracks, rows, names, vecs = clustered_world(n_clusters=2, per_cluster=5)
    prof = profiles_for(tracks, rows, names, vecs)
    ranker = LearnedRanker(MatchConfig())
    report = ranker.fit(tracks, prof, np.array([0, 1]), np.array([0, 0]))
    assert not report.trained and "too little" in report.reason
    assert ranker.floors is not None and len(ranker.floors) == 2  # abstaining still works


def test_evaluation_is_seeded_and_beats_baselines_on_clustered_playlists():
    tracks, rows, names, vecs = clustered_world(n_clusters=8, per_cluster=30)
    # genres shared by several clusters: the genre rule cannot separate them
    inputs = EvalInputs(
        tracks, [f"p{i}" for i in range(8)], names, [""] * 8, [None] * 8, rows, vecs
    )
    first = evaluate_matching(inputs, MatchConfig(), seed=3)
    again = evaluate_matching(inputs, MatchConfig(), seed=3)
    assert {k: v for k, v in first.metrics.items() if k != "seconds"} == {
        k: v for k, v in again.metrics.items() if k != "seconds"
    }
    m = first.metrics
    assert m["held_out_memberships"] == 8 * round(0.25 * 30)
    for system in ("baseline_popular", "baseline_genre"):
        assert m["stage1/ndcg@10"] > m[f"{system}/ndcg@10"]
    assert m["ranker/mrr"] > 0.8


def test_evaluation_returns_each_held_out_songs_reciprocal_rank_per_system():
    """The per-item ranks a bundle comparison bootstraps over agree with the reported MRR."""
    tracks, rows, names, vecs = clustered_world(n_clusters=4, per_cluster=20)
    ids = [f"p{i}" for i in range(4)]
    inputs = EvalInputs(tracks, ids, names, [""] * 4, [None] * 4, rows, vecs)
    result = evaluate_matching(inputs, MatchConfig(), seed=5)
    _, held = split(rows, 5)
    expected = {f"{tracks.track_ids[r]} {ids[p]}" for p, h in enumerate(held) for r in h}
    assert set(result.held_out) == expected and len(result.held_out) == len(expected)
    for system in ("stage1", "shipped", "baseline_popular"):
        rr = result.reciprocal_ranks[system]
        assert len(rr) == len(expected) and ((rr > 0) & (rr <= 1)).all()
        assert np.mean(rr) == pytest.approx(result.metrics[f"{system}/mrr"])


def test_split_holds_out_a_quarter_of_large_playlists_only():
    members = [np.arange(40), np.arange(40, 47)]
    train, held = split(members, seed=1)
    assert len(held[0]) == 10 and len(train[0]) == 30
    assert len(held[1]) == 0 and len(train[1]) == 7
    assert not set(held[0]) & set(train[0])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Beast Mode Gym", "workout"),
        ("Deep Focus", "focus"),
        ("Friday Night Party", "party"),
        ("Rainy Day Blues", "melancholic"),
        ("90s Nostalgia", "nostalgic"),
        ("Romantic Evening", "romantic"),
        ("Chill Sunday Morning", "chill"),
        ("Road Trip Anthems", "energetic"),
        ("Pop Remix", None),
    ],
)
def test_type_from_name(name, expected):
    assert type_from_name(name) == expected


def test_profile_decides_the_type_when_the_name_does_not():
    assert detect_type("Mix 1", "", {"energy": 0.2, "valence": 0.2}) == ("melancholic", "profile")
    assert detect_type("Mix 2", "", {"energy": 0.5, "valence": 0.5}) == ("default", "default")
    assert TYPE_WEIGHTS["workout"] == (0.3, 0.7) and TYPE_WEIGHTS["melancholic"] == (0.8, 0.2)


def test_profile_hash_covers_order_content_and_bundle():
    members = [("a", "h1"), ("b", "h2")]
    base = profile_hash("b1", "Run", "", members)
    assert profile_hash("b1", "Run", "", list(reversed(members))) != base
    assert profile_hash("b1", "Run", "", [("a", "h1"), ("b", "h3")]) != base
    assert profile_hash("b2", "Run", "", members) != base
    assert profile_hash("b1", "Run", None, members) == base


def test_reasons_name_the_features_that_set_the_playlist_apart():
    from spotify_assets.lib.matching.explain import closest_features, reason_text

    names = list(ACOUSTIC_FEATURES)
    global_mean = np.full(F, 0.5)
    global_std = np.full(F, 0.2)
    mean = global_mean.copy()
    mean[names.index("energy")] = 0.9  # a high-energy playlist
    mean[names.index("tempo")] = 0.85
    spread = np.full(F, 0.1)
    song = mean.copy()
    song[names.index("energy")] = 0.92  # close, but tempo is closer
    # valence sits exactly at the playlist's mean, but it is ordinary: not a reason
    assert closest_features(song, mean, spread, global_mean, global_std) == ["tempo", "energy"]
    text = reason_text(
        "Workout Hard Rock",
        {"acoustic": 0.2, "semantic": 0.05, "emotion": -0.01, "genre": 0.0},
        0.5, 0.2, ["tempo", "energy"], "sadness", "rock", 0.5,
    )  # fmt: skip
    assert text == (
        "tempo and energy match 'Workout Hard Rock'; sounds like the songs in "
        "'Workout Hard Rock'; mood: sadness"
    )
    # a song without audio features (a library track) is never said to match on one
    bare = np.full(F, np.nan)
    assert closest_features(bare, mean, spread, global_mean, global_std) == []
    partial = bare.copy()
    partial[names.index("energy")] = 0.9
    assert closest_features(partial, mean, spread, global_mean, global_std) == ["energy"]


def test_a_featureless_songs_reasons_claim_nothing_it_lacks_and_label_its_artists_style():
    from spotify_assets.lib.matching.explain import reason_text, unfounded_claims

    lift = {"semantic": 0.05, "acoustic": 0.0, "emotion": 0.02, "genre": 0.0,
            "artist_style": 0.1}  # fmt: skip
    # a title-guessed mood is never passed for a song without features: none is said
    text = reason_text("Latin Nights", lift, 0.5, 0.2, [], None, None, 0.0,
                       artist_traits=["latin", "danceable"])  # fmt: skip
    assert text == (
        "the artist's songs are usually latin and danceable, like the artists of "
        "'Latin Nights'; is like the songs in 'Latin Nights'"
    )
    assert unfounded_claims(text, measured=False, has_genre=False) == []
    # what the audit catches: a mood, a sound, a feature match or a genre share unbacked
    bad = "tempo and energy match 'Gym'; mood: fear; rock, like 50% of 'Gym'; sounds like the songs in 'Gym'"
    assert unfounded_claims(bad, measured=False, has_genre=False) == [
        "tempo and energy match 'Gym'", "mood: fear", "rock, like 50% of 'Gym'",
        "sounds like the songs in 'Gym'",
    ]  # fmt: skip
    assert unfounded_claims(bad, measured=True, has_genre=True) == []


def _stripped(songs):
    """The same songs as a person's library has them: no audio features, no genre."""
    bare = songs.take(np.arange(len(songs)))
    bare.features = np.full_like(songs.features, np.nan)
    bare.genre = np.full(len(songs), -1)
    return bare


def test_a_song_without_features_is_judged_on_what_it_has_on_the_same_scale():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    songs = tracks.take(rows[2][:10])
    bare = _stripped(songs)
    config, before = MatchConfig(), MatchConfig(renormalize_missing=False)

    # songs that have everything score exactly as before
    np.testing.assert_array_equal(stage1(songs, prof, config).score,
                                  stage1(songs, prof, before).score)  # fmt: skip
    st1, old = stage1(bare, prof, config), stage1(bare, prof, before)
    assert not st1.parts["acoustic"].any() and not st1.parts["genre"].any()
    np.testing.assert_allclose(sum(st1.parts.values()), st1.score, atol=1e-5)
    # the known parts carry the whole weight: (semantic + emotion) · total / their weights
    w_sem, w_ac = type_weight_arrays(prof, config)  # each playlist's type weights
    total = w_sem + w_ac + config.emotion_weight + config.genre_weight
    known = (old.parts["semantic"] + old.parts["emotion"]) * total / (w_sem + config.emotion_weight)
    np.testing.assert_allclose(st1.score, known, rtol=1e-5)
    # missing is not a bad match: the own playlist still wins, and no lower than before
    assert (st1.score.argmax(axis=1) == 2).all()
    assert (st1.score[:, 2] > old.score[:, 2]).all()
    # a song without features competes with songs that have them on one scale: its score in its
    # own playlist is within the range of its featured twin's
    full = stage1(songs, prof, config).score[:, 2]
    assert abs(np.median(st1.score[:, 2]) - np.median(full)) < 0.15


def test_the_ranker_knows_which_songs_have_features():
    tracks, rows, names, vecs = clustered_world()
    prof = profiles_for(tracks, rows, names, vecs)
    member_rows = np.concatenate(rows)
    member_cols = np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])
    ranker = LearnedRanker(MatchConfig())
    assert ranker.fit(tracks, prof, member_rows, member_cols).trained
    mixed = tracks.take(np.array([rows[1][0], rows[1][1]]))
    mixed.features[1] = np.nan
    st1 = stage1(mixed, prof, MatchConfig())
    features = ranker.features(st1, prof, np.array([0, 1]), np.array([1, 1]))
    has, acoustic = FEATURES.index("has_features"), FEATURES.index("acoustic")
    assert features[:, has].tolist() == [1.0, 0.0]
    assert np.isfinite(features[0, acoustic]) and np.isnan(features[1, acoustic])
    scored = score_matrix(mixed, prof, MatchConfig(), ranker)
    assert (scored.final.argmax(axis=1) == 1).all()  # both still land in their playlist


def test_a_blend_that_clearly_loses_one_half_of_the_objective_is_refused() -> None:
    """A higher ½(MRR + NDCG@10) bought by losing MRR beyond chance must not serve."""
    rng = np.random.default_rng(0)
    mrr0, ndcg0 = rng.uniform(0.3, 0.7, 300), rng.uniform(0.3, 0.7, 40)
    items = {
        0.0: (mrr0, ndcg0),
        0.5: (mrr0 - 0.05, ndcg0 + 0.2),  # NDCG up a lot, every MRR item down
        0.3: (mrr0 + rng.normal(0, 0.05, 300), ndcg0 + 0.05),  # MRR noise only
    }
    assert _losing(0.5, items, seed=0).startswith("the ranker at blend 0.5 loses validation MRR")
    assert _losing(0.3, items, seed=0) == ""
    assert _losing(0.7, items, seed=0) == ""  # a blend not tried is not judged


@pytest.mark.slow
def test_the_ranker_serves_only_when_it_beats_stage_1_on_the_persons_validation_songs():
    tracks, rows, names, vecs = clustered_world()
    members = np.concatenate(rows)
    playlists = np.concatenate([np.full(len(r), c) for c, r in enumerate(rows)])
    # well-separated clusters: stage 1 already puts every validation song home
    clean = LearnedRanker(MatchConfig())
    report = clean.fit(tracks, profiles_for(tracks, rows, names, vecs), members, playlists)
    assert report.trained and report.validation_memberships >= 20
    assert report.validation_mrr_stage1 == 1.0 and not clean.serves
    assert report.decision.startswith("stage 1 serves: the ranker's validation ½(MRR + NDCG@10)")
    # meaning and audio say nothing, the artist says everything: only the ranker sees artists
    rng = np.random.default_rng(1)
    noisy = tracks.take(np.arange(len(tracks)))
    e = rng.normal(size=noisy.embeddings.shape)
    noisy.embeddings = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
    noisy.features = rng.uniform(0, 1, size=noisy.features.shape)
    noisy.genre = np.full(len(noisy), -1)
    noisy.artist = playlists.astype(np.int64)
    prof = profiles_for(noisy, rows, names, vecs)
    learned = LearnedRanker(MatchConfig())
    report = learned.fit(noisy, prof, members, playlists)
    assert learned.serves and report.validation_mrr > report.validation_mrr_stage1 + 0.3
    assert report.decision.startswith("the ranker serves: validation ½(MRR + NDCG@10)")
    # what serves is what scores: stage 1 alone when the ranker does not serve
    songs = tracks.take(rows[3][:5])
    served = score_matrix(songs, profiles_for(tracks, rows, names, vecs), MatchConfig(), clean)
    assert np.isnan(served.ranker).all()


def test_abstain_metrics_count_pairs_and_songs_as_a_person_sees_them():
    """Per pair: held-out memberships vs the playlists shown instead; per song: whether the
    first playlist shown as fitting is one of the song's own."""
    from types import SimpleNamespace

    from spotify_assets.lib.matching.evaluation import _abstain_metrics

    served = np.array([[0.9, 0.5, 0.1, 0.0],    # fits 0 (right) and 1
                       [0.8, 0.2, 0.7, 0.1],    # fits 0 (wrong) first, then 2 (right)
                       [0.1, 0.2, 0.3, 0.35]])  # fits nowhere  # fmt: skip
    true = np.zeros_like(served, dtype=bool)
    true[0, 0] = true[1, 2] = true[2, 1] = True
    ranker = SimpleNamespace(floors=None, report=SimpleNamespace(abstain_pairs=0))
    chosen = SimpleNamespace(abstain_below=0.4, abstain_max_rank=0, top_n=5)
    out = _abstain_metrics(served, served, ranker, np.zeros_like(true), true,
                           np.array([0, 1, 2]), chosen)  # fmt: skip
    assert out["abstain/precision"] == pytest.approx(2 / 4)
    assert out["abstain/recall"] == pytest.approx(2 / 3)
    assert out["abstain/song_precision"] == pytest.approx(1 / 2)
    assert out["abstain/song_recall"] == pytest.approx(1 / 3)
    assert all(type(v) in (int, float) for v in out.values())  # metadata takes plain numbers
    chosen.abstain_max_rank = 1  # only each song's best playlist may fit
    out = _abstain_metrics(served, served, ranker, np.zeros_like(true), true,
                           np.array([0, 1, 2]), chosen)  # fmt: skip
    assert out["abstain/recall"] == pytest.approx(1 / 3)
    assert out["abstain/precision"] == pytest.approx(1 / 2)
