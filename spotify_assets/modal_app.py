"""The Modal app behind the `modal` compute backend: GPU batch functions.

Deploy with `modal deploy spotify_assets/modal_app.py` (tokens from MODAL_TOKEN_ID /
MODAL_TOKEN_SECRET). Model weights are cached in a Modal Volume, so each model is downloaded
once per workspace, not once per container.
"""

from __future__ import annotations

import modal

APP_NAME = "spotify-assets"
GPU = "A10G"
MODELS_PATH = "/models"
# The same pins the project installs locally (scripts/setup.sh, pyproject.toml).
REQUIREMENTS = [
    "torch==2.13.0",
    "sentence-transformers>=3.0",
    "transformers>=4.40",
    "numpy>=1.26",
]

image = (
    modal.Image.debian_slim(python_version="3.11")
    .pip_install(*REQUIREMENTS)
    .env({"HF_HOME": MODELS_PATH})
)
models_volume = modal.Volume.from_name("spotify-assets-models", create_if_missing=True)
app = modal.App(APP_NAME)
_loaded: dict[str, object] = {}


@app.function(gpu=GPU, image=image, volumes={MODELS_PATH: models_volume}, timeout=900)
def embed_batch(
    index: int, texts: list[str], model: str, max_tokens: int = 256
) -> tuple[int, list[list[float]]]:
    """Embed one batch; returns its index so the caller can reassemble out-of-order results."""
    from sentence_transformers import SentenceTransformer

    if model not in _loaded:
        encoder = SentenceTransformer(model, device="cuda")
        encoder.max_seq_length = max_tokens
        _loaded[model] = encoder
        models_volume.commit()  # keep downloaded weights for the next container
    vectors = _loaded[model].encode(texts, batch_size=128, normalize_embeddings=True)
    return index, vectors.tolist()


@app.function(gpu=GPU, image=image, volumes={MODELS_PATH: models_volume}, timeout=900)
def classify_emotions(index: int, texts: list[str], model: str) -> tuple[int, list[dict]]:
    """GoEmotions sigmoid scores as {label: score} per text; the caller orders and normalizes
    them (spotify_assets.lib.models.emotions), so this image needs no project code."""
    from transformers import pipeline

    key = f"emotions:{model}"
    if key not in _loaded:
        _loaded[key] = pipeline("text-classification", model=model, top_k=None, device="cuda")
        models_volume.commit()
    results = _loaded[key](
        texts, batch_size=64, truncation=True, max_length=512, function_to_apply="sigmoid"
    )
    return index, [{item["label"]: float(item["score"]) for item in row} for row in results]


@app.function(gpu=GPU, image=image, volumes={MODELS_PATH: models_volume}, timeout=900)
def rerank_pairs(
    index: int, pairs: list[tuple[str, str]], model: str, max_tokens: int = 512
) -> tuple[int, list[float]]:
    """Raw relevance logits; the caller applies the sigmoid (spotify_assets.lib.models.reranker)
    so local and remote scores cannot differ by a checkpoint's configured activation."""
    import torch
    from sentence_transformers import CrossEncoder

    key = f"reranker:{model}:{max_tokens}"
    if key not in _loaded:
        _loaded[key] = CrossEncoder(model, device="cuda", max_length=max_tokens)
        models_volume.commit()
    logits = _loaded[key].predict(
        [list(pair) for pair in pairs], batch_size=128, activation_fn=torch.nn.Identity()
    )
    return index, [float(x) for x in logits]


# The fine-tune runs the project's own training loop (lib/finetune/train.py, numpy and
# sentence-transformers only at import): its source goes into the image, so local and remote
# training cannot drift apart.
finetune_image = image.add_local_python_source("spotify_assets")


@app.function(gpu=GPU, image=finetune_image, volumes={MODELS_PATH: models_volume}, timeout=3600)
def fine_tune_model(
    model: str, anchors: list[str], positives: list[str], config: dict
) -> tuple[bytes, dict]:
    """Fine-tune `model` (a Hub id; weights cached in the volume) on (anchor, positive) pairs
    with in-batch negatives; returns the saved model as tar bytes and the training report.
    The caller (spotify_assets.lib.finetune.remote.RemoteTrainer) checks and stores it."""
    from spotify_assets.lib.finetune.remote import train_packed

    result = train_packed(model, anchors, positives, config, device="cuda")
    models_volume.commit()
    return result
