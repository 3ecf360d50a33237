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
