"""Reading a query that names a person's songs, and scoring candidates against them."""

import numpy as np
import pytest

from spotify_assets.lib.search.taste import (
    LIKED,
    MOST_PLAYED,
    PLAYLIST,
    TasteConfig,
    parse_reference,
    taste_scores,
)


@pytest.mark.parametrize(
    ("query", "kind", "style", "playlist"),
    [
        ("hardstyle remix of emo songs I like", LIKED, "hardstyle remix of emo songs", None),
        ("emo songs that I like", LIKED, "emo songs", None),
        ("dark techno like my liked songs", LIKED, "dark techno", None),
        ("my liked songs but hardstyle", LIKED, "hardstyle", None),
        ("give me some jazz I love", LIKED, "jazz", None),
        ("pop songs I play most", MOST_PLAYED, "pop songs", None),
        ("rock from my most played", MOST_PLAYED, "rock", None),
        ("techno like my top songs", MOST_PLAYED, "techno", None),
        ("shoegaze from my playlist Late Night", PLAYLIST, "shoegaze", "Late Night"),
        ('acid house like my "Gym Hits" playlist', PLAYLIST, "acid house", "Gym Hits"),
        ("I like", LIKED, "", None),
    ],
)
def test_a_reference_phrase_gives_its_set_and_the_style_that_remains(query, kind, style, playlist):
    found = parse_reference(query)
    assert found is not None
    assert (found.kind, found.style, found.playlist) == (kind, style, playlist)
    assert found.phrase.lower() in query.lower()


@pytest.mark.parametrize(
    "query",
    ["shoegaze songs that would sound good as hardstyle", "dark techno with high energy",
     "my playlist", "songs likely to chart", "upbeat playlist music"],
)  # fmt: skip
def test_a_query_naming_no_songs_of_yours_has_no_reference(query):
    assert parse_reference(query) is None


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_candidate_nearest_a_reference_song_ranks_first_and_names_it():
    references = _unit([[1, 0, 0], [0, 1, 0]])  # two tastes, far apart
    candidates = _unit([[0.1, 1, 0], [0.7, 0.7, 0.1], [0, 0, 1]])
    scores = taste_scores(candidates, np.zeros(3), references, TasteConfig(k=1, profile_weight=1))
    assert np.argmax(scores.score) == 0  # near one taste beats between both
    assert scores.nearest.tolist()[0] == 1 and scores.nearest.tolist()[2] in (0, 1)
    # the mean of both tastes prefers the song in between: why k nearest, not one centroid
    mean = taste_scores(candidates, np.zeros(3), references, TasteConfig(k=2, profile_weight=1))
    assert np.argmax(mean.score) == 1


def test_the_style_score_and_popularity_count_by_their_weights():
    references = _unit([[1, 0]])
    candidates = _unit([[1, 0.1], [1, 0.5]])  # the first is nearer the reference
    style = np.array([0.1, 0.9])  # the second fits the style better
    assert np.argmax(taste_scores(candidates, style, references, TasteConfig(1, 1.0)).score) == 0
    assert np.argmax(taste_scores(candidates, style, references, TasteConfig(1, 0.2)).score) == 1
    popular = TasteConfig(1, 1.0, popularity_weight=5.0)
    with_pop = taste_scores(candidates, style, references, popular, popularity=np.array([0, 90]))
    assert np.argmax(with_pop.score) == 1
    unknown = taste_scores(candidates, style, references, popular, popularity=np.array([np.nan, 9]))
    assert np.isfinite(unknown.score).all()


def _world(seed: int = 0, bases: int = 400, candidates: int = 6000, references: int = 600):
    """Real-shaped geometry: songs are noisy copies of a few hundred base vectors (as the
    many-people benchmark makes them), references spread over many of them."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(bases, 32)).astype(np.float32)

    def near(count):
        v = base[rng.integers(0, bases, count)] + rng.normal(0, 0.15, (count, 32))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    popularity = rng.integers(0, 100, candidates).astype(float)
    popularity[rng.random(candidates) < 0.3] = np.nan  # library songs: unknown
    return near(candidates), rng.normal(0.3, 0.05, candidates), near(references), popularity


def test_clustered_closeness_is_exact_with_one_cluster_and_never_above_it():
    from spotify_assets.lib.search.taste import centroids, clustered_closeness, nearest_mean

    cands, _, refs, _ = _world(candidates=500)
    exact, _ = nearest_mean(cands, refs, 3)
    one = refs.mean(axis=0, keepdims=True)
    assert np.allclose(clustered_closeness(cands, refs, one / np.linalg.norm(one), 3), exact)
    rough = clustered_closeness(cands, refs, centroids(refs, 16), 3)
    assert (rough <= exact + 1e-5).all()  # a subset of the references: never closer
    top = set(np.argsort(-exact)[:20])
    assert len(top & set(np.argsort(-rough)[:100])) >= 18  # the close ones are found


@pytest.mark.parametrize("shortlist", [None, 3000])
def test_preselect_keeps_what_scoring_every_candidate_ranks_first(shortlist):
    """Scoring only the preselected candidates against the whole set's spreads gives the top
    10 of scoring all of them (the genre-bounded taste search's shortcut), also when only a
    shortlist (ranked with each candidate's nearest centroid) gets the clustered closeness."""
    from spotify_assets.lib.search.taste import centroids, preselect

    config = TasteConfig()
    for seed in range(3):
        cands, style, refs, popularity = _world(seed)
        full = taste_scores(cands, style, refs, config, popularity=popularity)
        chosen, population = preselect(cands, style, popularity, refs, centroids(refs, 32),
                                       config, keep=600, sample=600,
                                       shortlist=shortlist)  # fmt: skip
        assert len(chosen) == 600 and len(set(chosen)) == 600
        some = taste_scores(cands[chosen], style[chosen], refs, config,
                            popularity=popularity[chosen], population=population)  # fmt: skip
        best = list(np.argsort(-full.score, kind="stable")[:10])
        assert set(best) <= set(chosen)  # every one of them was scored exactly
        got = list(chosen[np.argsort(-some.score, kind="stable")[:10]])
        # the spreads are the whole set's (closeness: estimated on a sample), so scores move
        # a little and near ties may swap; the set of ten and the first one stay
        assert got[0] == best[0] and len(set(got) & set(best)) >= 9
        shift = some.score[np.searchsorted(chosen, best)] - full.score[best]
        assert np.abs(shift).max() < 0.15 and np.ptp(shift) < 0.02  # nearly the same offset


def test_preselect_keeps_everything_when_few_and_then_changes_nothing():
    from spotify_assets.lib.search.taste import centroids, preselect

    cands, style, refs, popularity = _world(candidates=300)
    chosen, population = preselect(cands, style, popularity, refs, centroids(refs, 8),
                                   TasteConfig(), keep=1000, sample=1000)  # fmt: skip
    assert list(chosen) == list(range(300))
    alone = taste_scores(cands, style, refs, popularity=popularity)
    against = taste_scores(cands, style, refs, popularity=popularity, population=population)
    assert np.allclose(alone.score, against.score)
