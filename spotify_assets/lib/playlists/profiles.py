"""Playlist profiles: what a playlist's members have in common, as arrays.

A profile is built from sufficient statistics (sums, sums of squares, counts), so "the same
profile without song i" is a subtraction: the learned ranker trains on leave-one-out
signals and the evaluation harness rebuilds profiles without held-out songs, both with the
code that builds the stored profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from spotify_assets.lib import versions
from spotify_assets.lib.features import ACOUSTIC_FEATURES
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.models.emotions import BUCKETS
from spotify_assets.lib.playlists.types import detect_type

# Context the learned ranker also weighs (not acoustic, but telling: an "80s" playlist, a
# "top hits" playlist); the primary artist is a third such signal.
CONTEXT_FEATURES = ("release_year", "popularity")
MIN_MEMBERS = 3  # fewer: the profile is the playlist's name/description embedding
SPREAD_FLOOR = 0.25  # a playlist's spread is at least this share of the catalog's spread


@dataclass
class TrackArrays:
    """Per-track inputs, row-aligned: unit embeddings, raw acoustic features (NaN = unknown),
    genre/subgenre codes into `genres`/`subgenres` (-1 = none) and emotion buckets."""

    track_ids: np.ndarray
    embeddings: np.ndarray  # (n, d) float32, unit norm
    features: np.ndarray  # (n, len(ACOUSTIC_FEATURES)) float64
    genre: np.ndarray  # (n,) int
    subgenre: np.ndarray  # (n,) int
    emotions: np.ndarray  # (n, len(BUCKETS)) float64; uniform when unknown
    genres: list[str]
    subgenres: list[str]
    artist: np.ndarray | None = None  # (n,) primary-artist code, -1 = unknown
    context: np.ndarray | None = None  # (n, len(CONTEXT_FEATURES)) float64, NaN = unknown
    # the person's co-listening vectors (lib/colistening), unit rows; NaN rows: nothing known
    colisten: np.ndarray | None = None
    # the primary artist's profile (lib/catalog/artists): the ARTIST'S typical features
    # (medians, NaN = unknown) and genre shares over `artist_genre_names` (rows sum to 1; 0
    # rows: unknown). Never the song's own: matching's artist_style signal reads them.
    artist_features: np.ndarray | None = None
    artist_genres: np.ndarray | None = None
    artist_genre_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.track_ids)
        if self.artist is None:
            self.artist = np.full(n, -1, dtype=np.int64)
        if self.context is None:
            self.context = np.full((n, len(CONTEXT_FEATURES)), np.nan)
        if self.colisten is None:
            self.colisten = np.full((n, 0), np.nan, dtype=np.float32)
        if self.artist_features is None:
            self.artist_features = np.full((n, len(ACOUSTIC_FEATURES)), np.nan)
        if self.artist_genres is None:
            self.artist_genres = np.zeros((n, len(self.artist_genre_names)))

    @property
    def has_artist_profile(self) -> np.ndarray:
        """(n,) whether the song's artist has a catalog profile (features or genres)."""
        return np.isfinite(self.artist_features).any(axis=1) | (self.artist_genres.sum(axis=1) > 0)

    @property
    def has_colisten(self) -> np.ndarray:
        """(n,) whether the song has a co-listening vector."""
        if not self.colisten.shape[1]:
            return np.zeros(len(self), dtype=bool)
        return np.isfinite(self.colisten).all(axis=1)

    def with_colisten(self, vectors: np.ndarray) -> TrackArrays:
        return replace(self, colisten=np.asarray(vectors, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.track_ids)

    def take(self, rows: np.ndarray) -> TrackArrays:
        return TrackArrays(
            self.track_ids[rows],
            self.embeddings[rows],
            self.features[rows],
            self.genre[rows],
            self.subgenre[rows],
            self.emotions[rows],
            self.genres,
            self.subgenres,
            self.artist[rows],
            self.context[rows],
            self.colisten[rows],
            self.artist_features[rows],
            self.artist_genres[rows],
            self.artist_genre_names,
        )


@dataclass
class Profiles:
    """P playlists' profiles, row-aligned with `playlist_ids`; sums kept for leave-one-out."""

    playlist_ids: list[str]
    names: list[str]
    count: np.ndarray  # (P,) members with embeddings
    emb_sum: np.ndarray  # (P, d)
    feat_sum: np.ndarray  # (P, F) over members with the feature known
    feat_sumsq: np.ndarray
    feat_n: np.ndarray  # (P, F)
    genre_counts: np.ndarray  # (P, G)
    subgenre_counts: np.ndarray  # (P, S)
    emotion_sum: np.ndarray  # (P, B)
    name_vectors: np.ndarray  # (P, d) unit
    global_mean: np.ndarray  # (F,) catalog mean / std: fallback and spread floor
    global_std: np.ndarray
    types: list[str]
    type_sources: list[str]
    artist_counts: sparse.csc_matrix | None = None  # (P, A) members per primary artist
    ctx_sum: np.ndarray | None = None  # (P, C) like feat_*, for CONTEXT_FEATURES
    ctx_sumsq: np.ndarray | None = None
    ctx_n: np.ndarray | None = None
    ctx_global_std: np.ndarray | None = None
    col_sum: np.ndarray | None = None  # (P, k) sum of members' co-listening vectors
    col_n: np.ndarray | None = None  # (P,) members with one
    # like feat_*, over the members' ARTISTS' typical features (TrackArrays.artist_features)
    art_sum: np.ndarray | None = None  # (P, F)
    art_sumsq: np.ndarray | None = None
    art_n: np.ndarray | None = None
    art_genre_sum: np.ndarray | None = None  # (P, Ga) sum of members' artist genre shares
    art_genre_n: np.ndarray | None = None  # (P,) members whose artist has genres

    def __len__(self) -> int:
        return len(self.playlist_ids)

    @property
    def col_centroid(self) -> np.ndarray:
        """(P, k) unit mean of the members' co-listening vectors; NaN rows where none has one."""
        if self.col_sum is None or not self.col_sum.shape[1]:
            return np.full((len(self), 0), np.nan)
        norms = np.linalg.norm(self.col_sum, axis=1, keepdims=True)
        out = np.divide(self.col_sum, norms, out=np.full_like(self.col_sum, np.nan),
                        where=(norms > 0) & (self.col_n[:, None] > 0))  # fmt: skip
        return out

    @property
    def ctx_mean(self) -> np.ndarray:
        return np.divide(self.ctx_sum, self.ctx_n, out=np.full_like(self.ctx_sum, np.nan),
                         where=self.ctx_n > 0)  # fmt: skip

    @property
    def ctx_spread(self) -> np.ndarray:
        mean = self.ctx_mean
        sq = np.divide(
            self.ctx_sumsq, self.ctx_n, out=np.zeros_like(self.ctx_sum), where=self.ctx_n > 0
        )
        std = np.where(self.ctx_n > 1, np.sqrt(np.clip(sq - mean**2, 0, None)), self.ctx_global_std)
        return np.maximum(np.nan_to_num(std, nan=1.0), SPREAD_FLOOR * self.ctx_global_std)

    @property
    def fallback(self) -> np.ndarray:
        return self.count < MIN_MEMBERS

    @property
    def centroid(self) -> np.ndarray:
        """Unit mean of member embeddings; the name embedding for small playlists."""
        norms = np.linalg.norm(self.emb_sum, axis=1, keepdims=True)
        centroid = np.divide(self.emb_sum, norms, out=np.zeros_like(self.emb_sum), where=norms > 0)
        return np.where(self.fallback[:, None], self.name_vectors, centroid).astype(np.float32)

    @property
    def audio_mean(self) -> np.ndarray:
        mean = np.divide(
            self.feat_sum, self.feat_n, out=np.zeros_like(self.feat_sum), where=self.feat_n > 0
        )
        known = (self.feat_n > 0) & ~self.fallback[:, None]
        return np.where(known, mean, self.global_mean[None, :])

    @property
    def audio_std(self) -> np.ndarray:
        mean = self.audio_mean
        sq = np.divide(
            self.feat_sumsq, self.feat_n, out=np.zeros_like(self.feat_sum), where=self.feat_n > 0
        )
        std = np.sqrt(np.clip(sq - mean**2, 0, None))
        known = (self.feat_n > 1) & ~self.fallback[:, None]
        return np.where(known, std, self.global_std[None, :])

    @property
    def spread(self) -> np.ndarray:
        """The scale of "close" per playlist and feature (floored so 3 similar songs do not make
        every other song infinitely far)."""
        return np.maximum(self.audio_std, SPREAD_FLOOR * self.global_std[None, :])

    def with_colisten(self, vectors: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> Profiles:
        """These profiles with the co-listening sums of other vectors (row-aligned with the
        tracks the profiles were built from; member pairs rows[i] in cols[i])."""
        known = np.isfinite(vectors).all(axis=1)
        values = np.where(known[:, None], vectors, 0.0).astype(np.float64)
        col_sum = np.zeros((len(self), vectors.shape[1]))
        np.add.at(col_sum, cols, values[rows])
        col_n = np.bincount(cols, weights=known[rows].astype(np.float64), minlength=len(self))
        return replace(self, col_sum=col_sum, col_n=col_n)

    def without(self, tracks: TrackArrays, rows: np.ndarray, cols: np.ndarray) -> Profiles:
        """These profiles with the member pairs (song rows[i] of `tracks` in playlist cols[i])
        taken out: a subtraction on the sums, so those songs can be scored as songs the
        playlists never had (a held-out song's view), not leave-one-out one pair at a time.
        Types stay as detected on the whole playlist."""
        n_p, rows, cols = len(self), np.asarray(rows), np.asarray(cols)
        inc = sparse.csr_matrix((np.ones(len(rows)), (cols, rows)), shape=(n_p, len(tracks)))
        known = np.isfinite(tracks.features)
        feats = np.where(known, tracks.features, 0.0)
        ctx_known = np.isfinite(tracks.context)
        ctx = np.where(ctx_known, tracks.context, 0.0)
        out = replace(
            self,
            count=self.count - np.bincount(cols, minlength=n_p),
            emb_sum=self.emb_sum - inc @ tracks.embeddings.astype(np.float64),
            feat_sum=self.feat_sum - inc @ feats,
            feat_sumsq=self.feat_sumsq - inc @ feats**2,
            feat_n=self.feat_n - inc @ known.astype(np.float64),
            genre_counts=self.genre_counts
            - _code_counts(inc, tracks.genre, self.genre_counts.shape[1]),
            subgenre_counts=self.subgenre_counts
            - _code_counts(inc, tracks.subgenre, self.subgenre_counts.shape[1]),
            emotion_sum=self.emotion_sum - inc @ tracks.emotions,
        )
        if self.col_sum is not None and self.col_sum.shape[1]:
            known_col = tracks.has_colisten
            vecs = np.where(known_col[:, None], tracks.colisten, 0.0).astype(np.float64)
            out.col_sum = self.col_sum - inc @ vecs
            out.col_n = self.col_n - inc @ known_col.astype(np.float64)
        if self.art_sum is not None:
            art = _artist_sums(tracks)
            out.art_sum = self.art_sum - inc @ art[0]
            out.art_sumsq = self.art_sumsq - inc @ art[1]
            out.art_n = self.art_n - inc @ art[2]
            out.art_genre_sum = self.art_genre_sum - inc @ art[3]
            out.art_genre_n = self.art_genre_n - inc @ art[4]
        if self.ctx_sum is not None:
            out.ctx_sum = self.ctx_sum - inc @ ctx
            out.ctx_sumsq = self.ctx_sumsq - inc @ ctx**2
            out.ctx_n = self.ctx_n - inc @ ctx_known.astype(np.float64)
        if self.artist_counts is not None:
            n_a = self.artist_counts.shape[1]
            valid = (tracks.artist >= 0) & (tracks.artist < n_a)
            onehot = sparse.csr_matrix(
                (np.ones(valid.sum()), (np.nonzero(valid)[0], tracks.artist[valid])),
                shape=(len(tracks), n_a),
            )
            out.artist_counts = sparse.csc_matrix(self.artist_counts - inc @ onehot)
        return out

    @staticmethod
    def _dist(counts: np.ndarray) -> np.ndarray:
        total = counts.sum(axis=1, keepdims=True)
        return np.divide(counts, total, out=np.zeros_like(counts, dtype=float), where=total > 0)

    @property
    def genre_dist(self) -> np.ndarray:
        return self._dist(self.genre_counts)

    @property
    def subgenre_dist(self) -> np.ndarray:
        return self._dist(self.subgenre_counts)

    @property
    def emotion_dist(self) -> np.ndarray:
        dist = self._dist(self.emotion_sum)
        uniform = np.full(len(BUCKETS), 1 / len(BUCKETS))
        return np.where(dist.sum(axis=1, keepdims=True) > 0, dist, uniform)


def global_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = np.nanmean(features, axis=0)
    std = np.nanstd(features, axis=0)
    return np.nan_to_num(mean), np.where(np.isfinite(std) & (std > 0), std, 1.0)


def build_profiles(
    tracks: TrackArrays,
    playlist_ids: Sequence[str],
    names: Sequence[str],
    descriptions: Sequence[str],
    members: Sequence[np.ndarray],
    name_vectors: np.ndarray,
    global_mean: np.ndarray | None = None,
    global_std: np.ndarray | None = None,
) -> Profiles:
    """Profiles of playlists whose members are rows of `tracks` (`members[p]`: row indices)."""
    n_p, d = len(playlist_ids), tracks.embeddings.shape[1]
    n_f = tracks.features.shape[1]
    if global_mean is None or global_std is None:
        global_mean, global_std = global_stats(tracks.features)
    # One sparse incidence matrix (P × n) turns every per-playlist sum into a matmul.
    lengths = np.array([len(m) for m in members], dtype=np.int64)
    rows = np.repeat(np.arange(n_p), lengths)
    cols = np.concatenate([np.asarray(m, dtype=np.int64) for m in members]) if n_p else []
    cols = np.asarray(cols, dtype=np.int64)
    incidence = np.zeros((n_p, len(tracks)), dtype=np.float32)
    np.add.at(incidence, (rows, cols), 1.0)

    known = np.isfinite(tracks.features)
    feats = np.where(known, tracks.features, 0.0)
    inc64 = incidence.astype(np.float64)
    profiles = Profiles(
        playlist_ids=list(playlist_ids),
        names=list(names),
        count=lengths.astype(np.float64),
        emb_sum=(incidence @ tracks.embeddings).astype(np.float64) if n_p else np.zeros((0, d)),
        feat_sum=inc64 @ feats,
        feat_sumsq=inc64 @ feats**2,
        feat_n=inc64 @ known.astype(np.float64),
        genre_counts=_code_counts(inc64, tracks.genre, len(tracks.genres)),
        subgenre_counts=_code_counts(inc64, tracks.subgenre, len(tracks.subgenres)),
        emotion_sum=inc64 @ tracks.emotions,
        name_vectors=np.asarray(name_vectors, dtype=np.float32).reshape(n_p, d),
        global_mean=global_mean,
        global_std=global_std,
        types=[],
        type_sources=[],
    )
    ctx_known = np.isfinite(tracks.context)
    ctx = np.where(ctx_known, tracks.context, 0.0)
    profiles.ctx_sum = inc64 @ ctx
    profiles.ctx_sumsq = inc64 @ ctx**2
    profiles.ctx_n = inc64 @ ctx_known.astype(np.float64)
    n_known = ctx_known.sum(axis=0)
    c_mean = ctx.sum(axis=0) / np.maximum(n_known, 1)
    c_var = (ctx**2).sum(axis=0) / np.maximum(n_known, 1) - c_mean**2
    ctx_std = np.sqrt(np.clip(c_var, 0, None))
    profiles.ctx_global_std = np.where((n_known > 1) & (ctx_std > 0), ctx_std, 1.0)
    n_artists = int(tracks.artist.max()) + 1 if len(tracks) and tracks.artist.max() >= 0 else 1
    valid = tracks.artist >= 0
    onehot = sparse.csr_matrix(
        (np.ones(valid.sum()), (np.nonzero(valid)[0], tracks.artist[valid])),
        shape=(len(tracks), n_artists),
    )
    profiles.artist_counts = sparse.csc_matrix(sparse.csr_matrix(inc64) @ onehot)
    known_col = tracks.has_colisten
    profiles.col_sum = inc64 @ np.where(known_col[:, None], tracks.colisten, 0.0)
    profiles.col_n = inc64 @ known_col.astype(np.float64)
    art = _artist_sums(tracks)
    profiles.art_sum, profiles.art_sumsq, profiles.art_n = (inc64 @ a for a in art[:3])
    profiles.art_genre_sum, profiles.art_genre_n = inc64 @ art[3], inc64 @ art[4]
    mean = profiles.audio_mean
    for p in range(n_p):
        small = profiles.count[p] < MIN_MEMBERS
        audio = {} if small or not n_f else dict(zip(ACOUSTIC_FEATURES, mean[p], strict=True))
        kind, source = detect_type(names[p], descriptions[p] or "", audio)
        profiles.types.append(kind)
        profiles.type_sources.append(source)
    return profiles


def _artist_sums(tracks: TrackArrays) -> tuple[np.ndarray, ...]:
    """Per track, what it adds to a playlist's artist sums: features, their squares, which
    are known, genre shares, whether any genre is known."""
    known = np.isfinite(tracks.artist_features)
    values = np.where(known, tracks.artist_features, 0.0)
    has_genre = tracks.artist_genres.sum(axis=1) > 0
    return values, values**2, known.astype(np.float64), tracks.artist_genres, has_genre * 1.0


def _code_counts(incidence: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    onehot = np.zeros((len(codes), max(size, 1)))
    valid = codes >= 0
    onehot[np.nonzero(valid)[0], codes[valid]] = 1.0
    return incidence @ onehot


def profile_hash(
    bundle_hash: str,
    name: str,
    description: str | None,
    members: Sequence[tuple[str, str]],
) -> str:
    """Covers what a profile is built from: the bundle (its embeddings and emotions), the name
    and description, and the ordered members with their content hashes."""
    return stable_hash(
        "pp",
        {
            "version": versions.PLAYLIST_PROFILE_VERSION,
            "bundle": bundle_hash,
            "name": name,
            "description": description or "",
            "members": [list(m) for m in members],
        },
    )


def name_text(name: str, description: str | None) -> str:
    """What the playlist's name embedding reads (as a query)."""
    description = (description or "").strip()
    return f"{name}. {description}" if description and description != name else name


def profile_text(profiles: Profiles, p: int, tracks: TrackArrays) -> str:
    """A sentence describing the playlist: the cross-encoder's query."""
    parts = [f"{profiles.names[p]}: a {profiles.types[p]} playlist"]
    genres = profiles.genre_dist[p]
    if genres.size and genres.max() > 0:
        top = [tracks.genres[g] for g in np.argsort(-genres)[:3] if genres[g] >= 0.1]
        if top:
            parts.append("genres " + ", ".join(top))
    if not profiles.fallback[p]:
        mean = dict(zip(ACOUSTIC_FEATURES, profiles.audio_mean[p], strict=True))
        parts.append(
            f"energy {mean['energy']:.2f}, valence {mean['valence']:.2f}, "
            f"danceability {mean['danceability']:.2f}, acousticness {mean['acousticness']:.2f}, "
            f"tempo {mean['tempo']:.0f} BPM"
        )
        emotions = profiles.emotion_dist[p]
        parts.append("mood " + ", ".join(BUCKETS[b] for b in np.argsort(-emotions)[:2]))
    return "; ".join(parts) + "."
