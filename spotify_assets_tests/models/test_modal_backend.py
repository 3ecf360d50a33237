"""The Modal backend against an in-process stand-in with a deployed Function's `map` surface."""

import random

import numpy as np
import pytest

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.models.embedder import DimensionMismatch
from spotify_assets.lib.models.modal_backend import ModalEmbedder


def fake_vector(text: str, dims: int) -> list[float]:
    rng = np.random.default_rng(abs(hash(text)) % (2**32))
    v = rng.normal(size=dims)
    return (v / np.linalg.norm(v)).tolist()


class StandInFunction:
    """Like modal.Function: map(*iterables, kwargs=, order_outputs=) yields results; with
    order_outputs=False it yields them in completion order (here: shuffled)."""

    def __init__(self, dims: int, seed: int = 0):
        self.dims = dims
        self.seed = seed
        self.calls: list[dict] = []

    def remote_embed_batch(self, index, texts, model, max_tokens=256):
        return index, [fake_vector(t, self.dims) for t in texts]

    def map(self, *iterables, kwargs=None, order_outputs=True, return_exceptions=False):
        self.calls.append({"kwargs": kwargs, "order_outputs": order_outputs})
        results = [
            self.remote_embed_batch(*args, **(kwargs or {}))
            for args in zip(*iterables, strict=True)
        ]
        if not order_outputs:
            random.Random(self.seed).shuffle(results)
        yield from results


def test_vectors_come_back_in_input_order_despite_completion_order():
    spec = EmbeddingSpec(model="intfloat/multilingual-e5-large-instruct", dims=16)
    function = StandInFunction(dims=16, seed=3)
    texts = [f"song {i}" for i in range(23)] + ["song 4"]
    vectors = ModalEmbedder(spec, function, batch_size=5).embed(texts)
    expected = np.array([fake_vector(t, 16) for t in texts], dtype=np.float32)
    assert np.allclose(vectors, expected, atol=1e-6)
    assert function.calls == [
        {"kwargs": {"model": spec.model, "max_tokens": 256}, "order_outputs": False}
    ]


def test_a_dims_mismatch_from_the_remote_raises():
    spec = EmbeddingSpec(model="m", dims=16)
    with pytest.raises(DimensionMismatch, match="declares 16 dims"):
        ModalEmbedder(spec, StandInFunction(dims=8), batch_size=4).embed(["a", "b", "c"])


def test_the_app_builds_gpu_functions_with_the_pinned_image():
    modal = pytest.importorskip("modal")
    from spotify_assets import modal_app

    assert isinstance(modal_app.app, modal.App)
    spec = modal_app.embed_batch._spec_
    assert spec.gpus == modal_app.GPU == "A10G"
    assert repr(spec.image) == repr(modal_app.image)  # the same build (modal wraps objects)
    assert modal_app.MODELS_PATH in spec.volumes
    assert "torch==2.13.0" in modal_app.REQUIREMENTS
