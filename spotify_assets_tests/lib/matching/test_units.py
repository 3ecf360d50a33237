"""Every registered signal unit: its leave-one-out value of a member pair is the value the
song gets against the playlist's profile rebuilt without it, for songs that have all of the
evidence, some of it, or none (features, genre, artist, context, co-listening)."""

from __future__ import annotations

import numpy as np
import pytest

from spotify_assets.lib.matching.units import SIGNAL_NAMES, UNITS
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import (
    ACOUSTIC_FEATURES,
    CONTEXT_FEATURES,
    TrackArrays,
    build_profiles,
)

N, P, D, K = 90, 5, 8, 6


def patchy_world(seed: int = 0):
    """Songs with every kind of evidence missing somewhere, in overlapping playlists."""
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(N, D))
    features = rng.uniform(0, 1, (N, len(ACOUSTIC_FEATURES)))
    features[rng.random(N) < 0.4] = np.nan  # featureless songs: the normal case
    features[rng.random(features.shape) < 0.1] = np.nan  # and single gaps
    context = np.column_stack([rng.integers(1970, 2024, N), rng.uniform(0, 100, N)]).astype(float)
    context[rng.random(context.shape) < 0.3] = np.nan
    colisten = rng.normal(size=(N, K))
    colisten /= np.linalg.norm(colisten, axis=1, keepdims=True)
    colisten[rng.random(N) < 0.3] = np.nan
    artist_features = rng.uniform(0, 1, (N, len(ACOUSTIC_FEATURES)))
    artist_features[rng.random(N) < 0.4] = np.nan  # artists no catalog knows
    artist_features[rng.random(artist_features.shape) < 0.1] = np.nan
    artist_genres = rng.dirichlet(np.ones(4), size=N)
    artist_genres[rng.random(N) < 0.4] = 0.0
    emotions = rng.dirichlet(np.ones(len(BUCKETS)), size=N)
    emotions[rng.random(N) < 0.3] = 1 / len(BUCKETS)
    tracks = TrackArrays(
        track_ids=np.array([f"t{i}" for i in range(N)], dtype=object),
        embeddings=(emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32),
        features=features,
        genre=np.where(rng.random(N) < 0.5, rng.integers(0, 3, N), -1),
        subgenre=np.where(rng.random(N) < 0.4, rng.integers(0, 4, N), -1),
        emotions=emotions,
        genres=["a", "b", "c"],
        subgenres=["w", "x", "y", "z"],
        artist=np.where(rng.random(N) < 0.8, rng.integers(0, 12, N), -1),
        context=context,
        colisten=colisten.astype(np.float32),
        artist_features=artist_features,
        artist_genres=artist_genres,
        artist_genre_names=["pop", "rock", "latin", "edm"],
    )
    members = [np.sort(rng.choice(N, size=int(rng.integers(8, 25)), replace=False)) for _ in range(P)]
    names = rng.normal(size=(P, D))
    names /= np.linalg.norm(names, axis=1, keepdims=True)
    return tracks, members, names


def _profiles(tracks, members, names, like=None):
    mean = None if like is None else like.global_mean
    std = None if like is None else like.global_std
    ids = [f"p{i}" for i in range(P)]
    return build_profiles(tracks, ids, ids, [""] * P, members, names, mean, std)


def test_the_registry_names_each_signal_once() -> None:
    assert len(SIGNAL_NAMES) == len(set(SIGNAL_NAMES))
    assert {"sem_centroid", "acoustic", "colisten", "artist", "artist_sound", "year"} <= set(SIGNAL_NAMES)
    assert len(CONTEXT_FEATURES) == 2


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: "+".join(u.names))
def test_leave_one_out_is_the_profile_without_the_song(unit, seed) -> None:
    tracks, members, names = patchy_world(seed)
    profiles = _profiles(tracks, members, names)
    rows = np.concatenate(members)
    cols = np.repeat(np.arange(P), [len(m) for m in members])
    n = profiles.count[cols] - 1
    left_out = unit.leave_one_out(tracks, profiles, rows, cols, n)
    assert set(left_out) <= set(unit.names)
    checked = 0
    for i in range(0, len(rows), 3):  # a spread of member pairs, every kind of song among them
        song, playlist = int(rows[i]), int(cols[i])
        without = [m if p != playlist else m[m != song] for p, m in enumerate(members)]
        rebuilt = _profiles(tracks, without, names, like=profiles)
        expected = unit.compute(tracks.take(np.array([song])), rebuilt)
        plain = unit.compute(tracks.take(np.array([song])), profiles)
        for name in unit.names:
            want = float(expected[name][0, playlist])
            # a signal the unit does not leave out must not depend on membership
            got = left_out[name][i] if name in left_out else plain[name][0, playlist]
            got = float(got)
            if np.isnan(want):
                assert np.isnan(got), (name, song, playlist)
            else:
                assert got == pytest.approx(want, abs=1e-5), (name, song, playlist)
            checked += 1
    assert checked >= 15 * len(unit.names)


def test_a_new_signal_is_one_unit_registered_once(monkeypatch) -> None:
    """README "Where to change what": a new matching signal is one module under
    lib/matching/units (compute, leave-one-out) and one line in UNITS; stage 1's signals, the
    ranker's training pairs and the harness compute and leave it out through the registry."""
    from spotify_assets.lib.matching import signals
    from spotify_assets.lib.matching.units.base import SignalUnit

    def compute(songs, profiles):  # a playlist-size prior: the same for every song
        return {"log_size": np.broadcast_to(np.log1p(profiles.count), (len(songs), len(profiles)))}

    def leave_one_out(songs, profiles, rows, cols, n):
        return {"log_size": np.log1p(n)}

    unit = SignalUnit(("log_size",), compute, leave_one_out)
    monkeypatch.setattr(signals, "UNITS", (*UNITS, unit))
    monkeypatch.setattr(signals, "SIGNAL_NAMES", (*SIGNAL_NAMES, "log_size"))
    tracks, members, names = patchy_world(0)
    profiles = _profiles(tracks, members, names)
    values = signals.compute_signals(tracks, profiles)
    assert values["log_size"][0] == pytest.approx(np.log1p(profiles.count))
    rows = np.concatenate(members)
    cols = np.concatenate([np.full(len(m), c) for c, m in enumerate(members)])
    signals.leave_one_out(values, tracks, profiles, rows, cols)
    assert values["log_size"][rows, cols] == pytest.approx(np.log1p(profiles.count[cols] - 1))
    test_leave_one_out_is_the_profile_without_the_song(unit, 0)  # the check every unit passes
