"""The numpy query encoder gives sentence-transformers' vectors (real MiniLM and a tiny
self-built BERT), is used only where it applies, and never embeds documents."""

import dataclasses
import json
import shutil

import numpy as np
import pytest

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.models.backends import QueryEmbedder, load_query_encoder, make_embedder
from spotify_assets.lib.models.embedder import SentenceEmbedder, load_embedder
from spotify_assets.lib.models.numpy_bert import NumpyBert, unsupported
from spotify_assets.lib.models.resolve import resolve_model_dir

SPEC = load_bundles().default_bundle.embedding
LONG = " ".join(f"word{i} and a longer phrase about songs" for i in range(120))  # > 256 tokens
TEXTS = [
    "sad acoustic songs for a rainy day",
    "upbeat 80s synth pop",
    "fast",
    "x",
    "Instrumental jazz; piano trio — late night, low energy",
    "Beyoncé – Déjà Vu (feat. Jay-Z)",
    "日本語のバラード 静かな夜",
    "Русский рок 90-х",
    "موسيقى هادئة للدراسة",
    "🎸🔥 loud guitars 🔥🎸",
    "k-pop girl group with high danceability and valence",
    "songs like Bohemian Rhapsody by Queen",
    "tempo > 140 and energy > 0.8 edm",
    "   spaces   around   words   ",
    "UPPER CASE QUERY ABOUT METAL",
    "reggaeton perreo 2019 hits",
    "a" * 300,
    "don't stop believin' / journey (1981)",
    "lo-fi hip hop beats to relax/study to",
    "classical: Bach cello suite no. 1 in G major, BWV 1007",
    "country road trip songs with banjo",
    "\u200bzero\u200bwidth\u200bspaces",
    "Ça va? Øresund Straße naïve café",
    "numbers 1 2 3 4 5 6 7 8 9 10 11 12",
    "new wave, post-punk, darkwave",
    "mellow r&b slow jams",
    "#hashtag @mention https://example.com/path?q=1",
    "happy birthday song",
    "death metal blast beats",
    "bossa nova for a sunday morning",
    LONG,
    LONG + " 終わり, and a different ending",
]


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(SPEC, "cpu", "fp32")


def test_the_default_model_is_supported_and_matches_sentence_transformers(minilm):
    path = resolve_model_dir(SPEC.model, SPEC.source)
    assert unsupported(path) is None
    embedder = make_embedder(SPEC, "local", "cpu", "fp32", queries=True)
    assert isinstance(embedder, QueryEmbedder)
    fast = embedder.embed(TEXTS, "query")
    reference = minilm.embed(TEXTS, "query")
    assert fast.shape == reference.shape == (len(TEXTS), SPEC.dims)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1, atol=1e-5)
    cosine = (fast * reference).sum(axis=1)
    assert cosine.min() > 0.9999, dict(zip(TEXTS, cosine.round(6), strict=True))
    # long texts are cut where sentence-transformers cuts them: the two share their first
    # 256 tokens, so their vectors coincide
    assert float(fast[-1] @ fast[-2]) > 0.9999


def test_query_formatting_is_honoured(minilm):
    spec = dataclasses.replace(SPEC, query_format="query: {text}")
    fast = make_embedder(spec, "local", "cpu", "fp32", queries=True).embed(TEXTS[:4], "query")
    plain = minilm.embed([f"query: {t}" for t in TEXTS[:4]], "document")
    assert (fast * plain).sum(axis=1).min() > 0.9999
    assert (fast * minilm.embed(TEXTS[:4], "query")).sum(axis=1).min() < 0.999


def test_documents_are_embedded_by_sentence_transformers(minilm):
    embedder = make_embedder(SPEC, "local", "cpu", "fp32", queries=True)
    assert not embedder.documents.loaded
    vectors = embedder.embed(TEXTS[:5], "document")
    assert embedder.documents.loaded
    assert np.array_equal(vectors, minilm.embed(TEXTS[:5], "document"))
    # without `queries` the embedder is the sentence-transformers one, as before
    assert isinstance(make_embedder(SPEC, "local", "cpu", "fp32"), SentenceEmbedder)


def test_a_tiny_self_built_bert_matches(tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    assert unsupported(tiny_model_dir) is None
    texts = [*TEXTS[:12], LONG]
    reference = SentenceTransformer(str(tiny_model_dir), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    vectors = NumpyBert(tiny_model_dir).encode(texts, batch_size=4)  # padding across batches
    assert (vectors * reference).sum(axis=1).min() > 0.9999


def test_other_poolings_fall_back_to_sentence_transformers(tiny_model_dir, tmp_path):
    cls_model = tmp_path / "cls"
    shutil.copytree(tiny_model_dir, cls_model)
    pooling = next(cls_model.glob("*_Pooling/config.json"))
    config = json.loads(pooling.read_text())
    config.update(pooling_mode="cls")
    pooling.write_text(json.dumps(config))
    assert "pooling" in unsupported(cls_model)
    spec = dataclasses.replace(SPEC, model="test/cls", source=str(cls_model), dims=32)
    assert load_query_encoder(spec) is None
    embedder = make_embedder(spec, "local", "cpu", "fp32", queries=True)
    assert isinstance(embedder, SentenceEmbedder)

    config_json = tmp_path / "t5" / "config.json"
    shutil.copytree(tiny_model_dir, config_json.parent)
    config_json.write_text(json.dumps({**json.loads(config_json.read_text()),
                                       "architectures": ["T5EncoderModel"]}))  # fmt: skip
    assert "architecture" in unsupported(config_json.parent)


def test_a_tiny_xlm_roberta_matches(tiny_model_dir, tmp_path):
    """XLM-RoBERTa counts positions from after the padding index (the tiny BERT's tokenizer
    pads with 0, so the model's padding index is 0 too)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import XLMRobertaConfig, XLMRobertaModel

    model_dir = tmp_path / "xlmr"
    shutil.copytree(tiny_model_dir, model_dir)
    bert = json.loads((model_dir / "config.json").read_text())
    torch.manual_seed(1)
    config = XLMRobertaConfig(vocab_size=bert["vocab_size"], hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=2, intermediate_size=64, pad_token_id=0,
                              max_position_embeddings=514, type_vocab_size=1)  # fmt: skip
    (model_dir / "model.safetensors").unlink()
    XLMRobertaModel(config).save_pretrained(model_dir)
    assert unsupported(model_dir) is None
    texts = TEXTS[:10]
    reference = SentenceTransformer(str(model_dir), device="cpu").encode(
        texts, normalize_embeddings=True
    )
    vectors = NumpyBert(model_dir).encode(texts, batch_size=3)
    assert (vectors * reference).sum(axis=1).min() > 0.9999


class _CountingEncoder:
    """Deterministic unit vectors per text; counts the texts it was asked to encode."""

    def __init__(self, dims: int):
        self.dims = dims
        self.encoded: list[str] = []

    def encode(self, texts):
        self.encoded += list(texts)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dims) for t in texts]
        vectors = np.array(rows, dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_query_vectors_are_kept_per_text_and_dropped_least_recently_used():
    encoder = _CountingEncoder(SPEC.dims)
    embedder = QueryEmbedder(SPEC, encoder, lambda: None, cache_size=2)
    first = embedder.embed(["a", "b", "a"], "query")
    assert encoder.encoded == ["a", "b"]  # duplicates once
    again = embedder.embed(["b", "a"], "query")
    assert encoder.encoded == ["a", "b"]  # both kept: nothing encoded
    assert np.array_equal(again, first[[1, 0]])
    again[:] = 0  # a caller changing its array changes no kept vector
    assert np.array_equal(embedder.embed(["a"], "query")[0], first[0])
    embedder.embed(["c"], "query")  # "b" was used least recently: dropped
    embedder.embed(["a", "b"], "query")
    assert encoder.encoded == ["a", "b", "c", "b"]
    assert np.array_equal(embedder.embed(["c"], "query"), embedder.embed(["c"], "query"))
