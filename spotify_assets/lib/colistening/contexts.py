"""The sequences a person's songs appear in, weighted by how much each says."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LIKED_CHUNK = 30  # liked songs are one long list in the order they were liked: windows of it
WEIGHTS = {"playlist": 1.0, "session": 1.0, "liked": 0.5}


@dataclass
class Contexts:
    vocab: list[str]  # track ids; a sequence holds indices into it
    sequences: list[np.ndarray]
    weights: np.ndarray  # one per sequence
    kinds: list[str]  # playlist | session | liked

    @property
    def index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.vocab)}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind in self.kinds:
            out[kind] = out.get(kind, 0) + 1
        return out

    @property
    def tokens(self) -> int:
        return int(sum(len(s) for s in self.sequences))


def build_contexts(
    playlists: Mapping[str, Sequence[str]],
    liked: Sequence[str] = (),
    sessions: Iterable[Sequence[str]] = (),
) -> Contexts:
    """Sequences of track ids: each playlist in its order, the liked songs in windows of
    LIKED_CHUNK, each listening session in play order (a song repeated back to back counted
    once). Sequences of one song say nothing and are left out."""
    vocab: dict[str, int] = {}

    def encode(ids: Sequence[str]) -> np.ndarray:
        out, last = [], None
        for track in ids:
            if not track or track == last:
                continue
            out.append(vocab.setdefault(track, len(vocab)))
            last = track
        return np.asarray(out, dtype=np.int64)

    sequences, kinds = [], []
    for members in playlists.values():
        sequences.append(encode(members))
        kinds.append("playlist")
    liked = list(liked)
    for start in range(0, len(liked), LIKED_CHUNK // 2):  # overlapping windows
        sequences.append(encode(liked[start : start + LIKED_CHUNK]))
        kinds.append("liked")
        if start + LIKED_CHUNK >= len(liked):
            break
    for session in sessions:
        sequences.append(encode(session))
        kinds.append("session")
    keep = [i for i, s in enumerate(sequences) if len(set(s.tolist())) > 1]
    return Contexts(
        vocab=list(vocab),
        sequences=[sequences[i] for i in keep],
        weights=np.array([WEIGHTS[kinds[i]] for i in keep], dtype=np.float64),
        kinds=[kinds[i] for i in keep],
    )
