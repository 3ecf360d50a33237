"""Stage 1: every (song, playlist) signal as a matrix, combined with the playlist-type weights.

All of it is numpy over whole matrices (songs × playlists), chunked by songs to bound
memory; there is no Python loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.playlists.profiles import SPREAD_FLOOR, Profiles, TrackArrays

SIGNALS = ("sem_centroid", "sem_name", "acoustic", "emotion", "genre", "subgenre", "colisten")
# computed alongside, for the learned ranker only (stage 1 is the seed's heuristic); NaN
# where unknown (the song or the playlist lacks the column)
CONTEXT_SIGNALS = ("artist", "year", "popularity")
# the parts of the stage-1 score, for explanations
PARTS = ("semantic", "acoustic", "emotion", "genre", "colisten")
_LN2 = np.log(2.0)
_CHUNK = 2048


@dataclass
class Stage1:
    """Signals and the combined score for songs × playlists."""

    signals: dict[str, np.ndarray]  # name → (S, P) float32
    parts: dict[str, np.ndarray]  # weighted parts; they sum to `score`
    score: np.ndarray  # (S, P)
    known: dict[str, np.ndarray] = field(default_factory=dict)  # part → (S,) bool, see below
    present: dict[str, np.ndarray] = field(default_factory=dict)  # see song_presence


def song_knowns(songs: TrackArrays, config: MatchConfig | None = None) -> dict[str, np.ndarray]:
    """Per song, whether it has what a part needs: audio features for "acoustic", a genre for
    "genre". Most of a real person's songs (library tracks) have neither; for them the part is
    missing, not a bad match, and `combine` spreads its weight over the parts that are known
    (unless `config.renormalize_missing` is off: then nothing counts as missing)."""
    if config is not None and not config.renormalize_missing:
        return {  # for the ranker only; co-listening is always missing, never a bad match
            "acoustic": np.isfinite(songs.features).any(axis=1),
            "colisten": songs.has_colisten,
        }
    return {
        "acoustic": np.isfinite(songs.features).any(axis=1),
        "genre": songs.genre >= 0,
        "colisten": songs.has_colisten,
    }


def song_presence(songs: TrackArrays) -> dict[str, np.ndarray]:
    """Per song, which inputs it has (the ranker's has_* flags): audio features, an emotion
    prediction (unknown is stored as the uniform distribution), a genre, a subgenre."""
    uniform = np.full(songs.emotions.shape[1], 1 / max(songs.emotions.shape[1], 1))
    return {
        "acoustic": np.isfinite(songs.features).any(axis=1),
        "emotion": ~np.isclose(songs.emotions, uniform[None, :]).all(axis=1),
        "genre": songs.genre >= 0,
        "subgenre": songs.subgenre >= 0,
        "colisten": songs.has_colisten,
    }


def colisten_similarity(vectors: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine of each song's co-listening vector to each playlist's member centroid; NaN where
    either is unknown. (S, k) × (P, k) → (S, P)."""
    if not vectors.shape[1] or not centroids.shape[1]:
        return np.full((len(vectors), len(centroids)), np.nan)
    out = np.nan_to_num(vectors) @ np.nan_to_num(centroids).T
    unknown = ~np.isfinite(vectors).all(axis=1)[:, None] | ~np.isfinite(centroids).all(axis=1)
    return np.where(unknown, np.nan, out)


def acoustic_similarity(features: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """exp(-½ · mean squared distance in units of each playlist's spread), unknown features
    skipped. (S, F) × (P, F) → (S, P)."""
    z = (features[:, None, :] - mean[None, :, :]) / spread[None, :, :]
    known = np.isfinite(z)
    sq = np.where(known, z * z, 0.0).sum(axis=2)
    n = known.sum(axis=2)
    msd = np.divide(sq, n, out=np.full(sq.shape, 4.0), where=n > 0)
    return np.exp(-0.5 * msd)


def emotion_similarity(song: np.ndarray, playlist: np.ndarray) -> np.ndarray:
    """1 - Jensen-Shannon divergence (base 2) between emotion bucket distributions."""
    eps = 1e-9
    s = song[:, None, :] + eps
    p = playlist[None, :, :] + eps
    m = 0.5 * (s + p)
    js = 0.5 * (s * np.log(s / m)).sum(axis=2) + 0.5 * (p * np.log(p / m)).sum(axis=2)
    return 1.0 - np.clip(js / _LN2, 0.0, 1.0)


def code_overlap(codes: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Share of the playlist's members in the song's genre: (S,) codes × (P, G) → (S, P)."""
    out = np.zeros((len(codes), dist.shape[0]))
    valid = codes >= 0
    if dist.shape[1]:
        out[valid] = dist[:, codes[valid]].T
    return out


def artist_share(codes: np.ndarray, profiles: Profiles) -> np.ndarray:
    """Share of each playlist's members by the song's primary artist: (S,) → (S, P). NaN
    (unknown, not "no share") where the song has no artist or no member of the playlist has
    one: a catalog without an artist column gives NaN throughout."""
    counts = profiles.artist_counts
    out = np.full((len(codes), len(profiles)), np.nan)
    if counts is None:
        return out
    valid = np.nonzero((codes >= 0) & (codes < counts.shape[1]))[0]
    known = np.asarray(counts.sum(axis=1)).ravel() > 0  # playlists with any artist known
    if len(valid):
        shares = counts[:, codes[valid]].toarray().T
        share = shares / np.maximum(profiles.count, 1)[None, :]
        out[valid] = np.where(known[None, :], share, np.nan)
    return out


def closeness(values: np.ndarray, mean: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """exp(-½ z²) per context feature; NaN where the song's value or the playlist's is
    unknown (never a middling 0.5 that looks like a real closeness). (S, C) × (P, C) →
    (S, P, C)."""
    z = (values[:, None, :] - mean[None, :, :]) / spread[None, :, :]
    return np.where(np.isfinite(z), np.exp(-0.5 * np.nan_to_num(z) ** 2), np.nan)


def compute_signals(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    centroid = profiles.centroid
    mean, spread = profiles.audio_mean, profiles.spread
    emotions = profiles.emotion_dist
    genre, subgenre = profiles.genre_dist, profiles.subgenre_dist
    ctx_mean, ctx_spread = profiles.ctx_mean, profiles.ctx_spread
    col_centroid = profiles.col_centroid
    names = SIGNALS + CONTEXT_SIGNALS
    out = {name: np.empty((len(songs), len(profiles)), dtype=np.float32) for name in names}
    for start in range(0, len(songs), _CHUNK):
        part = slice(start, start + _CHUNK)
        emb = songs.embeddings[part]
        out["sem_centroid"][part] = emb @ centroid.T
        out["sem_name"][part] = emb @ profiles.name_vectors.T
        out["acoustic"][part] = acoustic_similarity(songs.features[part], mean, spread)
        out["emotion"][part] = emotion_similarity(songs.emotions[part], emotions)
        out["genre"][part] = code_overlap(songs.genre[part], genre)
        out["subgenre"][part] = code_overlap(songs.subgenre[part], subgenre)
        out["colisten"][part] = colisten_similarity(songs.colisten[part], col_centroid)
        out["artist"][part] = artist_share(songs.artist[part], profiles)
        close = closeness(songs.context[part], ctx_mean, ctx_spread)
        out["year"][part] = close[:, :, 0]
        out["popularity"][part] = close[:, :, 1]
    return out


def type_weight_arrays(profiles: Profiles, config: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    weights = [config.type_weights.get(t, config.type_weights["default"]) for t in profiles.types]
    table = np.asarray(weights, dtype=np.float64).reshape(len(profiles), 2)
    return table[:, 0], table[:, 1]


def combine(
    signals: dict[str, np.ndarray],
    profiles: Profiles,
    config: MatchConfig,
    known: dict[str, np.ndarray] | None = None,
) -> Stage1:
    """The weighted parts and their sum. With `known` (see `song_knowns`), a part a song lacks
    is 0 and the others are scaled so the weights still sum to the same total: a song without
    audio features is judged on meaning, emotion and genre alone, on the same scale as the
    rest (not as a bad acoustic match). Songs that have everything are unchanged."""
    w_sem, w_ac = type_weight_arrays(profiles, config)
    fallback = profiles.fallback
    # small playlists have no member centroid or audio profile: their name carries them
    semantic = np.where(
        fallback[None, :],
        signals["sem_name"],
        (1 - config.name_weight) * signals["sem_centroid"]
        + config.name_weight * signals["sem_name"],
    )
    w_sem = np.where(fallback, 1.0, w_sem)
    w_ac = np.where(fallback, 0.0, w_ac)
    colisten = signals.get("colisten")  # absent: nothing known of co-listening
    if colisten is None:
        colisten = np.full(signals["sem_name"].shape, np.nan, dtype=np.float32)
    w_col = config.colisten_weight * np.ones(len(profiles))
    parts = {
        "semantic": (w_sem[None, :] * semantic).astype(np.float32),
        "acoustic": (w_ac[None, :] * signals["acoustic"]).astype(np.float32),
        "emotion": (config.emotion_weight * signals["emotion"]).astype(np.float32),
        "genre": (config.genre_weight * 0.5 * (signals["genre"] + signals["subgenre"])).astype(
            np.float32
        ),
        "colisten": (w_col[None, :] * np.nan_to_num(colisten)).astype(np.float32),
    }
    known = dict(known or {})
    # co-listening is known for a pair only when the playlist's members have vectors too
    col_known = np.isfinite(colisten)
    if "colisten" in known:
        col_known &= known["colisten"][:, None]
    weights = {"acoustic": w_ac, "genre": config.genre_weight * np.ones(len(profiles)),
               "colisten": w_col}  # fmt: skip
    # without "genre" in `known` (renormalize_missing off) only co-listening is renormalized
    renormalize = ("acoustic", "genre") if "genre" in known else ()
    masks = {part: known[part][:, None] for part in renormalize}
    masks["colisten"] = col_known
    if not all(m.all() for m in masks.values()):
        # the known parts share the weight the four content parts have together, so a song
        # without co-listening (or a world without any) is scored exactly as before
        total = w_sem + w_ac + config.emotion_weight + weights["genre"]  # (P,)
        present = np.broadcast_to((w_sem + config.emotion_weight)[None, :], parts["semantic"].shape)
        for part, weight in weights.items():
            has = masks.get(part, np.ones((1, 1), dtype=bool))
            parts[part] = np.where(has, parts[part], 0.0).astype(np.float32)
            present = present + np.where(has, weight[None, :], 0.0)
        scale = (total[None, :] / np.maximum(present, 1e-9)).astype(np.float32)
        parts = {name: (value * scale).astype(np.float32) for name, value in parts.items()}
    score = sum(parts.values())
    return Stage1(signals, parts, score.astype(np.float32), known)


def leave_one_out(
    signals: dict[str, np.ndarray],
    songs: TrackArrays,
    profiles: Profiles,
    rows: np.ndarray,
    cols: np.ndarray,
) -> None:
    """Overwrite the signals of member pairs (song rows[i] is in playlist cols[i]) with their
    values against the playlist without that song. In place; vectorized over pairs."""
    if not len(rows):
        return
    n = profiles.count[cols] - 1
    ok = n >= 1
    rows, cols, n = rows[ok], cols[ok], n[ok]
    emb = songs.embeddings[rows].astype(np.float64)
    rest = profiles.emb_sum[cols] - emb
    norms = np.linalg.norm(rest, axis=1)
    sem = np.einsum("ij,ij->i", emb, rest) / np.maximum(norms, 1e-9)
    signals["sem_centroid"][rows, cols] = sem

    x = songs.features[rows]
    known = np.isfinite(x)
    xk = np.where(known, x, 0.0)
    f_n = profiles.feat_n[cols] - known
    f_sum = profiles.feat_sum[cols] - xk
    f_sq = profiles.feat_sumsq[cols] - xk**2
    mean = np.divide(f_sum, f_n, out=np.tile(profiles.global_mean, (len(rows), 1)), where=f_n > 0)
    var = np.divide(f_sq, f_n, out=np.zeros_like(f_sq), where=f_n > 0) - mean**2
    std = np.where(f_n > 1, np.sqrt(np.clip(var, 0, None)), profiles.global_std)
    spread = np.maximum(std, SPREAD_FLOOR * profiles.global_std)
    z = (x - mean) / spread
    fin = np.isfinite(z)
    count = fin.sum(axis=1)
    msd = np.divide(np.where(fin, z * z, 0).sum(axis=1), count, out=np.full(len(rows), 4.0),
                    where=count > 0)  # fmt: skip
    signals["acoustic"][rows, cols] = np.exp(-0.5 * msd)

    b = songs.emotions[rows]
    e_rest = profiles.emotion_sum[cols] - b
    total = e_rest.sum(axis=1, keepdims=True)
    dist = np.divide(e_rest, total, out=np.full_like(e_rest, 1 / b.shape[1]), where=total > 0)
    signals["emotion"][rows, cols] = _js_rows(b, dist)

    if profiles.artist_counts is not None:
        codes = songs.artist[rows]
        valid = (codes >= 0) & (codes < profiles.artist_counts.shape[1])
        own = np.zeros(len(rows))
        if valid.any():
            counts = profiles.artist_counts.tocsr()
            own[valid] = np.asarray(counts[cols[valid], codes[valid]]).ravel()
        others_known = np.asarray(profiles.artist_counts.sum(axis=1)).ravel()[cols] - valid
        signals["artist"][rows, cols] = np.where(
            valid & (others_known > 0), (own - valid) / n, np.nan
        )
    if profiles.ctx_sum is not None:
        c = songs.context[rows]
        c_known = np.isfinite(c)
        ck = np.where(c_known, c, 0.0)
        c_n = profiles.ctx_n[cols] - c_known
        c_mean = np.divide(
            profiles.ctx_sum[cols] - ck, c_n, out=np.full_like(ck, np.nan), where=c_n > 0
        )
        c_sq = np.divide(
            profiles.ctx_sumsq[cols] - ck**2, c_n, out=np.zeros_like(ck), where=c_n > 0
        )
        c_std = np.where(
            c_n > 1, np.sqrt(np.clip(c_sq - c_mean**2, 0, None)), profiles.ctx_global_std
        )
        c_spread = np.maximum(np.nan_to_num(c_std, nan=1.0), SPREAD_FLOOR * profiles.ctx_global_std)
        z = (c - c_mean) / c_spread
        close = np.where(np.isfinite(z), np.exp(-0.5 * np.nan_to_num(z) ** 2), np.nan)
        signals["year"][rows, cols] = close[:, 0]
        signals["popularity"][rows, cols] = close[:, 1]

    if profiles.col_sum is not None and profiles.col_sum.shape[1]:
        vec = songs.colisten[rows].astype(np.float64)
        own = np.isfinite(vec).all(axis=1)
        rest = profiles.col_sum[cols] - np.where(own[:, None], vec, 0.0)
        rest_n = profiles.col_n[cols] - own
        norms = np.linalg.norm(rest, axis=1)
        cos = np.einsum("ij,ij->i", np.nan_to_num(vec), rest) / np.maximum(norms, 1e-9)
        signals["colisten"][rows, cols] = np.where(own & (rest_n > 0) & (norms > 0), cos, np.nan)

    for name, codes, counts in (
        ("genre", songs.genre[rows], profiles.genre_counts),
        ("subgenre", songs.subgenre[rows], profiles.subgenre_counts),
    ):
        valid = codes >= 0
        own = np.zeros(len(rows))
        own[valid] = counts[cols[valid], codes[valid]]
        total = counts[cols].sum(axis=1) - valid
        share = np.divide(own - valid, total, out=np.zeros(len(rows)), where=total > 0)
        signals[name][rows, cols] = np.where(valid, share, 0.0)


def _js_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    eps = 1e-9
    a, b = a + eps, b + eps
    m = 0.5 * (a + b)
    js = 0.5 * (a * np.log(a / m)).sum(axis=1) + 0.5 * (b * np.log(b / m)).sum(axis=1)
    return 1.0 - np.clip(js / np.log(2.0), 0.0, 1.0)


def stage1(
    songs: TrackArrays,
    profiles: Profiles,
    config: MatchConfig,
    members: np.ndarray | None = None,
) -> Stage1:
    """`members` (S, P) marks pairs where the song is already in the playlist: their signals
    are taken against the playlist without the song, as the ranker saw them in training (a
    song inside a centroid would otherwise look far closer to it than any newcomer can)."""
    signals = compute_signals(songs, profiles)
    if members is not None and members.any():
        rows, cols = np.nonzero(members)
        leave_one_out(signals, songs, profiles, rows, cols)
    out = combine(signals, profiles, config, song_knowns(songs, config))
    out.present = song_presence(songs)
    return out


def top_indices(scores: np.ndarray, k: int, axis: int = 1) -> np.ndarray:
    """Indices of the k best along `axis`, best first (argpartition, then sort the k)."""
    if axis == 0:
        return top_indices(scores.T, k, axis=1).T
    k = min(k, scores.shape[1])
    if k == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)
