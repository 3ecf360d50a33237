"""The Modal backend: the same `embed` contract, computed by a deployed Modal Function; and
`map_batches`, the one way every Modal backend (embeddings, emotions, reranker) sends batches.

`function` is anything with Modal's `Function.map` surface: `map(*iterables, kwargs=...,
order_outputs=...)` yielding results, in input order by default (Modal's documented default,
`order_outputs=True`). In production it is `modal.Function.from_name(app_name, name)`, with
`name` one of spotify_assets.modal_app's functions; tests pass an in-process stand-in.

Those remote functions take `(index, batch, **kwargs)` and return `(index, result)`; the
index is checked against the batch's position, so a mixed-up answer cannot be stored under
the wrong texts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.models.embedder import check_vectors, dedupe

T = TypeVar("T")


class MapFunction(Protocol):
    def map(
        self, *input_iterators: Any, kwargs: dict | None = None, order_outputs: bool = True
    ): ...


class ModalMapError(RuntimeError):
    """A Modal map that failed or answered out of contract; the message names the function."""


def map_batches(
    function: MapFunction,
    name: str,
    batches: Sequence[Sequence[Any]],
    kwargs: dict[str, Any],
    check: Callable[[Any, Sequence[Any]], T],
) -> list[T]:
    """`check(result, batch)` of each batch's remote result, in batch order.

    Runs `function.map(indices, batches, kwargs=kwargs)` with outputs in input order. Raises
    ModalMapError naming `name` when a remote call fails, when the number of results is not
    the number of batches, when a result is not `(its own index, value)`, or when a checked
    result's length is not its batch's. Errors `check` raises keep their type and message
    and gain a note naming the function and the batch.
    """
    where = f"Modal function {name!r}"
    raw: list[Any] = []
    try:
        for output in function.map(range(len(batches)), batches, kwargs=kwargs, order_outputs=True):
            raw.append(output)
    except Exception as exc:  # Modal raises a remote failure as it arrives, whichever batch
        raise ModalMapError(
            f"{where} failed after {len(raw)} of {len(batches)} batches returned: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if len(raw) != len(batches):
        raise ModalMapError(f"{where} returned {len(raw)} results for {len(batches)} batches")
    checked: list[T] = []
    for position, (output, batch) in enumerate(zip(raw, batches, strict=True)):
        label = f"batch {position + 1} of {len(batches)}"
        if not (isinstance(output, (tuple, list)) and len(output) == 2):
            raise ModalMapError(
                f"{where} returned {type(output).__name__} for {label}, expected (index, result)"
            )
        index, value = output
        if index != position:
            raise ModalMapError(f"{where} answered {label} with the result of batch index {index}")
        try:
            result = check(value, batch)
        except Exception as exc:
            exc.add_note(f"in {label} from {where}")
            raise
        if len(result) != len(batch):
            raise ModalMapError(
                f"{where} returned {len(result)} results for {label} of {len(batch)} inputs"
            )
        checked.append(result)
    return checked


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
    function_name = "embed_batch"  # in spotify_assets.modal_app; names it in errors

    def __init__(self, spec: EmbeddingSpec, function: MapFunction, batch_size: int = 256):
        self.spec = spec
        self.function = function
        self.batch_size = batch_size

    def embed(self, texts: Sequence[str], kind: str = "document") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.spec.dims), dtype=np.float32)
        unique, inverse = dedupe([self.spec.format(t, kind) for t in texts])
        batches = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        parts = map_batches(
            self.function,
            self.function_name,
            batches,
            {"model": self.spec.model, "max_tokens": self.spec.max_tokens},
            lambda vectors, batch: check_vectors(
                np.asarray(vectors, dtype=np.float32), len(batch), self.spec.dims, self.spec.model
            ),
        )
        out = np.concatenate(parts)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out[inverse]
