"""One fine-tune of a base bundle: pairs from the playlist world, train unless stored, bundle.

Profile texts are not used as anchors: world profiles are built on every member, held-out
ones included, so they would leak the evaluation's answers into training.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spotify_assets.lib.artifacts import ArtifactStore
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.finetune.bundle import fine_tuned_bundle, model_key
from spotify_assets.lib.finetune.pairs import PairSet, build_pairs
from spotify_assets.lib.finetune.train import TrainConfig, TrainReport, fine_tune, pack_model
from spotify_assets.lib.models.resolve import resolve_model_dir
from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES


@dataclass(frozen=True)
class FineTuneResult:
    bundle: ModelBundle
    key: str
    pairs: PairSet
    report: TrainReport | None  # None: the artifact was already stored (nothing trained)


def world_pairs(world, config: TrainConfig) -> PairSet:
    """Pairs from a `PlaylistWorld` (the base bundle's), same split and seed as evaluation."""
    frame = world.playlists.playlists
    tracks = world.tracks
    genres = [tracks.genres[g] if g >= 0 else None for g in tracks.genre]
    features = [
        dict(zip(ACOUSTIC_FEATURES, row, strict=True)) for row in np.asarray(tracks.features)
    ]
    return build_pairs(
        frame["name"].tolist(),
        frame["description"].tolist(),
        world.members,
        world.texts["description"].tolist(),
        genres,
        features,
        seed=config.seed,
        max_pairs=config.max_pairs,
        feature_share=config.feature_share,
    )


# (base model as the remote side loads it, pairs, config) → (model tar bytes, report)
Trainer = Callable[[str, PairSet, TrainConfig], tuple[bytes, TrainReport]]


def run_fine_tune(
    base: ModelBundle,
    pairs: PairSet,
    store: ArtifactStore,
    config: TrainConfig | None = None,
    device: str = "cpu",
    progress: Callable[[str], None] = lambda _: None,
    trainer: Trainer | None = None,
) -> FineTuneResult:
    """Train `base` on `pairs` and store the model, unless that exact training is stored.
    `trainer`: train elsewhere (remote.RemoteTrainer: Modal); the key, the stored bytes and
    the bundle are the same either way."""
    config = config or TrainConfig()
    key = model_key(base, pairs, config)
    bundle = fine_tuned_bundle(base, key)
    if store.exists(key):
        progress(f"fine-tune: {key} is already stored; nothing to train")
        return FineTuneResult(bundle, key, pairs, None)
    if trainer is not None:
        progress(f"fine-tune: {len(pairs)} pairs sent to the remote trainer")
        data, report = trainer(base.embedding.model, pairs, config)
        store.put_bytes(key, data, "application/x-tar")
        return FineTuneResult(bundle, key, pairs, report)
    source = resolve_model_dir(base.embedding.model, base.embedding.source)
    with tempfile.TemporaryDirectory(prefix="finetune-") as tmp:
        out = Path(tmp) / "model"
        report = fine_tune(source, pairs, out, config, device, progress)
        store.put_bytes(key, pack_model(out), "application/x-tar")
    return FineTuneResult(bundle, key, pairs, report)
