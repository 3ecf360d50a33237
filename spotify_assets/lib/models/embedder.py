"""Sentence-transformers embedding on this machine (CPU, or CUDA when present)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.models.resolve import resolve_device, resolve_model_dir

log = logging.getLogger(__name__)
BF16_MIN_COSINE = 0.999


class DimensionMismatch(InputError):
    """A model's vectors do not have the dims its bundle declares: fix the bundle."""


def check_vectors(vectors: np.ndarray, rows: int, dims: int, model: str) -> np.ndarray:
    """A batch is written only if it has the declared shape and finite values."""
    if vectors.ndim != 2 or vectors.shape[1] != dims:
        raise DimensionMismatch(
            f"{model} returned vectors of shape {vectors.shape}, but the bundle declares "
            f"{dims} dims; fix the bundle's `dims` (vectors are never padded or truncated)"
        )
    if vectors.shape[0] != rows:
        raise ValueError(f"{model} returned {vectors.shape[0]} vectors for {rows} texts")
    if not np.isfinite(vectors).all():
        raise ValueError(f"{model} returned NaN or infinite values")
    return vectors


def dedupe(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Unique texts and, for each input, the index of its unique text."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64)
    return list(index), inverse


def cpu_supports_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class SentenceEmbedder:
    """One loaded model. `precision`: fp32 | bf16 | auto (bf16 on capable CPUs when a
    calibration batch stays within BF16_MIN_COSINE of fp32, else fp32)."""

    def __init__(
        self,
        spec: EmbeddingSpec,
        device: str = "auto",
        precision: str = "auto",
        batch_size: int = 64,
    ):
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        self.batch_size = batch_size
        self.device = device = resolve_device(device)
        path = resolve_model_dir(spec.model, spec.source)
        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.model.max_seq_length = min(
            spec.max_tokens, self.model.max_seq_length or spec.max_tokens
        )
        dims = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        dims = dims()
        if dims != spec.dims:
            raise DimensionMismatch(
                f"{spec.model} produces {dims}-dim vectors but the bundle declares {spec.dims}"
            )
        wants_bf16 = precision == "bf16" or (
            precision == "auto" and device == "cpu" and cpu_supports_bf16()
        )
        self.precision = "bf16" if wants_bf16 else "fp32"
        self._calibrated = precision != "auto"
        self.calibration_cosine: float | None = None
        log.info("loaded %s from %s on %s (%s)", spec.model, path, device, self.precision)

    def _encode(self, texts: list[str], precision: str) -> np.ndarray:
        import torch

        context = (
            torch.autocast("cpu", dtype=torch.bfloat16)
            if precision == "bf16" and self.device == "cpu"
            else nullcontext()
        )
        with torch.inference_mode(), context:
            vectors = self.model.encode(
                texts,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        # re-normalize in fp32: bf16 rounding leaves norms a hair off 1
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def _calibrate(self, sample: list[str]) -> None:
        """Keep bf16 only if it agrees with fp32 on real texts from this workload."""
        fp32 = self._encode(sample, "fp32")
        bf16 = self._encode(sample, "bf16")
        self.calibration_cosine = float((fp32 * bf16).sum(axis=1).min())
        if self.calibration_cosine < BF16_MIN_COSINE:
            self.precision = "fp32"
        self._calibrated = True
        log.info("bf16 calibration: min cosine %.5f → %s", self.calibration_cosine, self.precision)

    def embed(self, texts: Sequence[str], kind: str = "document") -> np.ndarray:
        """L2-normalized float32 vectors in input order; identical texts are embedded once."""
        if not texts:
            return np.zeros((0, self.spec.dims), dtype=np.float32)
        formatted = [self.spec.format(t, kind) for t in texts]
        unique, inverse = dedupe(formatted)
        if not self._calibrated and self.precision == "bf16":
            self._calibrate(unique[:32])
        started = time.perf_counter()
        vectors = self._encode(unique, self.precision)
        log.debug("embedded %d unique texts in %.2fs", len(unique), time.perf_counter() - started)
        check_vectors(vectors, len(unique), self.spec.dims, self.spec.model)
        return vectors[inverse]


class LazyEmbedder:
    """Loads the model on first use, so a fully cached run never loads it."""

    def __init__(self, factory: Callable[[], object]):
        self.factory = factory
        self._model = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def precision(self) -> str:
        return getattr(self._model, "precision", "not loaded")

    def embed(self, texts, kind: str = "document"):
        if self._model is None:
            self._model = self.factory()
        return self._model.embed(texts, kind)


_loading = threading.Lock()


def load_embedder(
    spec: EmbeddingSpec, device: str = "auto", precision: str = "auto", batch_size: int = 64
) -> SentenceEmbedder:
    """One loaded model per spec and settings in a process. A caller that asks while another
    thread loads it (the import preloads it beside its first steps) waits for that load."""
    with _loading:
        return _cached_embedder(spec, device, precision, batch_size)


@lru_cache(maxsize=4)
def _cached_embedder(
    spec: EmbeddingSpec, device: str, precision: str, batch_size: int
) -> SentenceEmbedder:
    return SentenceEmbedder(spec, device, precision, batch_size)
