"""Stage-1 matching speed: 10,000 songs × 50 playlists (384-d), target < 1 s.

Synthetic arrays shaped like the real inputs (unit embeddings, 9 acoustic features with a
few unknown values, genres, emotion buckets); profiles are built from 40 members each.
Prints the time of the whole stage 1 (six signal matrices + type-weighted combination) and
of the top-N / top-K selection, and songs per second, measured in this run.

    .venv/bin/python benchmarks/match.py [--songs 10000] [--playlists 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.signals import stage1, top_indices
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES, TrackArrays, build_profiles


def arrays(n: int, dims: int, rng: np.random.Generator) -> TrackArrays:
    emb = rng.normal(size=(n, dims)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    features = rng.uniform(0, 1, size=(n, len(ACOUSTIC_FEATURES)))
    features[rng.random(features.shape) < 0.01] = np.nan
    return TrackArrays(
        track_ids=np.array([f"t{i}" for i in range(n)], dtype=object),
        embeddings=emb,
        features=features,
        genre=rng.integers(-1, 20, n),
        subgenre=rng.integers(-1, 60, n),
        emotions=rng.dirichlet(np.ones(len(BUCKETS)), n),
        genres=[f"g{i}" for i in range(20)],
        subgenres=[f"s{i}" for i in range(60)],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=10_000)
    parser.add_argument("--playlists", type=int, default=50)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    members = arrays(args.playlists * 40, args.dims, rng)
    rows = [np.arange(p * 40, (p + 1) * 40) for p in range(args.playlists)]
    names = rng.normal(size=(args.playlists, args.dims))
    names /= np.linalg.norm(names, axis=1, keepdims=True)
    profiles = build_profiles(
        members, [f"p{i}" for i in range(args.playlists)],
        [f"Playlist {i}" for i in range(args.playlists)], [""] * args.playlists, rows, names,
    )  # fmt: skip
    songs = arrays(args.songs, args.dims, rng)
    config = MatchConfig()
    stage1(songs.take(np.arange(100)), profiles, config)  # warm-up

    timings, select = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = stage1(songs, profiles, config)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        top_indices(result.score, config.top_n, axis=1)
        top_indices(result.score, config.top_k, axis=0)
        select.append(time.perf_counter() - started)
    best, median = min(timings), float(np.median(timings))
    print(
        f"stage 1: {args.songs} songs × {args.playlists} playlists, {args.dims}-d, {args.repeat} runs"
    )
    print(f"  signals + combination: median {median:.3f}s, best {best:.3f}s")
    print(
        f"  top-{config.top_n} per song + top-{config.top_k} per playlist: median {np.median(select):.3f}s"
    )
    print(f"  songs/s (median, incl. selection): {args.songs / (median + np.median(select)):,.0f}")
    print(f"  target < 1 s: {'met' if median + np.median(select) < 1 else 'NOT met'} "
          f"({(median + np.median(select)):.3f}s = {1 / (median + np.median(select)):.1f}x under the budget)")  # fmt: skip


if __name__ == "__main__":
    main()
