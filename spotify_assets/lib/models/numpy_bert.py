"""A sentence-transformers BERT (mean pooling, normalized) run in numpy, for query text.

Importing torch and sentence-transformers takes seconds, longer than a whole search: a cold
`spotify-assets search` embeds one short query, which numpy does in milliseconds from the same
files (tokenizer.json via `tokenizers`, weights via `safetensors.numpy`). `unsupported(path)`
says why a model folder is not one this module reproduces exactly (another architecture, another
pooling, extra modules, a default prompt); callers then use sentence-transformers. Vectors match
sentence-transformers' fp32 ones to cosine > 0.9999 (spotify_assets_tests/lib/models).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

# BertModel, and XLM-RoBERTa (positions start after the padding index), both with absolute
# positions and erf GELU, as sentence_transformers.models.Transformer loads them
ARCHITECTURES = {"BertModel": "bert", "XLMRobertaModel": "xlm-roberta"}
_MODULES = ("Transformer", "Pooling", "Normalize")  # class names (their module paths vary by
# sentence-transformers version: `models.Pooling`, `sentence_transformer.modules.pooling.Pooling`)
_PREFIXES = ("bert.", "roberta.", "model.")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}  # I64: position ids


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file as read-only views of the file mapped in memory: no
    copy and no parsing beyond the JSON header (loading MiniLM's 90 MB took 0.17 s, plus 0.09 s
    to transpose; a query touches a few rows of the word embeddings). Raises ValueError for a
    dtype numpy lacks (bf16)."""
    with path.open("rb") as file:
        size = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{name}: dtype {info['dtype']} (supported: {', '.join(_DTYPES)})")
        start, end = info["data_offsets"]
        tensors[name] = data[start:end].view(_DTYPES[info["dtype"]]).reshape(info["shape"])
    return tensors


def _weight_dtypes(path: Path) -> set[str]:
    with path.open("rb") as file:
        size = int.from_bytes(file.read(8), "little")
        header = json.loads(file.read(size))
    return {v["dtype"] for k, v in header.items() if k != "__metadata__"}


def unsupported(path: Path) -> str | None:
    """Why the model in `path` cannot run here exactly as sentence-transformers runs it, or
    None when it can."""
    config = _read_json(path / "config.json") or {}
    architectures = config.get("architectures") or []
    if len(architectures) != 1 or architectures[0] not in ARCHITECTURES:
        return f"architecture {architectures or '?'} (supported: {', '.join(ARCHITECTURES)})"
    if config.get("hidden_act") != "gelu":
        return f"activation {config.get('hidden_act')!r}"
    if config.get("position_embedding_type", "absolute") != "absolute":
        return f"position embeddings {config.get('position_embedding_type')!r}"
    modules = _read_json(path / "modules.json") or []
    types = [str(m.get("type", "")) for m in modules]
    names = tuple(t.rsplit(".", 1)[-1] for t in types)
    if names not in (_MODULES, _MODULES[:2]) or not all(
        t.startswith("sentence_transformers.") for t in types
    ):
        return f"modules {types or '?'} (supported: Transformer, mean Pooling, Normalize)"
    pooling = _read_json(path / modules[1].get("path", "") / "config.json") or {}
    flags = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True}
    mode = pooling.get("pooling_mode")  # sentence-transformers 6 writes one name
    mean = flags == {"pooling_mode_mean_tokens"} or (not flags and mode == "mean")
    if not mean or pooling.get("include_prompt") is False:
        return f"pooling {sorted(flags) or mode or '?'}"
    st_config = _read_json(path / "sentence_bert_config.json") or {}
    if st_config.get("do_lower_case"):
        return "do_lower_case"
    if (_read_json(path / "config_sentence_transformers.json") or {}).get("default_prompt_name"):
        return "a default prompt"
    for name in ("tokenizer.json", "model.safetensors"):
        if not (path / name).exists():
            return f"no {name}"
    try:
        dtypes = _weight_dtypes(path / "model.safetensors")
    except (OSError, ValueError, KeyError, TypeError):
        return "an unreadable model.safetensors"
    if not dtypes <= set(_DTYPES):
        return f"weights in {sorted(dtypes - set(_DTYPES))}"
    return None


def max_tokens(path: Path, limit: int) -> int:
    """The token limit sentence-transformers applies: the bundle's, capped by the model's."""
    own = (_read_json(path / "sentence_bert_config.json") or {}).get("max_seq_length")
    tokenizer = (_read_json(path / "tokenizer_config.json") or {}).get("model_max_length")
    if not isinstance(tokenizer, int) or tokenizer > 1_000_000:  # "no limit" is written as 1e30
        tokenizer = None
    config = _read_json(path / "config.json") or {}
    positions = config.get("max_position_embeddings", 512)
    if config.get("architectures") == ["XLMRobertaModel"]:  # positions start at pad + 1
        positions -= int(config.get("pad_token_id") or 0) + 1
    return min(limit, own or tokenizer or limit, positions)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU with erf (BERT's `gelu`), erf from Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7),
    which numpy lacks and scipy would cost an import."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                + t * 1.061405429))))  # fmt: skip
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class NumpyBert:
    """One model folder (see `unsupported`) loaded for inference: `encode(texts)` returns
    L2-normalized float32 vectors, texts as given (the caller formats queries)."""

    def __init__(self, path: Path, max_tokens_: int = 256):
        from tokenizers import Tokenizer

        if reason := unsupported(path):
            raise ValueError(f"{path}: not supported by the numpy encoder: {reason}")
        config = _read_json(path / "config.json")
        self.kind = ARCHITECTURES[config["architectures"][0]]
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.pad_index = int(config.get("pad_token_id") or 0)
        weights = {}
        for key, value in read_safetensors(path / "model.safetensors").items():
            for prefix in _PREFIXES:
                key = key.removeprefix(prefix)
            if key.startswith(("embeddings.", "encoder.")) and value.dtype != np.int64:
                weights[key] = value.astype(np.float32, copy=False)
            if key.startswith("encoder.") and value.ndim == 2:  # a Linear, (out, in): a
                weights[key.removesuffix("weight") + "T"] = weights[key].T  # view BLAS reads
        self.w = weights
        self.dims = int(config["hidden_size"])
        self.max_tokens = max_tokens(path, max_tokens_)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        self._threads = None

    def _embed_tokens(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        if self.kind == "xlm-roberta":  # positions count real tokens after padding_idx
            positions = np.cumsum(mask, axis=1) * mask + self.pad_index
        else:
            positions = np.broadcast_to(np.arange(ids.shape[1]), ids.shape)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][positions]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        return _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                           self.eps)  # fmt: skip

    def _layer(self, x: np.ndarray, bias: np.ndarray, i: int) -> np.ndarray:
        w = self.w
        p = f"encoder.layer.{i}."
        batch, length, dims = x.shape
        head = dims // self.heads

        x = x.reshape(batch * length, dims)  # 2-D products go to BLAS

        def project(name: str) -> np.ndarray:
            y = x @ w[f"{p}attention.self.{name}.T"] + w[f"{p}attention.self.{name}.bias"]
            return np.ascontiguousarray(
                y.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)
            )

        q, k, v = project("query"), project("key"), project("value")
        scores = np.matmul(q, k.transpose(0, 1, 3, 2).copy()) / np.float32(math.sqrt(head)) + bias
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = np.matmul(probs, v).transpose(0, 2, 1, 3).reshape(batch * length, dims)
        attended = context @ w[f"{p}attention.output.dense.T"]
        x = _layer_norm(attended + w[f"{p}attention.output.dense.bias"] + x,
                        w[f"{p}attention.output.LayerNorm.weight"],
                        w[f"{p}attention.output.LayerNorm.bias"], self.eps)  # fmt: skip
        hidden = _gelu(x @ w[f"{p}intermediate.dense.T"] + w[f"{p}intermediate.dense.bias"])
        out = hidden @ w[f"{p}output.dense.T"] + w[f"{p}output.dense.bias"]
        out = _layer_norm(out + x, w[f"{p}output.LayerNorm.weight"],
                          w[f"{p}output.LayerNorm.bias"], self.eps)  # fmt: skip
        return out.reshape(batch, length, dims)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """One BLAS thread: these products are small, and OpenBLAS threads spinning on a busy
        2-core machine made one query 20× slower (0.48 s vs 0.023 s, measured)."""
        if self._threads is None:  # inspecting the loaded libraries costs a millisecond
            from threadpoolctl import ThreadpoolController

            self._threads = ThreadpoolController()
        with self._threads.limit(limits=1, user_api="blas"):
            return self._encode(texts, batch_size)

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))  # less padding
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in chosen)
            ids = np.full((len(chosen), length), self.pad_index, dtype=np.int64)
            mask = np.zeros((len(chosen), length), dtype=np.float32)
            for row, i in enumerate(chosen):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            x = self._embed_tokens(ids, mask.astype(np.int64))
            bias = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
            for i in range(self.layers):
                x = self._layer(x, bias, i)
            pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[
                :, None
            ]
            out[chosen] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out
