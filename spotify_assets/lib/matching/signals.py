"""Stage 1: every (song, playlist) signal as a matrix (the units of lib/matching/units),
combined with the playlist-type weights.

All of it is numpy over whole matrices (songs × playlists), chunked by songs to bound
memory; there is no Python loop over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.units import SIGNAL_NAMES, UNITS
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays

# the parts of the stage-1 score, for explanations
PARTS = ("semantic", "acoustic", "emotion", "genre", "colisten", "artist_style")
_CHUNK = 2048


@dataclass
class Stage1:
    """Signals and the combined score for songs × playlists."""

    signals: dict[str, np.ndarray]  # name → (S, P) float32
    parts: dict[str, np.ndarray]  # weighted parts; they sum to `score`
    score: np.ndarray  # (S, P)
    known: dict[str, np.ndarray] = field(default_factory=dict)  # part → (S,) bool, see below
    present: dict[str, np.ndarray] = field(default_factory=dict)  # see song_presence
    # the score with a missing audio profile or genre counted as a bad match (no
    # renormalization of the content parts): the ranker reads both and learns which to trust
    plain: np.ndarray | None = None


def song_knowns(songs: TrackArrays, config: MatchConfig | None = None) -> dict[str, np.ndarray]:
    """Per song, whether it has what a part needs: audio features for "acoustic", a genre for
    "genre". Most of a real person's songs (library tracks) have neither; for them the part is
    missing, not a bad match, and `combine` spreads its weight over the parts that are known
    (unless `config.renormalize_missing` is off: then nothing counts as missing)."""
    if config is not None and not config.renormalize_missing:
        return {  # for the ranker only; the person's evidence is always missing, not bad
            "acoustic": np.isfinite(songs.features).any(axis=1),
            "colisten": songs.has_colisten,
            "artist_style": songs.has_artist_profile,
        }
    return {
        "acoustic": np.isfinite(songs.features).any(axis=1),
        "genre": songs.genre >= 0,
        "colisten": songs.has_colisten,
        "artist_style": songs.has_artist_profile,
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
        "artist_style": songs.has_artist_profile,
    }


def compute_signals(songs: TrackArrays, profiles: Profiles) -> dict[str, np.ndarray]:
    """Every unit's signals for songs × playlists (float32), computed in chunks of songs."""
    out = {name: np.empty((len(songs), len(profiles)), dtype=np.float32) for name in SIGNAL_NAMES}
    for start in range(0, len(songs), _CHUNK):
        part = slice(start, start + _CHUNK)
        chunk = songs.take(np.arange(start, min(start + _CHUNK, len(songs))))
        for unit in UNITS:
            for name, values in unit.compute(chunk, profiles).items():
                out[name][part] = values
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
    rest (not as a bad acoustic match). Songs that have everything are unchanged.

    The person's evidence parts (co-listening, the artist's style) are always renormalized
    when unknown for a pair, and their weights come on top of the four content parts: a song
    without them (or a world without any) is scored exactly as before they existed."""
    w_sem, w_ac = type_weight_arrays(profiles, config)
    fallback = profiles.fallback
    shape = signals["sem_name"].shape
    # small playlists have no member centroid or audio profile: their name carries them
    semantic = np.where(
        fallback[None, :],
        signals["sem_name"],
        (1 - config.name_weight) * signals["sem_centroid"]
        + config.name_weight * signals["sem_name"],
    )
    w_sem = np.where(fallback, 1.0, w_sem)
    w_ac = np.where(fallback, 0.0, w_ac)
    ones = np.ones(len(profiles))
    evidence = {  # part → (value per pair, NaN = unknown; weight per playlist)
        "colisten": (_signal(signals, "colisten", shape), config.colisten_weight * ones),
        "artist_style": (
            _mean_known(_signal(signals, "artist_sound", shape),
                        _signal(signals, "artist_genre", shape)),
            config.artist_style_weight * ones,
        ),
    }  # fmt: skip
    parts = {
        "semantic": (w_sem[None, :] * semantic).astype(np.float32),
        "acoustic": (w_ac[None, :] * signals["acoustic"]).astype(np.float32),
        "emotion": (config.emotion_weight * signals["emotion"]).astype(np.float32),
        "genre": (config.genre_weight * 0.5 * (signals["genre"] + signals["subgenre"])).astype(
            np.float32
        ),
    }
    weights = {"acoustic": w_ac, "genre": config.genre_weight * ones}
    known = dict(known or {})
    # without "genre" in `known` (renormalize_missing off) only the evidence parts are
    renormalize = ("acoustic", "genre") if "genre" in known else ()
    masks = {part: known[part][:, None] for part in renormalize}
    for part, (value, weight) in evidence.items():
        parts[part] = (weight[None, :] * np.nan_to_num(value)).astype(np.float32)
        weights[part] = weight
        masks[part] = np.isfinite(value) & known.get(part, np.ones(len(value), bool))[:, None]
    if not all(m.all() for m in masks.values()):
        # the known parts share the weight the four content parts have together
        total = w_sem + w_ac + config.emotion_weight + weights["genre"]  # (P,)
        present = np.broadcast_to((w_sem + config.emotion_weight)[None, :], shape)
        for part, weight in weights.items():
            has = masks.get(part, np.ones((1, 1), dtype=bool))
            parts[part] = np.where(has, parts[part], 0.0).astype(np.float32)
            present = present + np.where(has, weight[None, :], 0.0)
        scale = (total[None, :] / np.maximum(present, 1e-9)).astype(np.float32)
        parts = {name: (value * scale).astype(np.float32) for name, value in parts.items()}
    score = sum(parts.values())
    plain = None
    if "genre" in known:  # renormalized: also the plain score (see Stage1.plain)
        evidence_only = {k: v for k, v in known.items() if k not in ("acoustic", "genre")}
        plain = combine(signals, profiles, config, evidence_only).score
    out = Stage1(signals, parts, score.astype(np.float32), known)
    out.plain = score.astype(np.float32) if plain is None else plain
    return out


def _signal(signals: dict[str, np.ndarray], name: str, shape) -> np.ndarray:
    """A signal, or all-unknown where it was not computed (a world without that evidence)."""
    value = signals.get(name)
    return np.full(shape, np.nan, dtype=np.float32) if value is None else value


def _mean_known(*values: np.ndarray) -> np.ndarray:
    """Mean of the known values per pair; NaN where none is."""
    stack = np.stack(values)
    known = np.isfinite(stack)
    n = known.sum(axis=0)
    total = np.where(known, stack, 0.0).sum(axis=0)
    return np.divide(total, n, out=np.full(n.shape, np.nan), where=n > 0)


def leave_one_out(
    signals: dict[str, np.ndarray],
    songs: TrackArrays,
    profiles: Profiles,
    rows: np.ndarray,
    cols: np.ndarray,
) -> None:
    """Overwrite the signals of member pairs (song rows[i] is in playlist cols[i]) with their
    values against the playlist without that song (each unit's `leave_one_out`). In place;
    vectorized over pairs. A playlist whose only member is the song keeps the plain value."""
    if not len(rows):
        return
    n = profiles.count[cols] - 1
    ok = n >= 1
    rows, cols, n = rows[ok], cols[ok], n[ok]
    for unit in UNITS:
        for name, values in unit.leave_one_out(songs, profiles, rows, cols, n).items():
            signals[name][rows, cols] = values


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
