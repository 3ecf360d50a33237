"""Which embedder serves a bundle: this machine's sentence-transformers, Modal, or, for query
text only, the numpy encoder (numpy_bert.py) when it reproduces the model exactly.

One place for the choice, used by the Dagster compute resource and by `spotify-assets search`
(which must not import Dagster or torch to stay fast when cold).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.models.embedder import (
    DimensionMismatch,
    LazyEmbedder,
    check_vectors,
    dedupe,
    load_embedder,
)

log = logging.getLogger(__name__)

BACKENDS = ("local", "modal")
DEFAULT_BATCH_SIZE = 64
DEFAULT_MODAL_APP = "spotify-assets"


QUERY_CACHE_SIZE = 4096  # query texts whose vectors are kept (1.5 KB each at 384 dims)


class QueryEmbedder:
    """Query text through the numpy encoder; any other kind (documents: track embeddings)
    through the sentence-transformers embedder, loaded only if asked, so stored vectors are
    produced exactly as before.

    The vectors of the last `cache_size` query texts are kept: a served process sees the same
    texts again (a chip removed, a page reloaded, the style words of "… songs I like"), and
    encoding one is ~10 ms of a search's budget. The model is fixed for the object's life, so
    a kept vector is exactly what encoding again would give."""

    precision = "fp32 (numpy)"

    def __init__(
        self,
        spec: EmbeddingSpec,
        encoder,
        documents: Callable[[], object],
        cache_size: int = QUERY_CACHE_SIZE,
    ):
        self.spec = spec
        self.encoder = encoder
        self.documents = LazyEmbedder(documents)
        self.cache_size = cache_size
        self._kept: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: str = "document") -> np.ndarray:
        if kind != "query":
            return self.documents.embed(texts, kind)
        if not texts:
            return np.zeros((0, self.spec.dims), dtype=np.float32)
        unique, inverse = dedupe([self.spec.format(t, kind) for t in texts])
        with self._lock:
            found = {t: self._kept[t] for t in unique if t in self._kept}
            for t in found:
                self._kept.move_to_end(t)
        missing = [t for t in unique if t not in found]
        if missing:
            encoded = check_vectors(
                self.encoder.encode(missing), len(missing), self.spec.dims, self.spec.model
            )
            fresh = dict(zip(missing, encoded, strict=True))
            found.update(fresh)
            if self.cache_size > 0:
                with self._lock:
                    for t, vector in fresh.items():
                        kept = np.array(vector, dtype=np.float32)
                        kept.setflags(write=False)
                        self._kept[t] = kept
                    while len(self._kept) > self.cache_size:
                        self._kept.popitem(last=False)
        vectors = np.stack([found[t] for t in unique]).astype(np.float32, copy=False)
        return vectors[inverse]  # fancy indexing: a fresh array the caller may change


@lru_cache(maxsize=4)
def load_query_encoder(spec: EmbeddingSpec):
    """The numpy encoder of `spec`'s model, or None when it does not apply (said in the log).
    Raises ModelNotAvailable when the model's files are missing, like the other embedders."""
    from spotify_assets.lib.models.numpy_bert import NumpyBert, unsupported
    from spotify_assets.lib.models.resolve import resolve_model_dir

    path = resolve_model_dir(spec.model, spec.source)
    if reason := unsupported(path):
        log.info("%s: queries use sentence-transformers (numpy encoder: %s)", spec.model, reason)
        return None
    encoder = NumpyBert(path, spec.max_tokens)
    if encoder.dims != spec.dims:
        raise DimensionMismatch(
            f"{spec.model} produces {encoder.dims}-dim vectors but the bundle declares {spec.dims}"
        )
    return encoder


def make_embedder(
    spec: EmbeddingSpec,
    backend: str = "local",
    device: str = "auto",
    precision: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    modal_app: str = DEFAULT_MODAL_APP,
    queries: bool = False,
):
    """The embedder for `spec` on `backend`. `queries`: the caller embeds mostly query text
    (search), so the local backend answers queries with the numpy encoder when it applies."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown compute backend {backend!r}; use local or modal")
    if backend == "modal":
        from spotify_assets.lib.models.modal_backend import ModalEmbedder, lookup_function

        return ModalEmbedder(spec, lookup_function(modal_app))

    def documents():
        return load_embedder(spec, device, precision, batch_size)

    if queries and (encoder := load_query_encoder(spec)) is not None:
        return QueryEmbedder(spec, encoder, documents)
    return documents()
