"""Find model weights on disk: a package's bundled copy, a local folder, or the HF cache.

Never downloads and never substitutes another model: the bundle hash must describe what ran.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from spotify_assets.settings import home_dir, settings


class ModelNotAvailable(RuntimeError):
    pass


def resolve_device(device: str) -> str:
    """`auto` → CUDA when this machine has it, else the CPU."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def models_dir() -> Path | None:
    return settings().models_dir


def resolve_model_dir(model: str, source: str = "") -> Path:
    """Where `model`'s files are: `source` (package:<module> or a path), then
    $SPOTIFY_ASSETS_MODELS/<org>__<name>, then the Hugging Face cache (offline)."""
    tried: list[str] = []
    if source.startswith("artifact://"):  # a fine-tuned model: the artifact store, or fail
        return fetch_artifact_model(source.removeprefix("artifact://"))
    if source.startswith("package:"):
        module_name = source.removeprefix("package:")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            tried.append(f"package {module_name} (not installed)")
        else:
            getter = getattr(module, "get_model_path", None)
            path = Path(getter()) if getter else Path(module.__file__).parent / "model"
            if (path / "config.json").exists() or (path / "modules.json").exists():
                return path
            tried.append(f"package {module_name} (no model files in {path})")
    elif source:
        path = Path(source).expanduser()
        if path.is_dir():
            return path
        tried.append(f"path {path}")

    if root := models_dir():
        path = root / model.replace("/", "__")
        if path.is_dir():
            return path
        tried.append(f"{path}")

    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        tried.append("the Hugging Face cache")

    raise ModelNotAvailable(
        f"model {model!r} is not available offline (looked in: {'; '.join(tried)}). Provide it "
        f"by running `huggingface-cli download {model}` on a machine with network access and "
        f"copying the cache, or put its files in $SPOTIFY_ASSETS_MODELS/{model.replace('/', '__')}, "
        "or use the modal compute backend."
    )


def fetch_artifact_model(key: str, store=None, cache: Path | None = None) -> Path:
    """The unpacked model for `key`, from the local cache or the artifact store (local or S3).
    A missing artifact is ModelNotAvailable with the remedy."""
    import io
    import tarfile

    from spotify_assets.lib.artifacts import ArtifactNotFound, store_from_settings

    target = (cache or home_dir() / "models" / "fine_tuned") / Path(key).stem
    if (target / "modules.json").exists():
        return target
    store = store or store_from_settings()
    try:
        data = store.get_bytes(key)
    except ArtifactNotFound as exc:
        raise ModelNotAvailable(
            f"fine-tuned model {key!r} is not in the artifact store {store.location}. Fix: "
            "materialize `fine_tuned_model` for the base bundle (or point "
            "SPOTIFY_ASSETS_ARTIFACTS at the store that has it)."
        ) from exc
    partial = target.with_name(target.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(partial, filter="data")
    partial.rename(target)
    return target
