"""The Modal backend: the same `embed` contract, computed by a deployed Modal Function.

`function` is anything with Modal's `Function.map` surface: `map(*iterables, kwargs=...,
order_outputs=...)` yielding results. In production it is
`modal.Function.from_name(app_name, "embed_batch")`; tests pass an in-process stand-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.models.embedder import check_vectors, dedupe


class MapFunction(Protocol):
    def map(
        self, *input_iterators: Any, kwargs: dict | None = None, order_outputs: bool = True
    ): ...


def lookup_function(app_name: str, function_name: str = "embed_batch") -> MapFunction:
    try:
        import modal
    except ImportError as exc:
        raise RuntimeError(
            "the modal compute backend needs the `modal` package: pip install 'spotify_assets[modal]'"
        ) from exc
    return modal.Function.from_name(app_name, function_name)


class ModalEmbedder:
    precision = "remote"

    def __init__(self, spec: EmbeddingSpec, function: MapFunction, batch_size: int = 256):
        self.spec = spec
        self.function = function
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str], kind: str = "document") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.spec.dims), dtype=np.float32)
        unique, inverse = dedupe([self.spec.format(t, kind) for t in texts])
        batches = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        out = np.empty((len(unique), self.spec.dims), dtype=np.float32)
        seen = set()
        # Results may complete in any order: each carries its batch index.
        for index, vectors in self.function.map(
            range(len(batches)),
            batches,
            kwargs={"model": self.spec.model, "max_tokens": self.spec.max_tokens},
            order_outputs=False,
        ):
            batch = check_vectors(
                np.asarray(vectors, dtype=np.float32),
                len(batches[index]),
                self.spec.dims,
                self.spec.model,
            )
            start = index * self.batch_size
            out[start : start + len(batch)] = batch
            seen.add(index)
        if len(seen) != len(batches):
            raise RuntimeError(f"Modal returned {len(seen)} of {len(batches)} batches")
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out[inverse]
