"""The Modal backend against an in-process stand-in with a deployed Function's `map` surface."""

import random

import numpy as np
import pytest

from spotify_assets.lib.bundles import EmbeddingSpec
from spotify_assets.lib.models.embedder import DimensionMismatch
from spotify_assets.lib.models.modal_backend import ModalEmbedder, ModalMapError, map_batches


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


def test_vectors_come_back_in_input_order():
    spec = EmbeddingSpec(model="intfloat/multilingual-e5-large-instruct", dims=16)
    function = StandInFunction(dims=16, seed=3)
    texts = [f"song {i}" for i in range(23)] + ["song 4"]
    vectors = ModalEmbedder(spec, function, batch_size=5).embed(texts)
    expected = np.array([fake_vector(t, 16) for t in texts], dtype=np.float32)
    assert np.allclose(vectors, expected, atol=1e-6)
    assert function.calls == [
        {"kwargs": {"model": spec.model, "max_tokens": 256}, "order_outputs": True}
    ]


def test_a_dims_mismatch_from_the_remote_raises():
    spec = EmbeddingSpec(model="m", dims=16)
    with pytest.raises(DimensionMismatch, match="declares 16 dims"):
        ModalEmbedder(spec, StandInFunction(dims=8), batch_size=4).embed(["a", "b", "c"])


class Scripted:
    """A map surface answering with whatever `answer(indices, batches)` yields."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def map(self, *iterables, kwargs=None, order_outputs=True):
        self.calls.append({"kwargs": kwargs, "order_outputs": order_outputs})
        yield from self.answer(*iterables)


def _echo(indices, batches):
    yield from zip(indices, batches, strict=True)


def _keep(value, batch):
    return value


BATCHES = [["a", "b"], ["c", "d"], ["e"]]


def test_map_batches_returns_checked_results_in_batch_order():
    function = Scripted(_echo)
    seen = []

    def check(value, batch):
        seen.append(batch)
        return [v.upper() for v in value]

    assert map_batches(function, "f", BATCHES, {"model": "m"}, check) == [
        ["A", "B"],
        ["C", "D"],
        ["E"],
    ]
    assert seen == BATCHES
    assert function.calls == [{"kwargs": {"model": "m"}, "order_outputs": True}]


def test_a_failing_remote_call_names_the_function():
    def answer(indices, batches):
        yield 0, batches[0]
        raise ConnectionError("container crashed")

    with pytest.raises(ModalMapError, match="'embed_batch' failed after 1 of 3 batches") as info:
        map_batches(Scripted(answer), "embed_batch", BATCHES, {}, _keep)
    assert "ConnectionError: container crashed" in str(info.value)
    assert isinstance(info.value.__cause__, ConnectionError)


def test_a_missing_batch_result_is_an_error():
    def answer(indices, batches):
        yield from list(_echo(indices, batches))[:2]

    with pytest.raises(ModalMapError, match="'rerank_pairs' returned 2 results for 3 batches"):
        map_batches(Scripted(answer), "rerank_pairs", BATCHES, {}, _keep)


def test_a_result_answering_another_batch_is_an_error():
    def answer(indices, batches):  # completion order, as if order_outputs were ignored
        yield from reversed(list(_echo(indices, batches)))

    with pytest.raises(
        ModalMapError, match="answered batch 1 of 3 with the result of batch index 2"
    ):
        map_batches(Scripted(answer), "f", BATCHES, {}, _keep)
    untagged = Scripted(lambda indices, batches: iter([None] * len(batches)))
    with pytest.raises(ModalMapError, match="returned NoneType for batch 1 of 3, expected"):
        map_batches(untagged, "f", BATCHES, {}, _keep)


def test_a_batch_of_the_wrong_length_is_an_error_naming_the_function():
    def short(indices, batches):
        for index, batch in zip(indices, batches, strict=True):
            yield index, batch[:1]

    with pytest.raises(ModalMapError, match="'f' returned 1 results for batch 1 of 3 of 2 inputs"):
        map_batches(Scripted(short), "f", BATCHES, {}, _keep)


def test_check_errors_keep_their_type_and_gain_a_note():
    def check(value, batch):
        raise ValueError("m returned NaN")

    with pytest.raises(ValueError, match="m returned NaN") as info:
        map_batches(Scripted(_echo), "classify_emotions", BATCHES, {}, check)
    assert info.value.__notes__ == ["in batch 1 of 3 from Modal function 'classify_emotions'"]


def test_the_app_builds_gpu_functions_with_the_pinned_image():
    modal = pytest.importorskip("modal")
    from spotify_assets import modal_app

    assert isinstance(modal_app.app, modal.App)
    spec = modal_app.embed_batch._spec_
    assert spec.gpus == modal_app.GPU == "A10G"
    assert repr(spec.image) == repr(modal_app.image)  # the same build (modal wraps objects)
    assert modal_app.MODELS_PATH in spec.volumes
    assert "torch==2.13.0" in modal_app.REQUIREMENTS
