"""Fine-tune a sentence-transformers model with in-batch negatives (here, or in a Modal
container: remote.py runs this same loop there).

A plain loop over `MultipleNegativesRankingLoss` rather than `SentenceTransformerTrainer`:
the trainer needs the `datasets` package, which this project does not install, and a loop
keeps the run seeded and its cost obvious (one forward/backward per batch).
"""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only numpy at import: the Modal function runs this module (remote.py)
    from spotify_assets.lib.finetune.pairs import PairSet


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    scale: float = 20.0  # MNRL's similarity scale (its default)
    max_tokens: int = 128
    seed: int = 42
    max_pairs: int = 20_000
    feature_share: float = 0.3

    def payload(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainReport:
    pairs: int
    steps: int
    seconds: float
    first_loss: float
    last_loss: float


def fine_tune(
    model_dir: Path | str,
    pairs: PairSet,
    out_dir: Path,
    config: TrainConfig | None = None,
    device: str = "cpu",
    progress: Callable[[str], None] = lambda _: None,
    local_files_only: bool = True,
) -> TrainReport:
    """Train the model in `model_dir` on `pairs` and save it (sentence-transformers layout) to
    `out_dir`. Anchors are queries and positives documents, as in search and matching.
    `local_files_only=False` (a Modal container only) lets a Hub id download."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    config = config or TrainConfig()
    if len(pairs) < 2:
        raise ValueError(f"fine-tuning needs at least 2 pairs, got {len(pairs)}")
    torch.manual_seed(config.seed)
    model = SentenceTransformer(str(model_dir), device=device, local_files_only=local_files_only)
    model.max_seq_length = min(config.max_tokens, model.max_seq_length or config.max_tokens)
    loss_fn = MultipleNegativesRankingLoss(model, scale=config.scale)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    batches_per_epoch = max(1, len(pairs) // config.batch_size)
    total = batches_per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_share))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    rng = np.random.default_rng(config.seed)
    losses: list[float] = []
    started = time.perf_counter()
    model.train()
    for epoch in range(config.epochs):
        order = rng.permutation(len(pairs))
        for b in range(batches_per_epoch):
            idx = order[b * config.batch_size : (b + 1) * config.batch_size]
            if len(idx) < 2:  # one pair has no in-batch negative
                continue
            prepare = getattr(model, "preprocess", None) or model.tokenize  # 6.x renamed it
            features = [
                _to(prepare([texts[i] for i in idx]), model.device)
                for texts in (pairs.anchors, pairs.positives)
            ]
            loss = loss_fn(features, None)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(float(loss.detach()))
            if len(losses) % 50 == 0:
                progress(f"fine-tune: epoch {epoch + 1}, step {len(losses)}/{total}, "
                         f"loss {np.mean(losses[-50:]):.3f}")  # fmt: skip
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    seconds = time.perf_counter() - started
    progress(f"fine-tune: {len(losses)} steps on {len(pairs)} pairs in {seconds:.0f} s")
    return TrainReport(len(pairs), len(losses), round(seconds, 2), losses[0], losses[-1])


def _to(features: dict, device) -> dict:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}


MODEL_MARKER = "modules.json"  # every saved sentence-transformers model has it


def pack_model(model_dir: Path) -> bytes:
    """A saved model folder as tar bytes (how the artifact store keeps it)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(model_dir.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(model_dir).as_posix())
    return buffer.getvalue()


def packed_files(data: bytes) -> list[str]:
    """The file names in packed model bytes; ValueError when they are not a saved
    sentence-transformers model (not a tar, or no modules.json)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            names = tar.getnames()
    except tarfile.TarError as exc:
        raise ValueError(f"not a packed model: {exc}") from exc
    if MODEL_MARKER not in names:
        raise ValueError(f"not a saved sentence-transformers model: no {MODEL_MARKER} in {names}")
    return names
