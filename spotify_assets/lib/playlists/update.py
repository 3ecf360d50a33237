"""Keep `playlist_profiles` for one bundle in step with playlists, members and embeddings."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.playlists.profiles import profile_text
from spotify_assets.lib.playlists.world import PlaylistWorld, load_world
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.matching import ProfileRepository

log = logging.getLogger(__name__)


@dataclass
class ProfileReport:
    playlists: int
    recomputed: int
    reused: int
    fallback: int
    names_embedded: int
    members_without_vectors: int
    seconds: float
    types: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def profile_rows(world: PlaylistWorld, indices: list[int]) -> pd.DataFrame:
    prof, tracks = world.profiles, world.tracks
    centroid, mean, std = prof.centroid, prof.audio_mean, prof.audio_std
    genre, subgenre, emotion = prof.genre_dist, prof.subgenre_dist, prof.emotion_dist

    def dist(row: np.ndarray, labels: list[str]) -> dict[str, float]:
        return {labels[i]: round(float(row[i]), 4) for i in np.nonzero(row > 0)[0]}

    return pd.DataFrame(
        {
            "bundle_hash": world.bundle.hash,
            "playlist_id": [world.playlist_ids[p] for p in indices],
            "profile_hash": [world.hashes[p] for p in indices],
            "member_count": [int(prof.count[p]) for p in indices],
            "fallback": [bool(prof.fallback[p]) for p in indices],
            "centroid": [centroid[p] for p in indices],
            "name_embedding": [prof.name_vectors[p] for p in indices],
            "name_text": [world.name_texts[p] for p in indices],
            "audio_mean": [mean[p].round(6).tolist() for p in indices],
            "audio_std": [std[p].round(6).tolist() for p in indices],
            "genre_dist": [dist(genre[p], tracks.genres) for p in indices],
            "subgenre_dist": [dist(subgenre[p], tracks.subgenres) for p in indices],
            "emotion_dist": [emotion[p].round(6).tolist() for p in indices],
            "playlist_type": [prof.types[p] for p in indices],
            "type_source": [prof.type_sources[p] for p in indices],
            "profile_text": [profile_text(prof, p, tracks) for p in indices],
        }
    )


def update_playlist_profiles(
    db: Database,
    bundle: ModelBundle,
    embedder,
    person: str | None = None,
    progress: Callable[[str], None] = log.info,
) -> ProfileReport:
    started = time.perf_counter()
    with db.connect() as conn:
        world = load_world(conn, bundle, embedder, person)
    stale = set(world.stale)
    indices = [i for i, pid in enumerate(world.playlist_ids) if pid in stale]
    progress(
        f"playlist_profiles[{bundle.name}]: {len(world.playlist_ids)} playlists, "
        f"{len(indices)} to recompute, {world.names_embedded} names embedded"
    )
    if indices:
        frame = profile_rows(world, indices)
        with db.connect() as conn, conn.transaction():
            ProfileRepository(conn).upsert(frame)
    return ProfileReport(
        playlists=len(world.playlist_ids),
        recomputed=len(indices),
        reused=len(world.playlist_ids) - len(indices),
        fallback=int(world.profiles.fallback.sum()),
        names_embedded=world.names_embedded,
        members_without_vectors=world.members_without_vectors,
        seconds=round(time.perf_counter() - started, 2),
        types=dict(Counter(world.profiles.types)),
    )
