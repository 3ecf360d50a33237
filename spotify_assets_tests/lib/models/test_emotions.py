"""Emotion runners: buckets, zero-shot with the real MiniLM, a tiny classifier, a Modal stand-in."""

import random
from collections import Counter

import numpy as np
import pytest

from spotify_assets.lib.bundles import EmotionSpec, load_bundles
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.models.emotions import (
    BUCKETS,
    GO_EMOTIONS,
    LABEL_PROMPTS,
    LABEL_TO_BUCKET,
    ClassifierEmotions,
    ModalEmotions,
    ZeroShotEmotions,
    load_emotion_model,
    normalize,
    to_buckets,
    top_labels,
)
from spotify_assets_tests.tiny_models import build_tiny_emotion_classifier

SAD = "a heartbroken, melancholic piano ballad about loss, loneliness and tears"
EUPHORIC = "an euphoric dance party anthem, everyone jumping, celebrating and cheering all night"


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(load_bundles().default_bundle.embedding, "cpu", "fp32")


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory):
    return build_tiny_emotion_classifier(tmp_path_factory.mktemp("tiny_emotions"))


@pytest.fixture(scope="session")
def classifier(tiny_classifier_dir):
    return ClassifierEmotions("test/tiny-emotions", str(tiny_classifier_dir), device="cpu")


def test_labels_buckets_and_prompts_line_up():
    assert len(GO_EMOTIONS) == len(set(GO_EMOTIONS)) == 28
    assert GO_EMOTIONS[0] == "admiration" and GO_EMOTIONS[-1] == "neutral"
    assert sorted(LABEL_TO_BUCKET) == sorted(GO_EMOTIONS)  # each label exactly once
    assert set(LABEL_TO_BUCKET.values()) == set(BUCKETS) and len(BUCKETS) == 8
    assert Counter(LABEL_TO_BUCKET.values())["neutral"] == 1
    assert set(LABEL_PROMPTS) == {1} and set(LABEL_PROMPTS[1]) == set(GO_EMOTIONS)


def test_buckets_sum_labels_and_preserve_row_sums():
    scores = normalize(np.random.default_rng(0).random((5, 28)))
    assert np.allclose(scores.sum(axis=1), 1, atol=1e-6)
    buckets = to_buckets(scores)
    assert buckets.shape == (5, 8)
    assert np.allclose(buckets.sum(axis=1), scores.sum(axis=1), atol=1e-6)
    one_hot = np.zeros((1, 28), dtype=np.float32)
    one_hot[0, GO_EMOTIONS.index("excitement")] = 1
    assert to_buckets(one_hot)[0, BUCKETS.index(LABEL_TO_BUCKET["excitement"])] == 1
    assert top_labels(one_hot, k=2)[0][0] == "excitement"
    assert normalize(np.zeros((1, 28))).sum() == 0  # no division by zero
    with pytest.raises(ValueError, match=r"shape \(n, 28\)"):
        to_buckets(np.ones((2, 27)))


def test_zero_shot_ranks_obvious_moods(minilm):
    emotions = ZeroShotEmotions(minilm, temperature=0.05)
    scores = emotions.classify([SAD, EUPHORIC])
    assert scores.shape == (2, 28) and scores.dtype == np.float32
    assert np.allclose(scores.sum(axis=1), 1, atol=1e-5)
    buckets = to_buckets(scores)
    assert BUCKETS[buckets[0].argmax()] == "sadness"
    assert BUCKETS[buckets[1].argmax()] in ("joy", "energy")
    assert LABEL_TO_BUCKET[top_labels(scores, k=1)[0][0]] == "sadness"


def test_zero_shot_embeds_prompts_once_and_temperature_sharpens(minilm, monkeypatch):
    kinds = []
    original = minilm.embed
    monkeypatch.setattr(minilm, "embed", lambda t, kind: kinds.append(kind) or original(t, kind))
    sharp, soft = ZeroShotEmotions(minilm, 0.02), ZeroShotEmotions(minilm, 0.2)
    vectors = minilm.embed([SAD, EUPHORIC], kind="document")
    kinds.clear()
    for _ in range(2):
        sharp_scores, soft_scores = sharp.from_vectors(vectors), soft.from_vectors(vectors)
    assert kinds == ["query", "query"]  # the prompts, once per instance
    assert (sharp_scores.max(axis=1) > soft_scores.max(axis=1)).all()
    assert np.array_equal(sharp_scores.argmax(axis=1), soft_scores.argmax(axis=1))
    assert np.allclose(sharp.classify([SAD, EUPHORIC]), sharp_scores, atol=1e-6)
    with pytest.raises(ValueError, match="do not match"):
        sharp.from_vectors(np.ones((1, 3), dtype=np.float32))


def test_zero_shot_softmax_is_numerically_stable():
    class Fixed:
        def embed(self, texts, kind):
            return np.eye(28, dtype=np.float32)

    scores = ZeroShotEmotions(Fixed(), temperature=1e-4).from_vectors(np.eye(28) * 100)
    assert np.isfinite(scores).all() and np.allclose(np.diag(scores), 1)


def test_classifier_scores_are_distributions_in_label_order(classifier):
    texts = ["a quiet song", "loud " * 900, "a quiet song"]  # one text past 512 tokens
    scores = classifier.classify(texts)
    assert scores.shape == (3, 28) and scores.dtype == np.float32
    assert np.allclose(scores.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(scores[0], scores[2])
    raw = classifier.pipeline(["a quiet song"], function_to_apply="sigmoid")[0]
    by_label = {item["label"]: item["score"] for item in raw}
    expected = np.array([by_label[label] for label in GO_EMOTIONS])
    assert np.allclose(scores[0], expected / expected.sum(), atol=1e-5)
    assert classifier.classify([]).shape == (0, 28)


def test_classifier_maps_labels_by_name_not_position(classifier, tmp_path):
    shuffled = list(GO_EMOTIONS)
    random.Random(7).shuffle(shuffled)
    other = build_tiny_emotion_classifier(tmp_path / "shuffled", labels=shuffled)  # same weights
    reordered = ClassifierEmotions("test/shuffled", str(other), device="cpu")
    texts = ["sad song", "happy song"]
    base, moved = classifier.classify(texts), reordered.classify(texts)
    # Output unit j is GO_EMOTIONS[j] in one model and shuffled[j] in the other.
    columns = [GO_EMOTIONS.index(label) for label in shuffled]
    assert np.allclose(moved[:, columns], base, atol=1e-6)
    assert not np.allclose(moved, base, atol=1e-6)


def test_a_model_with_other_labels_is_refused(tmp_path):
    labels = [*GO_EMOTIONS[:-1], "boredom"]
    path = build_tiny_emotion_classifier(tmp_path / "wrong", labels=labels)
    with pytest.raises(ValueError, match=r"lack \['neutral'\] and add \['boredom'\]"):
        ClassifierEmotions("test/wrong", str(path), device="cpu")


def fake_rows(texts, seed=0):
    rows = []
    for text in texts:
        rng = np.random.default_rng(sum(text.encode()))
        labels = list(GO_EMOTIONS)
        random.Random(seed).shuffle(labels)  # remote label order is the model's, not ours
        rows.append({label: float(rng.random()) for label in labels})
    return rows


class StandInFunction:
    """modal.Function's map surface; with order_outputs=False results come back shuffled."""

    def __init__(self, seed=0, rows=fake_rows):
        self.seed, self.rows, self.calls = seed, rows, []

    def map(self, *iterables, kwargs=None, order_outputs=True):
        self.calls.append({"kwargs": kwargs, "order_outputs": order_outputs})
        results = [(index, self.rows(texts)) for index, texts in zip(*iterables, strict=True)]
        if not order_outputs:
            random.Random(self.seed).shuffle(results)
        yield from results


def test_modal_emotions_come_back_in_input_order():
    texts = [f"song {i}" for i in range(23)] + ["song 4"]
    function = StandInFunction(seed=3)
    scores = ModalEmotions(function, "SamLowe/roberta-base-go_emotions", batch_size=5).classify(
        texts
    )
    expected = np.array([[row[label] for label in GO_EMOTIONS] for row in fake_rows(texts)])
    assert np.allclose(scores, normalize(expected), atol=1e-6)
    assert function.calls == [
        {"kwargs": {"model": "SamLowe/roberta-base-go_emotions"}, "order_outputs": True}
    ]


def test_modal_emotions_validate_what_comes_back():
    short = StandInFunction(rows=lambda texts: fake_rows(texts)[:-1])
    with pytest.raises(ValueError, match="returned 1 rows for 2 texts"):
        ModalEmotions(short, "m").classify(["a", "b"])
    nan = StandInFunction(rows=lambda texts: [dict.fromkeys(GO_EMOTIONS, float("nan"))])
    with pytest.raises(ValueError, match="NaN"):
        ModalEmotions(nan, "m").classify(["a"])
    partial = StandInFunction(rows=lambda texts: [dict.fromkeys(GO_EMOTIONS[:27], 0.5)])
    with pytest.raises(ValueError, match="lack"):
        ModalEmotions(partial, "m").classify(["a"])


def test_load_emotion_model_follows_the_spec(minilm, tiny_classifier_dir):
    assert load_emotion_model(EmotionSpec()) is None
    zero_shot = load_emotion_model(EmotionSpec("zero_shot", temperature=0.1), embedder=minilm)
    assert isinstance(zero_shot, ZeroShotEmotions) and zero_shot.temperature == 0.1
    with pytest.raises(ValueError, match="needs the bundle's embedder"):
        load_emotion_model(EmotionSpec("zero_shot"))
    with pytest.raises(ValueError, match="prompts_version 9"):
        load_emotion_model(EmotionSpec("zero_shot", prompts_version=9), embedder=minilm)
    spec = EmotionSpec("classifier", model="test/tiny-emotions", source=str(tiny_classifier_dir))
    first = load_emotion_model(spec, device="cpu")
    assert isinstance(first, ClassifierEmotions)
    assert load_emotion_model(spec, device="cpu") is first  # loaded once per process


def test_the_app_has_a_gpu_emotion_function():
    pytest.importorskip("modal")
    from spotify_assets import modal_app

    spec = modal_app.classify_emotions._spec_
    assert spec.gpus == modal_app.GPU and modal_app.MODELS_PATH in spec.volumes
