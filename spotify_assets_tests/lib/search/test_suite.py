"""The search suite's own rules: enough natural phrasings, relevance from ground truth only,
and the random baseline's expectation."""

import math

import pandas as pd

from spotify_assets.lib.search.filters import Filter
from spotify_assets.lib.search.suite import INTENTS, Intent, random_ndcg, relevant_ids


def test_the_suite_has_many_phrasings_in_every_class():
    phrasings = [p for i in INTENTS for p in i.phrasings]
    assert len(phrasings) >= 80 and len(set(phrasings)) == len(phrasings)
    classes = {i.query_class for i in INTENTS}
    assert len(classes) >= 10
    for c in classes:
        assert sum(len(i.phrasings) for i in INTENTS if i.query_class == c) >= 3, c
    assert all(i.truth or i.genres for i in INTENTS)


def test_relevance_comes_from_features_and_genre_labels():
    tracks = pd.DataFrame(
        {"track_id": ["a", "b", "c", "d"], "valence": [0.1, 0.2, 0.9, None],
         "genres": [["hip-hop"], ["rock"], ["hip-hop"], ["hip-hop"]]}
    )  # fmt: skip
    sad_hip_hop = Intent("x", ("sad hip hop",), (Filter("valence", "<", 0.3),), ("hip-hop",))
    assert relevant_ids(tracks, sad_hip_hop) == {"a"}  # a track without valence is not sad
    assert relevant_ids(tracks, Intent("x", ("hip hop",), (), ("Hip-Hop",))) == {"a", "c", "d"}


def test_a_random_lists_expected_ndcg():
    assert random_ndcg(0, 100) == 0.0
    assert math.isclose(random_ndcg(100, 100), 1.0)  # every track relevant
    assert math.isclose(random_ndcg(50, 100), 0.5)
    assert random_ndcg(2, 100) > 2 / 100  # few relevant: the ideal DCG is smaller
