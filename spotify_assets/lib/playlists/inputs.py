"""Reading what matching needs from Postgres into arrays (one query per kind, no per-row I/O)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import psycopg

from spotify_assets.lib.catalog.artists import profiles_of
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES, TrackArrays
from spotify_assets.lib.store.artists import ArtistProfile
from spotify_assets.lib.store.embeddings import EmbeddingRepository, to_array
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TrackRepository


@dataclass
class PlaylistSet:
    playlists: pd.DataFrame  # playlist_id, name, description, subgenre (ordered by name, id)
    memberships: pd.DataFrame  # playlist_id, track_id, position

    def members(self, row_of: dict[str, int]) -> list[np.ndarray]:
        """Per playlist, the rows (in `row_of`) of its members in playlist order."""
        grouped = {
            pid: group.sort_values("position")["track_id"].map(row_of).dropna().astype(np.int64)
            for pid, group in self.memberships.groupby("playlist_id", sort=False)
        }
        return [
            grouped[pid].to_numpy() if pid in grouped else np.zeros(0, dtype=np.int64)
            for pid in self.playlists["playlist_id"]
        ]


def load_playlists(conn: psycopg.Connection, person: str | None = None) -> PlaylistSet:
    """`person` None: the catalog's own playlists (the TidyTuesday evaluation); else that
    person's."""
    playlists, memberships = PlaylistRepository(conn).frames(person)
    if playlists.empty:
        playlists = pd.DataFrame(columns=["playlist_id", "name", "description", "subgenre"])
    return PlaylistSet(playlists, memberships)


def catalog_feature_stats(conn: psycopg.Connection) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of each acoustic feature over the whole catalog."""
    row = TrackRepository(conn).mean_and_spread(ACOUSTIC_FEATURES)
    values = np.array([np.nan if v is None else float(v) for v in row]).reshape(-1, 2)
    mean = np.nan_to_num(values[:, 0])
    std = np.where(np.isfinite(values[:, 1]) & (values[:, 1] > 0), values[:, 1], 1.0)
    return mean, std


def load_tracks(
    conn: psycopg.Connection, bundle_hash: str, track_ids: Sequence[str] | None = None
) -> tuple[TrackArrays, pd.DataFrame]:
    """Arrays for tracks embedded under the bundle (all, or `track_ids`), plus a frame of
    their text fields (track_id, name, artists, description, content_hash, top_labels)."""
    rows = EmbeddingRepository(conn).match_rows(bundle_hash, ACOUSTIC_FEATURES, track_ids)
    n_f = len(ACOUSTIC_FEATURES)
    ids = np.array([r[0] for r in rows], dtype=object)
    dims = len(to_array(rows[0][1])) if rows else 0
    embeddings = np.array([to_array(r[1]) for r in rows], dtype=np.float32).reshape(len(rows), dims)
    features = np.array(
        [[np.nan if v is None else float(v) for v in r[2 : 2 + n_f]] for r in rows],
        dtype=np.float64,
    ).reshape(len(rows), n_f)
    genre_labels = [r[2 + n_f] for r in rows]
    sub_labels = [r[3 + n_f] for r in rows]
    genres = sorted({g for g in genre_labels if g})
    subgenres = sorted({g for g in sub_labels if g})
    g_index = {g: i for i, g in enumerate(genres)}
    s_index = {g: i for i, g in enumerate(subgenres)}
    uniform = np.full(len(BUCKETS), 1 / len(BUCKETS))
    emotions = np.array(
        [uniform if r[4 + n_f] is None else np.asarray(r[4 + n_f], dtype=np.float64) for r in rows]
    ).reshape(len(rows), len(BUCKETS))
    arrays = TrackArrays(
        track_ids=ids,
        embeddings=embeddings,
        features=features,
        genre=np.array([g_index.get(g, -1) for g in genre_labels], dtype=np.int64),
        subgenre=np.array([s_index.get(g, -1) for g in sub_labels], dtype=np.int64),
        emotions=emotions,
        genres=genres,
        subgenres=subgenres,
    )
    artist_labels = [(r[6 + n_f] or [None])[0] for r in rows]
    artist_names = sorted({a for a in artist_labels if a})
    a_index = {a: i for i, a in enumerate(artist_names)}
    arrays.artist = np.array([a_index.get(a, -1) for a in artist_labels], dtype=np.int64)
    arrays = with_artist_profiles(arrays, profiles_of(conn, artist_labels))
    arrays.context = np.array(
        [[np.nan if v is None else float(v) for v in r[-2:]] for r in rows], dtype=np.float64
    ).reshape(len(rows), 2)
    text = pd.DataFrame(
        [r[5 + n_f : -2] for r in rows],
        columns=["name", "artists", "description", "content_hash", "top_labels", "top_bucket"],
    )
    text.insert(0, "track_id", ids)
    return arrays, text


def with_artist_profiles(
    arrays: TrackArrays, profiles: Sequence[ArtistProfile | None]
) -> TrackArrays:
    """`arrays` with each song's artist profile (row-aligned; None: unknown) as the artist-
    level arrays: typical features and genre shares, kept apart from the song's own."""
    names = sorted({g for p in profiles if p is not None for g in p.genres})
    index = {g: i for i, g in enumerate(names)}
    features = np.full((len(profiles), len(ACOUSTIC_FEATURES)), np.nan)
    genres = np.zeros((len(profiles), len(names)))
    for row, profile in enumerate(profiles):
        if profile is None:
            continue
        features[row] = [profile.features.get(f, np.nan) for f in ACOUSTIC_FEATURES]
        total = sum(profile.genre_shares)
        for genre, share in zip(profile.genres, profile.genre_shares, strict=True):
            genres[row, index[genre]] = share / total
    return replace(arrays, artist_features=features, artist_genres=genres,
                   artist_genre_names=names)  # fmt: skip
