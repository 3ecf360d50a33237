"""Tiny, randomly initialised models that tests build and save themselves (no downloads)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from pathlib import Path

import yaml

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tiny_sentence_model(directory: Path, hidden: int = 32, seed: int = 0) -> Path:
    """A 1-layer BERT + mean pooling sentence-transformers model with `hidden` dims."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    if (directory / "modules.json").exists():
        return directory
    raw = directory / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = SPECIALS + chars + [f"##{c}" for c in chars]
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # from_pretrained reads vocab.txt (transformers 5 ignores a bare `vocab_file=` argument)
    tokenizer = BertTokenizerFast.from_pretrained(str(raw), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(raw)
    tokenizer.save_pretrained(raw)
    word = models.Transformer(str(raw), max_seq_length=256)
    pooling = models.Pooling(word.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(directory))
    return directory


def write_bundles_file(path: Path, model_dir: Path, name: str = "tiny", dims: int = 32) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "bundles": {
                    name: {
                        "description": "test-built tiny model",
                        "embedding": {
                            "model": f"test/{name}",
                            "source": str(model_dir),
                            "dims": dims,
                            "max_tokens": 256,
                        },
                        "emotion": {"backend": "none"},
                        "reranker": None,
                    }
                }
            }
        )
    )
    return path


def _byte_level_alphabet() -> list[str]:
    """GPT-2's byte → printable-character table: a byte-level BPE with no merges needs only it."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable = {*printable, *range(ord("®"), ord("ÿ") + 1)}
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def build_tiny_emotion_classifier(
    directory: Path, seed: int = 0, labels: Sequence[str] | None = None
) -> Path:
    """A 1-layer RoBERTa multi-label classifier saved for `transformers.pipeline`.

    `labels` (default: GoEmotions order) sets id2label, e.g. shuffled or wrong label sets.
    """
    import json

    import torch
    from transformers import (
        RobertaConfig,
        RobertaForSequenceClassification,
        RobertaTokenizerFast,
    )

    from spotify_assets.lib.models.emotions import GO_EMOTIONS

    if (directory / "config.json").exists():
        return directory
    labels = list(labels or GO_EMOTIONS)
    raw = directory / "tokenizer_files"
    raw.mkdir(parents=True, exist_ok=True)
    vocab = ["<s>", "<pad>", "</s>", "<unk>", *_byte_level_alphabet(), "<mask>"]
    (raw / "vocab.json").write_text(json.dumps({token: i for i, token in enumerate(vocab)}))
    (raw / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = RobertaTokenizerFast.from_pretrained(str(raw), model_max_length=512)
    torch.manual_seed(seed)
    config = RobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=514,  # RoBERTa offsets positions by padding_idx + 1
        type_vocab_size=1,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification",
        initializer_range=0.2,  # spread the random scores so label-order mix-ups show
    )
    RobertaForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def build_tiny_cross_encoder(directory: Path, seed: int = 0) -> Path:
    """A 1-layer BERT with one output logit, loadable by `sentence_transformers.CrossEncoder`."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    if (directory / "config.json").exists():
        return directory
    raw = directory / "tokenizer_files"
    raw.mkdir(parents=True, exist_ok=True)
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = SPECIALS + chars + [f"##{c}" for c in chars]
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n")
    # from_pretrained reads vocab.txt on transformers 4 and 5 alike; on 5 the constructor
    # ignores `vocab_file` and leaves every word [UNK]
    tokenizer = BertTokenizerFast.from_pretrained(
        str(raw), do_lower_case=True, model_max_length=512
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
        initializer_range=0.5,  # the default 0.02 scores every pair within 1e-5 of 0.5
    )
    BertForSequenceClassification(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
