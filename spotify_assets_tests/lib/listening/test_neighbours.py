"""The co-listening widening of the successor memory: earlier plays only, neighbours by
closeness."""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.listening.neighbours import nearest, neighbour_successor


def test_a_song_never_followed_borrows_what_followed_its_neighbours_before():
    # song a was followed by mood 2 twice; b (a's neighbour) has never been followed
    keys = ["a", "x", "a", "x", "b", "a"]
    targets = np.array([2, -1, 2, -1, 1, 0])
    near = {"b": [("a", 0.9)], "a": [("b", 0.9)]}
    got = neighbour_successor(keys, targets, near, k=3)
    # row 0: nothing earlier; row 2: a's own earlier successor (2); row 4: b borrows a's (2);
    # row 5: a has 2, 2 of its own and b's 1 (weight 0.9): 2 still
    assert got.tolist() == [-1, -1, 2, -1, 2, 2]
    # a row never sees its own target: the last play of a does not count itself
    alone = neighbour_successor(["a"], np.array([1]), {}, k=3)
    assert alone.tolist() == [-1]


def test_nearest_keeps_close_songs_only_and_never_the_song_itself():
    vectors = np.array([[1.0, 0.0], [0.95, 0.31], [0.0, 1.0], [np.nan, np.nan]])
    near = nearest(["a", "b", "c", "d"], vectors, n=2)
    assert [k for k, _ in near["a"]] == ["b"]  # c is orthogonal: no neighbour
    assert "d" not in near and all(k != "a" for k, _ in near["a"])
    assert near["b"][0][1] > 0.9
