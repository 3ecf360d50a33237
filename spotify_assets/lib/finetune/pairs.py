"""Training pairs from the person's playlists and from track features, minus held-out songs.

Playlist pairs: (playlist name, description or profile text) ↔ a member's description.
Feature pairs: a short phrasing of a track's genre and audio features ↔ its description.
The matching evaluation's held-out members (same `split`, same seed) are never trained on,
so a fine-tuned bundle is judged on songs it has not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spotify_assets.lib.matching.evaluation import split

# (feature, low word, high word): thresholds are the usual 0..1 audio-feature thirds
_WORDS = (
    ("energy", "calm", "energetic"),
    ("danceability", "not very danceable", "danceable"),
    ("valence", "sad", "happy"),
    ("acousticness", "electronic", "acoustic"),
    ("instrumentalness", "with vocals", "instrumental"),
)


@dataclass(frozen=True)
class PairSet:
    anchors: list[str]
    positives: list[str]
    kinds: list[str]  # "playlist" | "feature", per pair
    excluded: int  # held-out memberships left out

    def __len__(self) -> int:
        return len(self.anchors)

    def payload(self) -> list[list[str]]:
        """What the artifact key hashes: the pairs themselves, in order."""
        return [list(p) for p in zip(self.anchors, self.positives, self.kinds, strict=True)]


def feature_phrase(genre: str | None, features: dict[str, float]) -> str:
    """ "energetic happy danceable pop": words for the clearly high or low features."""
    words = []
    for name, low, high in _WORDS:
        value = features.get(name)
        if value is None or not np.isfinite(value):
            continue
        if value >= 0.67:
            words.append(high)
        elif value <= 0.33:
            words.append(low)
    tempo = features.get("tempo")
    if tempo is not None and np.isfinite(tempo):
        words.append("fast" if tempo >= 130 else "slow" if tempo <= 90 else "")
    text = " ".join(w for w in words if w)
    return f"{text} {genre or ''} music".strip().replace("  ", " ")


def build_pairs(
    names: Sequence[str],
    descriptions: Sequence[str | None],
    members: Sequence[np.ndarray],
    track_texts: Sequence[str],
    track_genres: Sequence[str | None],
    track_features: Sequence[dict[str, float]],
    seed: int = 42,
    max_pairs: int = 20_000,
    feature_share: float = 0.3,
    profile_texts: Sequence[str] | None = None,
) -> PairSet:
    """Up to `max_pairs` pairs, about `feature_share` of them feature pairs, subsampled with
    `seed`. A track held out of any playlist is in no pair at all (strict: its text never
    reaches the model, not even beside another playlist it belongs to)."""
    if not 0 <= feature_share < 1:
        raise ValueError(f"feature_share must be in [0, 1), got {feature_share}")
    train, held = split(list(members), seed)
    held_rows = {int(r) for rows in held for r in rows}
    playlist: list[tuple[str, str]] = []
    for i, rows in enumerate(train):
        anchors = [names[i]]
        if descriptions[i]:
            anchors.append(f"{names[i]}: {descriptions[i]}")
        if profile_texts is not None and profile_texts[i]:
            anchors.append(profile_texts[i])
        for j, row in enumerate(r for r in rows if int(r) not in held_rows):
            playlist.append((anchors[j % len(anchors)], track_texts[int(row)]))
    seen = sorted({int(r) for rows in train for r in rows} - held_rows)
    feature = [(feature_phrase(track_genres[r], track_features[r]), track_texts[r]) for r in seen]
    feature = [(a, p) for a, p in feature if a != "music"]
    rng = np.random.default_rng(seed)
    # feature pairs stay about `feature_share` of the whole, capped or not
    n_playlist = min(len(playlist), max_pairs - min(len(feature), round(max_pairs * feature_share)))
    n_feature = min(len(feature), round(n_playlist * feature_share / (1 - feature_share)))
    if not n_playlist:  # no playlists to learn from: feature pairs alone, up to the cap
        n_feature = min(len(feature), max_pairs)
    chosen = [
        *(
            (playlist[i], "playlist")
            for i in sorted(rng.choice(len(playlist), n_playlist, replace=False))
        ),
        *(
            (feature[i], "feature")
            for i in sorted(rng.choice(len(feature), n_feature, replace=False))
        ),
    ]
    order = rng.permutation(len(chosen))
    chosen = [chosen[i] for i in order]
    return PairSet(
        anchors=[a for (a, _), _ in chosen],
        positives=[p for (_, p), _ in chosen],
        kinds=[k for _, k in chosen],
        excluded=sum(len(h) for h in held),
    )
