"""Track emotions: 28 GoEmotions labels per track, plus 8 coarser buckets for filtering.

Three runners share one contract, `classify(texts) -> (n, 28)` rows summing to 1 in GO_EMOTIONS
order: ZeroShotEmotions (the bundle's embedding model vs. music-worded label descriptions),
ClassifierEmotions (a local GoEmotions classifier) and ModalEmotions (the same on Modal).

Buckets: every label belongs to exactly one, so bucket scores are sums and still sum to 1.
Buckets holding more labels get more prior mass; compare a bucket across tracks, not buckets.

    bucket   labels
    -------  ------------------------------------------------------
    joy      joy, gratitude, optimism
    sadness  sadness, grief, disappointment, remorse
    anger    anger, annoyance, disapproval, disgust
    fear     fear, nervousness, embarrassment, confusion
    love     love, caring, admiration, desire
    calm     relief, approval, realization, curiosity
    energy   excitement, amusement, pride, surprise
    neutral  neutral
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from spotify_assets.lib.bundles import EmotionSpec
from spotify_assets.lib.models.embedder import dedupe
from spotify_assets.lib.models.modal_backend import MapFunction, map_batches
from spotify_assets.lib.models.resolve import resolve_device, resolve_model_dir

# The order of SamLowe/roberta-base-go_emotions' config id2label: the stored column order.
GO_EMOTIONS: tuple[str, ...] = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)
N_LABELS = len(GO_EMOTIONS)

# Zero-shot descriptions, worded for songs rather than for the Reddit comments GoEmotions was
# built from. Versioned: EmotionSpec.prompts_version is in the bundle hash, so rewording a
# prompt means adding a version, never editing one.
LABEL_PROMPTS: dict[int, dict[str, str]] = {
    1: {
        "admiration": "an admiring, reverent song full of respect and awe",
        "amusement": "a funny, playful, amusing song",
        "anger": "an angry, aggressive, furious song",
        "annoyance": "an irritated, annoyed, bitter song",
        "approval": "an affirming, approving, reassuring song",
        "caring": "a caring, tender, comforting song",
        "confusion": "a confused, disoriented, uncertain song",
        "curiosity": "a curious, wondering, exploratory song",
        "desire": "a song of longing, desire and yearning",
        "disappointment": "a disappointed, let-down, disillusioned song",
        "disapproval": "a disapproving, critical protest song",
        "disgust": "a disgusted, repulsed, contemptuous song",
        "embarrassment": "an awkward, embarrassed, self-conscious song",
        "excitement": "an exciting, energetic, thrilling song",
        "fear": "a scary, fearful, dark and ominous song",
        "gratitude": "a thankful, grateful song",
        "grief": "a grieving, mournful song about loss",
        "joy": "a joyful, happy, cheerful, upbeat song",
        "love": "a romantic love song",
        "nervousness": "a nervous, anxious, tense song",
        "optimism": "a hopeful, optimistic, uplifting song",
        "pride": "a proud, triumphant, confident anthem",
        "realization": "a reflective song about a sudden realization",
        "relief": "a relieved, calm, soothing song",
        "remorse": "a regretful, remorseful, apologetic song",
        "sadness": "a sad, melancholic, heartbroken song",
        "surprise": "a surprising, unexpected, dramatic song",
        "neutral": "a plain, neutral song without strong emotion",
    },
}

BUCKETS: tuple[str, ...] = ("joy", "sadness", "anger", "fear", "love", "calm", "energy", "neutral")
LABEL_TO_BUCKET: dict[str, str] = {
    **dict.fromkeys(("joy", "gratitude", "optimism"), "joy"),
    **dict.fromkeys(("sadness", "grief", "disappointment", "remorse"), "sadness"),
    **dict.fromkeys(("anger", "annoyance", "disapproval", "disgust"), "anger"),
    **dict.fromkeys(("fear", "nervousness", "embarrassment", "confusion"), "fear"),
    **dict.fromkeys(("love", "caring", "admiration", "desire"), "love"),
    **dict.fromkeys(("relief", "approval", "realization", "curiosity"), "calm"),
    **dict.fromkeys(("excitement", "amusement", "pride", "surprise"), "energy"),
    "neutral": "neutral",
}


def _bucket_matrix() -> np.ndarray:
    """(28, 8) one-hot: scores @ matrix sums each bucket's labels in one vectorized step."""
    matrix = np.zeros((N_LABELS, len(BUCKETS)), dtype=np.float32)
    for row, label in enumerate(GO_EMOTIONS):
        matrix[row, BUCKETS.index(LABEL_TO_BUCKET[label])] = 1.0
    return matrix


BUCKET_MATRIX = _bucket_matrix()


def label_prompts(version: int) -> list[str]:
    """The zero-shot descriptions in GO_EMOTIONS order."""
    if version not in LABEL_PROMPTS:
        raise ValueError(
            f"unknown emotion prompts_version {version}; known: {sorted(LABEL_PROMPTS)}"
        )
    prompts = LABEL_PROMPTS[version]
    return [prompts[label] for label in GO_EMOTIONS]


def _check_scores(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float32)
    if scores.ndim != 2 or scores.shape[1] != N_LABELS:
        raise ValueError(f"expected emotion scores of shape (n, {N_LABELS}), got {scores.shape}")
    return scores


def normalize(scores: np.ndarray) -> np.ndarray:
    """Rows summing to 1, so tracks compare as distributions (all-zero rows stay zero)."""
    scores = np.asarray(scores, dtype=np.float32)
    totals = scores.sum(axis=1, keepdims=True)
    return np.divide(scores, totals, out=np.zeros_like(scores), where=totals > 0)


def to_buckets(scores: np.ndarray) -> np.ndarray:
    """(n, 28) label scores → (n, 8) bucket scores in BUCKETS order; row sums are preserved."""
    return _check_scores(scores) @ BUCKET_MATRIX


def top_labels(scores: np.ndarray, k: int = 3) -> list[list[str]]:
    """The k highest-scoring labels per row, best first (ties: GO_EMOTIONS order)."""
    order = np.argsort(-_check_scores(scores), axis=1, kind="stable")[:, :k]
    return [[GO_EMOTIONS[i] for i in row] for row in order]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max so large logits cannot overflow."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


def scores_from_rows(rows: Sequence[Mapping[str, float]], model: str) -> np.ndarray:
    """Per-text {label: score} rows (any label order) → normalized (n, 28) in GO_EMOTIONS order.

    Labels are matched by name, never by position: a model's id2label order is its own.
    """
    out = np.empty((len(rows), N_LABELS), dtype=np.float32)
    for i, row in enumerate(rows):
        check_label_set(row.keys(), model)
        out[i] = [row[label] for label in GO_EMOTIONS]
    if not np.isfinite(out).all():
        raise ValueError(f"{model} returned NaN or infinite emotion scores")
    if (out < 0).any():
        raise ValueError(f"{model} returned negative emotion scores (expected probabilities)")
    return normalize(out)


def check_label_set(labels: Any, model: str) -> None:
    """Only the 28 GoEmotions labels can be stored; anything else is a wrong model."""
    names = set(labels)
    missing = sorted(set(GO_EMOTIONS) - names)
    extra = sorted(names - set(GO_EMOTIONS))
    if missing or extra:
        raise ValueError(
            f"{model} is not a GoEmotions classifier: its labels lack {missing or 'nothing'} "
            f"and add {extra or 'nothing'} (expected exactly the {N_LABELS} GoEmotions labels)"
        )


class ZeroShotEmotions:
    """Emotions from the bundle's embedding model: no second model to download or run.

    `temperature` sets how peaked the softmax over cosine similarities is; MiniLM-style
    cosines differ by only a few hundredths between labels, hence the small default.
    """

    def __init__(self, embedder: Any, temperature: float, prompts_version: int = 1):
        if not temperature > 0:
            raise ValueError(f"zero-shot emotion temperature must be positive, got {temperature}")
        self.embedder = embedder
        self.temperature = temperature
        self.prompts = label_prompts(prompts_version)
        self._label_vectors: np.ndarray | None = None
        self.calls = 0

    def label_vectors(self) -> np.ndarray:
        """(28, dims) prompt vectors, embedded once per instance (queries: they describe music)."""
        if self._label_vectors is None:
            self._label_vectors = np.asarray(
                self.embedder.embed(self.prompts, kind="query"), dtype=np.float32
            )
        return self._label_vectors

    def from_vectors(self, track_vectors: np.ndarray) -> np.ndarray:
        """Emotions for already-embedded tracks, so stored track vectors need no re-embedding."""
        labels = self.label_vectors()
        track_vectors = np.asarray(track_vectors, dtype=np.float32)
        if track_vectors.ndim != 2 or track_vectors.shape[1] != labels.shape[1]:
            raise ValueError(
                f"track vectors of shape {track_vectors.shape} do not match the "
                f"{labels.shape[1]}-dim label vectors"
            )
        return softmax(track_vectors @ labels.T / self.temperature).astype(np.float32)

    def classify(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, N_LABELS), dtype=np.float32)
        return self.from_vectors(self.embedder.embed(list(texts), kind="document"))


class ClassifierEmotions:
    """A local GoEmotions text classifier via transformers' pipeline; never downloads.

    GoEmotions models are multi-label (independent sigmoids); rows are normalized afterwards so
    every backend stores a distribution.
    """

    max_tokens = 512

    def __init__(self, model: str, source: str = "", device: str = "auto", batch_size: int = 32):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        device = resolve_device(device)
        self.model = model
        self.device = device
        self.batch_size = batch_size
        path = resolve_model_dir(model, source)
        network = AutoModelForSequenceClassification.from_pretrained(
            str(path), local_files_only=True
        )
        check_label_set(network.config.id2label.values(), model)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.pipeline = pipeline(
            "text-classification", model=network, tokenizer=tokenizer, top_k=None, device=device
        )

    def classify(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 28) in GO_EMOTIONS order, rows summing to 1; identical texts are run once."""
        if not texts:
            return np.zeros((0, N_LABELS), dtype=np.float32)
        unique, inverse = dedupe(texts)
        results = self.pipeline(
            unique,
            batch_size=self.batch_size,
            truncation=True,
            max_length=self.max_tokens,
            function_to_apply="sigmoid",
        )
        rows = [{item["label"]: item["score"] for item in result} for result in results]
        return scores_from_rows(rows, self.model)[inverse]


class ModalEmotions:
    """The classifier on Modal: `function` is `classify_emotions` from spotify_assets.modal_app
    (or a stand-in), returning (batch index, [{label: sigmoid score}, ...]) per batch."""

    function_name = "classify_emotions"

    def __init__(self, function: MapFunction, model: str, batch_size: int = 64):
        self.function = function
        self.model = model
        self.batch_size = batch_size

    def classify(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, N_LABELS), dtype=np.float32)
        unique, inverse = dedupe(texts)
        batches = [unique[i : i + self.batch_size] for i in range(0, len(unique), self.batch_size)]
        parts = map_batches(
            self.function, self.function_name, batches, {"model": self.model}, self._check
        )
        return np.concatenate(parts)[inverse]

    def _check(self, rows: Sequence[Mapping[str, float]], batch: Sequence[str]) -> np.ndarray:
        if len(rows) != len(batch):
            raise ValueError(f"{self.model} returned {len(rows)} rows for {len(batch)} texts")
        return scores_from_rows(rows, self.model)


@lru_cache(maxsize=2)
def _classifier(model: str, source: str, device: str) -> ClassifierEmotions:
    return ClassifierEmotions(model, source, device)


def load_emotion_model(
    spec: EmotionSpec, embedder: Any = None, device: str = "auto"
) -> ZeroShotEmotions | ClassifierEmotions | None:
    """The runner a bundle's EmotionSpec asks for; classifiers are loaded once per process."""
    if spec.backend == "none":
        return None
    if spec.backend == "zero_shot":
        if embedder is None:
            raise ValueError("the zero_shot emotion backend needs the bundle's embedder")
        return ZeroShotEmotions(embedder, spec.temperature, spec.prompts_version)
    if spec.backend == "classifier":
        if not (spec.model or spec.source):
            raise ValueError("the classifier emotion backend needs a `model`")
        return _classifier(spec.model or spec.source, spec.source, device)
    raise ValueError(f"unknown emotion backend {spec.backend!r}")
