"""Fine-tuning on Modal: the same training loop (train.fine_tune) in a GPU container.

`train_packed` is what the deployed function (spotify_assets.modal_app.fine_tune_model) runs:
load the base model, train on the pairs, return the saved model as tar bytes with the training
report. `RemoteTrainer` is the caller's side: one `Function.remote(...)` call (Modal's
documented surface: keyword arguments in, the return value out), the reply checked before
anything is stored. In production the function is `modal.Function.from_name(app,
FUNCTION_NAME)`; tests pass an in-process stand-in that runs `train_packed` itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from spotify_assets.lib.finetune.train import (
    TrainConfig,
    TrainReport,
    fine_tune,
    pack_model,
    packed_files,
)

FUNCTION_NAME = "fine_tune_model"


class RemoteFunction(Protocol):
    def remote(self, *args: Any, **kwargs: Any) -> Any: ...


class RemoteFineTuneError(RuntimeError):
    """The Modal function failed or answered out of contract; the message names it."""


@dataclass(frozen=True)
class _Pairs:
    """What the training loop reads of a PairSet."""

    anchors: list[str]
    positives: list[str]

    def __len__(self) -> int:
        return len(self.anchors)


def train_packed(
    model: str,
    anchors: Sequence[str],
    positives: Sequence[str],
    config: dict,
    device: str = "cuda",
    progress: Callable[[str], None] = print,
) -> tuple[bytes, dict]:
    """Train `model` (a local folder, or a Hub id the container downloads) on the pairs;
    returns (the saved model as tar bytes, the training report as a dict)."""
    if len(anchors) != len(positives):
        raise ValueError(f"{len(anchors)} anchors for {len(positives)} positives")
    with tempfile.TemporaryDirectory(prefix="finetune-") as tmp:
        out = Path(tmp) / "model"
        report = fine_tune(
            Path(model) if Path(model).exists() else model,
            _Pairs(list(anchors), list(positives)),
            out,
            TrainConfig(**config),
            device,
            progress,
            local_files_only=Path(model).exists(),
        )
        return pack_model(out), report.__dict__


class RemoteTrainer:
    """Trains through a deployed Modal function; `model` is what the container loads (the
    bundle's Hub id: the container has no copy of this machine's offline models)."""

    def __init__(self, function: RemoteFunction, name: str = FUNCTION_NAME):
        self.function = function
        self.name = name

    def __call__(self, model: str, pairs, config: TrainConfig) -> tuple[bytes, TrainReport]:
        where = f"Modal function {self.name!r}"
        try:
            reply = self.function.remote(
                model=model,
                anchors=list(pairs.anchors),
                positives=list(pairs.positives),
                config=config.payload(),
            )
        except Exception as exc:  # a remote failure arrives as whatever the remote raised
            raise RemoteFineTuneError(f"{where} failed: {type(exc).__name__}: {exc}") from exc
        if not (isinstance(reply, (tuple, list)) and len(reply) == 2):
            raise RemoteFineTuneError(
                f"{where} returned {type(reply).__name__}, expected (model tar bytes, report)"
            )
        data, report = reply
        if not isinstance(data, bytes):
            raise RemoteFineTuneError(f"{where} returned {type(data).__name__} for the model")
        try:
            packed_files(data)
            report = TrainReport(**report)
        except (ValueError, TypeError) as exc:
            raise RemoteFineTuneError(f"{where} returned an unusable answer: {exc}") from exc
        if report.pairs != len(pairs):
            raise RemoteFineTuneError(
                f"{where} trained on {report.pairs} pairs, {len(pairs)} were sent"
            )
        return data, report


def lookup_trainer(app_name: str) -> RemoteTrainer:
    try:
        import modal
    except ImportError as exc:
        raise RuntimeError(
            "the modal compute backend needs the `modal` package: pip install 'spotify_assets[modal]'"
        ) from exc
    return RemoteTrainer(modal.Function.from_name(app_name, FUNCTION_NAME))
