"""A person's playlists with their members' arrays and profiles, as matching sees them.

Profiles are rebuilt from memberships in memory (sums and matmuls, milliseconds); the
expensive part, embedding each playlist's name, is cached in `playlist_profiles` and reused
while the text is unchanged. The stored profile hashes say whether the table is current.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import psycopg

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.playlists.inputs import (
    PlaylistSet,
    catalog_feature_stats,
    load_playlists,
    load_tracks,
)
from spotify_assets.lib.playlists.profiles import (
    Profiles,
    TrackArrays,
    build_profiles,
    name_text,
    profile_hash,
)
from spotify_assets.lib.store.colistening import ColisteningRepository
from spotify_assets.lib.store.matching import ProfileRepository


@dataclass
class PlaylistWorld:
    bundle: ModelBundle
    playlists: PlaylistSet
    tracks: TrackArrays  # members and any extra tracks asked for
    texts: pd.DataFrame  # row-aligned with tracks
    row_of: dict[str, int]
    members: list[np.ndarray]
    hashes: list[str]
    stored_hashes: dict[str, str]
    name_texts: list[str]
    profiles: Profiles
    names_embedded: int
    members_without_vectors: int

    @property
    def stale(self) -> list[str]:
        """Playlists whose stored profile is missing or was built from other inputs."""
        return [
            pid
            for pid, h in zip(self.playlists.playlists["playlist_id"], self.hashes, strict=True)
            if self.stored_hashes.get(pid) != h
        ]

    @property
    def playlist_ids(self) -> list[str]:
        return list(self.playlists.playlists["playlist_id"])


def load_world(
    conn: psycopg.Connection,
    bundle: ModelBundle,
    embedder=None,
    person: str | None = None,
    extra_track_ids: Sequence[str] = (),
    colistening_of: str | None = None,
    accepted: Sequence[tuple[str, str]] = (),
) -> PlaylistWorld:
    """Everything about the playlists under one bundle. Names whose stored embedding is
    missing or outdated are embedded with `embedder` (required only then). The songs carry
    the co-listening vectors of `colistening_of` (default: `person`) when that person has a
    model (lib/colistening). `accepted` (track id, playlist id): suggestions the person
    accepted, members of the profiles (not of the stored playlists or their hashes)."""
    playlists = load_playlists(conn, person)
    wanted = set(playlists.memberships["track_id"]) | set(extra_track_ids)
    wanted |= {t for t, _ in accepted}
    tracks, texts = load_tracks(conn, bundle.hash, sorted(wanted))
    whose = colistening_of or person
    if whose:
        vectors = ColisteningRepository(conn).vectors(whose, tracks.track_ids.tolist())
        if vectors is not None:
            tracks = tracks.with_colisten(vectors)
    row_of = {tid: i for i, tid in enumerate(tracks.track_ids)}
    members = playlists.members(row_of)
    missing = len(playlists.memberships) - sum(len(m) for m in members)
    content = texts["content_hash"].to_numpy()
    frame = playlists.playlists
    hashes = [
        profile_hash(
            bundle.hash, name, desc, list(zip(tracks.track_ids[rows], content[rows], strict=True))
        )
        for name, desc, rows in zip(frame["name"], frame["description"], members, strict=True)
    ]
    column = {pid: j for j, pid in enumerate(frame["playlist_id"])}
    for track_id, playlist_id in accepted:
        j, row = column.get(playlist_id), row_of.get(track_id)
        if j is not None and row is not None and row not in members[j]:
            members[j] = np.append(members[j], row)
    repo = ProfileRepository(conn)
    stored = repo.hashes(bundle.hash)
    cached = repo.name_vectors(bundle.hash)
    texts_for_names = [
        name_text(n, d) for n, d in zip(frame["name"], frame["description"], strict=True)
    ]
    vectors = np.zeros((len(frame), bundle.embedding.dims), dtype=np.float32)
    todo = []
    for i, (pid, text) in enumerate(zip(frame["playlist_id"], texts_for_names, strict=True)):
        if (
            pid in cached
            and cached[pid][0] == text
            and len(cached[pid][1]) == bundle.embedding.dims
        ):
            vectors[i] = cached[pid][1]
        else:
            todo.append(i)
    if todo:
        if embedder is None:
            raise RuntimeError(
                f"{len(todo)} playlist names have no stored embedding for bundle {bundle.name}; "
                "materialize playlist_profiles for this bundle first"
            )
        vectors[todo] = embedder.embed([texts_for_names[i] for i in todo], "query")
    mean, std = catalog_feature_stats(conn)
    profiles = build_profiles(
        tracks, frame["playlist_id"].tolist(), frame["name"].tolist(),
        frame["description"].tolist(), members, vectors, mean, std,
    )  # fmt: skip
    return PlaylistWorld(
        bundle, playlists, tracks, texts, row_of, members, hashes, stored, texts_for_names,
        profiles, len(todo), missing,
    )  # fmt: skip
