"""A fine-tuned model as a bundle: its artifact key, its spec, and where it is registered.

The model is stored once, as a tar, under a key that hashes base model + training pairs +
training config, so the same training never runs twice and a different one never overwrites.
The bundle's embedding `source` is `artifact://<key>`: the source is in the bundle hash, so
the fine-tuned bundle gets its own `model_bundle` partition beside the base.

Learned bundles live in `$SPOTIFY_ASSETS_HOME/learned_bundles.yaml` (same layout as
bundles.yaml), read by `load_bundles` after the package's file and before
$SPOTIFY_ASSETS_BUNDLES; its `default:` is set only by a promotion.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from spotify_assets.lib.bundles import LEARNED_BUNDLES_FILE, ModelBundle
from spotify_assets.lib.finetune.pairs import PairSet
from spotify_assets.lib.finetune.train import TrainConfig
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.settings import home_dir

ARTIFACT_SCHEME = "artifact://"
FINETUNE_VERSION = 1


def model_key(base: ModelBundle, pairs: PairSet, config: TrainConfig) -> str:
    """`models/fine_tuned/<hash>.tar`: changes with the base model, the pairs or the config."""
    digest = stable_hash(
        "ft",
        {
            "version": FINETUNE_VERSION,
            "base": base.spec()["embedding"],
            "pairs": stable_hash("ftpairs", pairs.payload()),
            "config": config.payload(),
        },
    )
    return f"models/fine_tuned/{digest}.tar"


def fine_tuned_bundle(base: ModelBundle, key: str) -> ModelBundle:
    """The base bundle with its embedding model swapped for the artifact (same dims and
    formatting; zero-shot emotions then use the fine-tuned model too, as the hash says)."""
    short = key.rsplit("_", 1)[-1][:8]
    embedding = replace(
        base.embedding,
        model=f"{base.embedding.model}+ft-{short}",
        source=f"{ARTIFACT_SCHEME}{key}",
        revision=None,
    )
    return ModelBundle(
        name=f"{base.name}-ft-{short}",
        embedding=embedding,
        emotion=base.emotion,
        reranker=base.reranker,
        description=f"{base.name} fine-tuned on the person's playlists ({key})",
    )


def learned_bundles_path() -> Path:
    return home_dir() / LEARNED_BUNDLES_FILE


def _read_learned(path: Path) -> dict:
    return (yaml.safe_load(path.read_text("utf-8")) or {}) if path.exists() else {}


def register(bundle: ModelBundle, path: Path | None = None) -> bool:
    """Add `bundle` to the learned bundles file; False when it is already there."""
    from spotify_assets.lib.documents import to_jsonable

    path = path or learned_bundles_path()
    data = _read_learned(path)
    bundles = data.setdefault("bundles", {})
    if bundle.name in bundles:
        return False
    spec = to_jsonable(bundle.spec())
    bundles[bundle.name] = {
        "description": bundle.description,
        "embedding": spec["embedding"],
        "emotion": spec["emotion"],
        "reranker": spec["reranker"],
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return True


def set_default(name: str | None, path: Path | None = None) -> None:
    """Make `name` the active bundle (None: drop the override, the package default serves)."""
    path = path or learned_bundles_path()
    data = _read_learned(path)
    if name is None:
        data.pop("default", None)
    else:
        data["default"] = name
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
