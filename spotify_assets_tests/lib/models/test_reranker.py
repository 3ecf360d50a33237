"""Cross-encoder reranking with a tiny test-built model and a Modal stand-in."""

import random
import warnings

import numpy as np
import pytest

from spotify_assets.lib.bundles import RerankerSpec
from spotify_assets.lib.models.reranker import (
    CrossEncoderReranker,
    ModalReranker,
    load_reranker,
    sigmoid,
)
from spotify_assets.lib.models.resolve import ModelNotAvailable
from spotify_assets_tests.tiny_models import build_tiny_cross_encoder

PAIRS = [
    ("sad piano", "a melancholic piano ballad"),
    ("sad piano", "a loud punk anthem"),
    ("party", "dance music for a party"),
    ("sad piano", "a melancholic piano ballad"),
]


@pytest.fixture(scope="session")
def tiny_cross_encoder_dir(tmp_path_factory):
    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny_cross_encoder"))


@pytest.fixture(scope="session")
def reranker(tiny_cross_encoder_dir):
    return CrossEncoderReranker("test/tiny-ce", str(tiny_cross_encoder_dir), device="cpu")


def test_scores_are_probabilities_in_input_order(reranker):
    scores = reranker.score(PAIRS)
    assert scores.shape == (4,) and scores.dtype == np.float32
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[0] == scores[3] and len(set(scores[:3].tolist())) == 3
    assert np.array_equal(reranker.score(PAIRS[::-1]), scores[::-1])  # deterministic
    assert reranker.score([]).shape == (0,)


def test_scores_are_the_sigmoid_of_the_model_logits(reranker):
    import torch

    pairs = [list(pair) for pair in PAIRS[:3]]
    logits = reranker.encoder.predict(pairs, activation_fn=torch.nn.Identity())
    assert np.allclose(reranker.score(PAIRS[:3]), 1 / (1 + np.exp(-logits)), atol=1e-6)
    # sentence-transformers' own default for a 1-label model without a saved activation agrees
    assert np.allclose(reranker.score(PAIRS[:3]), reranker.encoder.predict(pairs), atol=1e-6)


def test_duplicates_are_scored_once_and_counted(tiny_cross_encoder_dir, monkeypatch):
    reranker = CrossEncoderReranker("test/tiny-ce", str(tiny_cross_encoder_dir), device="cpu")
    seen = []
    original = reranker._logits
    monkeypatch.setattr(reranker, "_logits", lambda pairs: seen.append(pairs) or original(pairs))
    reranker.score(PAIRS)
    reranker.score(PAIRS[:1])
    assert seen == [PAIRS[:3], PAIRS[:1]]
    assert (reranker.calls, reranker.pairs_scored) == (2, 4)
    assert reranker.seconds > 0


def test_long_documents_are_truncated(reranker, tiny_cross_encoder_dir):
    long_doc = "melancholic piano " * 400  # thousands of tokens: would overflow 512 positions
    assert reranker.score([("sad", long_doc)]).shape == (1,)
    short = CrossEncoderReranker(
        "test/tiny-ce", str(tiny_cross_encoder_dir), max_tokens=16, device="cpu"
    )
    scores = short.score([("sad", long_doc), ("sad", long_doc + "x")])
    assert scores[0] == scores[1]  # the difference lies past max_tokens


def test_a_missing_model_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SPOTIFY_ASSETS_MODELS", str(tmp_path / "models"))
    with pytest.raises(ModelNotAvailable, match="cross-encoder/ms-marco-MiniLM-L6-v2"):
        CrossEncoderReranker("cross-encoder/ms-marco-MiniLM-L6-v2", device="cpu")


def test_load_reranker_is_cached_and_optional(tiny_cross_encoder_dir):
    assert load_reranker(None) is None
    spec = RerankerSpec(model="test/tiny-ce", source=str(tiny_cross_encoder_dir))
    first = load_reranker(spec, "cpu")
    assert isinstance(first, CrossEncoderReranker) and load_reranker(spec, "cpu") is first


def test_sigmoid_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    assert np.allclose(values, [0, 0.5, 1])


def fake_logit(query: str, document: str) -> float:
    return float(len(document) - len(query)) / 10


class StandInFunction:
    """modal.Function's map surface; with order_outputs=False results come back shuffled."""

    def __init__(self, seed=0, drop=0):
        self.seed, self.drop, self.calls = seed, drop, []

    def map(self, *iterables, kwargs=None, order_outputs=True):
        self.calls.append({"kwargs": kwargs, "order_outputs": order_outputs})
        results = [
            (index, [fake_logit(q, d) for q, d in pairs][self.drop :])
            for index, pairs in zip(*iterables, strict=True)
        ]
        if not order_outputs:
            random.Random(self.seed).shuffle(results)
        yield from results


def test_modal_reranker_scores_come_back_in_input_order():
    pairs = [(f"q{i % 3}", "d" * i) for i in range(17)] + [("q1", "d")]
    function = StandInFunction(seed=5)
    reranker = ModalReranker(function, "cross-encoder/ms-marco-MiniLM-L6-v2", batch_size=4)
    scores = reranker.score(pairs)
    expected = sigmoid(np.array([fake_logit(q, d) for q, d in pairs]))
    assert np.allclose(scores, expected, atol=1e-6)
    assert (reranker.calls, reranker.pairs_scored) == (1, 17)
    assert function.calls == [
        {
            "kwargs": {"model": "cross-encoder/ms-marco-MiniLM-L6-v2", "max_tokens": 512},
            "order_outputs": True,
        }
    ]
    with pytest.raises(ValueError, match="returned 3 scores for 4 pairs"):
        ModalReranker(StandInFunction(drop=1), "m", batch_size=4).score(pairs)


def test_the_app_has_a_gpu_rerank_function():
    pytest.importorskip("modal")
    from spotify_assets import modal_app

    spec = modal_app.rerank_pairs._spec_
    assert spec.gpus == modal_app.GPU and modal_app.MODELS_PATH in spec.volumes
