"""Tiny, randomly initialised models that tests build and save themselves (no downloads)."""

from __future__ import annotations

import string
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
    tokenizer = BertTokenizerFast(vocab_file=str(raw / "vocab.txt"), do_lower_case=True)
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
