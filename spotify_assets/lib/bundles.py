"""ModelBundle: which models and algorithm versions produced a stored vector, as one hex hash.

The hash is the Dagster partition key of every bundle-partitioned asset, so it must be
hex only (commas and pipes break the UI) and must change whenever anything that shapes the
outputs changes: a model, its revision or dims, text formatting, or an algorithm version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from spotify_assets.lib import versions
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.hashing import canonical_json
from spotify_assets.settings import settings

HASH_LENGTH = 16
LEARNED_BUNDLES_FILE = "learned_bundles.yaml"
_HEX = re.compile(rf"^[0-9a-f]{{{HASH_LENGTH}}}$")


class BundleError(InputError):
    pass


@dataclass(frozen=True)
class EmbeddingSpec:
    model: str
    dims: int
    source: str = ""  # "package:<module>" or a local path; empty: resolve `model` by name
    revision: str | None = None
    max_tokens: int = 256
    query_format: str = "{text}"
    document_format: str = "{text}"
    task: str = ""

    def format(self, text: str, kind: str) -> str:
        """Queries (search text, playlist text) and documents (tracks) may be worded apart."""
        template = self.query_format if kind == "query" else self.document_format
        return template.format(text=text, task=self.task)


@dataclass(frozen=True)
class EmotionSpec:
    """How track_emotions are produced; all of it is in the hash, so it says what ran.

    `classifier`: a GoEmotions text classifier (`model`, resolved like embedding models).
    `zero_shot`: the bundle's embedding model scores each track against descriptions of the 28
    labels (EMOTION_PROMPTS_VERSION), softmax with `temperature`. `none`: no emotions.
    """

    backend: str = "none"  # none | zero_shot | classifier
    model: str | None = None
    source: str = ""
    temperature: float = 0.05
    prompts_version: int = 1


@dataclass(frozen=True)
class RerankerSpec:
    model: str
    source: str = ""  # a local path; empty: resolve `model` by name
    max_tokens: int = 512


@dataclass(frozen=True)
class ModelBundle:
    name: str
    embedding: EmbeddingSpec
    emotion: EmotionSpec = field(default_factory=EmotionSpec)
    reranker: RerankerSpec | None = None
    description: str = ""

    def spec(self) -> dict[str, Any]:
        """Everything that shapes outputs, which is exactly what the hash covers."""
        return {
            "embedding": asdict(self.embedding),
            "emotion": asdict(self.emotion),
            "reranker": asdict(self.reranker) if self.reranker else None,
            "versions": {
                "extractor": versions.EXTRACTOR_VERSION,
                "embedding_schema": versions.EMBEDDING_SCHEMA_VERSION,
                "matching_algo": versions.MATCHING_ALGO_VERSION,
            },
        }

    @property
    def hash(self) -> str:
        digest = hashlib.sha256(canonical_json(self.spec()).encode("utf-8")).hexdigest()
        return digest[:HASH_LENGTH]


def validate_bundle_hash(value: str) -> str:
    """Bundle hashes go into index names and partial-index predicates: hex only, fixed length."""
    if not _HEX.match(value or ""):
        raise BundleError(f"not a model bundle hash: {value!r} (expected {HASH_LENGTH} hex digits)")
    return value


def _parse(name: str, raw: dict[str, Any]) -> ModelBundle:
    try:
        embedding = EmbeddingSpec(**raw["embedding"])
        emotion = EmotionSpec(**(raw.get("emotion") or {}))
        reranker = RerankerSpec(**raw["reranker"]) if raw.get("reranker") else None
    except (KeyError, TypeError) as exc:
        raise BundleError(f"bundle {name!r} is malformed: {exc}") from exc
    if embedding.dims <= 0:
        raise BundleError(f"bundle {name!r}: dims must be positive")
    if emotion.backend not in ("none", "zero_shot", "classifier"):
        raise BundleError(
            f"bundle {name!r}: emotion backend {emotion.backend!r} is not none, zero_shot or classifier"
        )
    if emotion.backend == "classifier" and not (emotion.model or emotion.source):
        raise BundleError(f"bundle {name!r}: the classifier emotion backend needs a `model`")
    return ModelBundle(name, embedding, emotion, reranker, raw.get("description", ""))


@dataclass(frozen=True)
class BundleCatalog:
    bundles: dict[str, ModelBundle]
    default: str

    def by_name(self, name: str) -> ModelBundle:
        if name not in self.bundles:
            raise BundleError(f"unknown bundle {name!r}; configured: {', '.join(self.bundles)}")
        return self.bundles[name]

    def by_hash(self, bundle_hash: str) -> ModelBundle:
        for bundle in self.bundles.values():
            if bundle.hash == bundle_hash:
                return bundle
        raise BundleError(
            f"no configured bundle has hash {bundle_hash}; it may have been removed from the "
            "bundles file or its spec changed (which gives it a new hash)"
        )

    @property
    def default_bundle(self) -> ModelBundle:
        return self.by_name(self.default)

    def name_of(self, bundle_hash: str) -> str:
        """The configured name of a bundle hash, or "unconfigured" for one no longer in the
        bundles file (its rows stay; its spec is gone)."""
        names = {b.hash: name for name, b in self.bundles.items()}
        return names.get(bundle_hash, "unconfigured")

    def describe(self, bundle_hash: str) -> str:
        """ "minilm-offline (3fdea9bf…)": what a person reads wherever a partition key appears."""
        return f"{self.name_of(bundle_hash)} ({bundle_hash[:8]}…)"


def _read(text: str, origin: str) -> dict[str, Any]:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not isinstance(data.get("bundles", {}), dict):
        raise BundleError(f"{origin}: expected a mapping with a `bundles:` mapping")
    return data


def load_bundles(extra: str | Path | None = None) -> BundleCatalog:
    """The package's bundles.yaml, plus/overridden by the learned bundles file
    ($SPOTIFY_ASSETS_HOME/learned_bundles.yaml, written by fine_tuned_model), then by `extra` or
    $SPOTIFY_ASSETS_BUNDLES."""
    base = _read(
        resources.files("spotify_assets").joinpath("bundles.yaml").read_text("utf-8"),
        "bundles.yaml",
    )
    raw = dict(base["bundles"])
    default = base.get("default")
    learned = settings().home / LEARNED_BUNDLES_FILE  # fine-tuned bundles, and a promotion
    if learned.exists():
        more = _read(learned.read_text("utf-8"), str(learned))
        raw.update(more.get("bundles") or {})
        default = more.get("default", default)
    extra = extra or settings().bundles_file
    if extra:
        path = Path(extra)
        if not path.exists():
            raise BundleError(f"bundles file not found: {path} (from SPOTIFY_ASSETS_BUNDLES)")
        more = _read(path.read_text("utf-8"), str(path))
        raw.update(more.get("bundles") or {})
        default = more.get("default", default)
    bundles = {name: _parse(name, spec) for name, spec in raw.items()}
    if default not in bundles:
        raise BundleError(f"default bundle {default!r} is not defined")
    return BundleCatalog(bundles, default)
