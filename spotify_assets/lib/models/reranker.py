"""Cross-encoder reranking: (query, document) pairs → relevance in [0, 1].

Models are asked for raw logits and the sigmoid is applied here, not by sentence-transformers:
its default activation comes from the model's saved config (ms-marco cross-encoders have
shipped both Identity and Sigmoid over time), and scores must mean the same thing locally and
on Modal whatever a checkpoint's config says.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from spotify_assets.lib.bundles import RerankerSpec
from spotify_assets.lib.models.modal_backend import MapFunction, map_batches
from spotify_assets.lib.models.resolve import resolve_device, resolve_model_dir

Pair = tuple[str, str]


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Overflow-free logistic: exp only ever sees non-positive arguments."""
    logits = np.asarray(logits, dtype=np.float64)
    z = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1 / (1 + z), z / (1 + z)).astype(np.float32)


def dedupe_pairs(pairs: Sequence[Pair]) -> tuple[list[Pair], np.ndarray]:
    """Unique pairs and, for each input, the index of its unique pair."""
    index: dict[Pair, int] = {}
    inverse = np.fromiter(
        (index.setdefault((q, d), len(index)) for q, d in pairs), dtype=np.int64, count=len(pairs)
    )
    return list(index), inverse


def check_logits(logits: np.ndarray, rows: int, model: str) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float32).reshape(-1)
    if logits.shape[0] != rows:
        raise ValueError(f"{model} returned {logits.shape[0]} scores for {rows} pairs")
    if not np.isfinite(logits).all():
        raise ValueError(f"{model} returned NaN or infinite scores")
    return logits


class _Counting:
    """Counters the search layer reports: how often and how long reranking ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.pairs_scored = 0
        self.seconds = 0.0

    def score(self, pairs: Sequence[Pair]) -> np.ndarray:
        """Relevance in [0, 1] per pair, in input order; identical pairs are scored once."""
        self.calls += 1
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        started = time.perf_counter()
        unique, inverse = dedupe_pairs(pairs)
        scores = sigmoid(self._logits(unique))
        self.pairs_scored += len(unique)
        self.seconds += time.perf_counter() - started
        return scores[inverse]

    def _logits(self, pairs: list[Pair]) -> np.ndarray:
        raise NotImplementedError


class CrossEncoderReranker(_Counting):
    """A local sentence-transformers CrossEncoder with one output (a relevance logit)."""

    def __init__(
        self,
        model: str,
        source: str = "",
        max_tokens: int = 512,
        device: str = "auto",
        batch_size: int = 32,
    ):
        import torch
        from sentence_transformers import CrossEncoder

        super().__init__()
        device = resolve_device(device)
        self.model = model
        self.device = device
        self.batch_size = batch_size
        path = resolve_model_dir(model, source)
        self.encoder = CrossEncoder(
            str(path), device=device, local_files_only=True, max_length=max_tokens
        )
        if self.encoder.num_labels != 1:
            raise ValueError(
                f"{model} has {self.encoder.num_labels} outputs; a reranker needs exactly one "
                "relevance logit"
            )
        self._identity = torch.nn.Identity()

    def _logits(self, pairs: list[Pair]) -> np.ndarray:
        logits = self.encoder.predict(
            [list(pair) for pair in pairs],
            batch_size=self.batch_size,
            activation_fn=self._identity,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return check_logits(logits, len(pairs), self.model)


class ModalReranker(_Counting):
    """The cross-encoder on Modal: `function` is `rerank_pairs` from spotify_assets.modal_app
    (or a stand-in), returning (batch index, [logit, ...]) per batch."""

    function_name = "rerank_pairs"

    def __init__(
        self, function: MapFunction, model: str, batch_size: int = 64, max_tokens: int = 512
    ):
        super().__init__()
        self.function = function
        self.model = model
        self.batch_size = batch_size
        self.max_tokens = max_tokens

    def _logits(self, pairs: list[Pair]) -> np.ndarray:
        batches = [pairs[i : i + self.batch_size] for i in range(0, len(pairs), self.batch_size)]
        parts = map_batches(
            self.function,
            self.function_name,
            batches,
            {"model": self.model, "max_tokens": self.max_tokens},
            lambda logits, batch: check_logits(logits, len(batch), self.model),
        )
        return np.concatenate(parts)


@lru_cache(maxsize=2)
def _cross_encoder(spec: RerankerSpec, device: str) -> CrossEncoderReranker:
    return CrossEncoderReranker(spec.model, spec.source, spec.max_tokens, device)


def load_reranker(spec: RerankerSpec | None, device: str = "auto") -> CrossEncoderReranker | None:
    """The bundle's reranker, loaded once per process; None when the bundle has none."""
    return None if spec is None else _cross_encoder(spec, device)
