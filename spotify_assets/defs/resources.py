"""Resources shared by every stage."""

import os

import dagster as dg
from pydantic import PrivateAttr

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.models.modal_backend import ModalEmbedder, lookup_function
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.server import describe_url


class DatabaseResource(dg.ConfigurableResource):
    """Postgres + pgvector. Empty `url`: `DATABASE_URL`, else the embedded server."""

    url: str = ""
    _db: Database | None = PrivateAttr(default=None)

    def get(self) -> Database:
        if self._db is None:
            self._db = Database(resolve_database_url(self.url or None))
        return self._db

    def where(self) -> str:
        return describe_url(self.get().url)


class ComputeResource(dg.ConfigurableResource):
    """Where GPU-heavy work runs: `local` (this machine, CUDA when present) or `modal`."""

    backend: str = "local"
    device: str = "auto"
    precision: str = "auto"  # fp32 | bf16 | auto (bf16 on capable CPUs if it matches fp32)
    batch_size: int = 64
    modal_app: str = "spotify-assets"

    def embedder(self, bundle: ModelBundle):
        if self.backend == "local":
            return load_embedder(bundle.embedding, self.device, self.precision, self.batch_size)
        if self.backend == "modal":
            return ModalEmbedder(bundle.embedding, lookup_function(self.modal_app))
        raise ValueError(f"unknown compute backend {self.backend!r}; use local or modal")


def _env(name: str, default: str) -> str | dg.EnvVar:
    return dg.EnvVar(name) if os.environ.get(name) else default


def compute_resource() -> ComputeResource:
    return ComputeResource(
        backend=_env("SPOTIFY_ASSETS_COMPUTE_BACKEND", "local"),
        device=_env("SPOTIFY_ASSETS_DEVICE", "auto"),
        precision=_env("SPOTIFY_ASSETS_PRECISION", "auto"),
    )


def database_resource() -> DatabaseResource:
    """`DATABASE_URL` from the environment when set (shown as an env var in the UI)."""
    if os.environ.get("DATABASE_URL"):
        return DatabaseResource(url=dg.EnvVar("DATABASE_URL"))
    return DatabaseResource()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"database": database_resource(), "compute": compute_resource()}
    )
