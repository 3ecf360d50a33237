"""Resources shared by every stage."""

import os

import dagster as dg
from pydantic import PrivateAttr

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.models.emotions import ModalEmotions, load_emotion_model
from spotify_assets.lib.models.modal_backend import ModalEmbedder, lookup_function
from spotify_assets.lib.models.reranker import ModalReranker, load_reranker
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.server import describe_url


def setting_value(setting: str) -> str:
    """A setting's value also outside a Dagster run, where an EnvVar field still holds the
    variable's name (the CLI builds these resources directly)."""
    return (setting.get_value("") or "") if isinstance(setting, dg.EnvVar) else setting


class DatabaseResource(dg.ConfigurableResource):
    """Postgres + pgvector. Empty `url`: `DATABASE_URL`, else the embedded server."""

    url: str = ""
    _db: Database | None = PrivateAttr(default=None)

    def get(self) -> Database:
        if self._db is None:
            self._db = Database(resolve_database_url(setting_value(self.url) or None))
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

    def _check_backend(self) -> None:
        if setting_value(self.backend) not in ("local", "modal"):
            raise ValueError(
                f"unknown compute backend {setting_value(self.backend)!r}; use local or modal"
            )

    def embedder(self, bundle: ModelBundle):
        self._check_backend()
        if setting_value(self.backend) == "local":
            return load_embedder(
                bundle.embedding,
                setting_value(self.device),
                setting_value(self.precision),
                self.batch_size,
            )
        return ModalEmbedder(bundle.embedding, lookup_function(setting_value(self.modal_app)))

    def emotion_model(self, bundle: ModelBundle, embedder=None):
        """The bundle's emotion runner: zero-shot reuses `embedder` (already on this backend)."""
        self._check_backend()
        spec = bundle.emotion
        if spec.backend == "classifier" and setting_value(self.backend) == "modal":
            return ModalEmotions(
                lookup_function(setting_value(self.modal_app), "classify_emotions"),
                spec.model or spec.source,
            )
        return load_emotion_model(spec, embedder, setting_value(self.device))

    def reranker(self, bundle: ModelBundle):
        """The bundle's cross-encoder, or None when it has none."""
        self._check_backend()
        if bundle.reranker is None:
            return None
        if setting_value(self.backend) == "modal":
            return ModalReranker(
                lookup_function(setting_value(self.modal_app), "rerank_pairs"),
                bundle.reranker.model,
                max_tokens=bundle.reranker.max_tokens,
            )
        return load_reranker(bundle.reranker, setting_value(self.device))


class SpotifyResource(dg.ConfigurableResource):
    """The Spotify Web API for one person (OAuth refresh-token flow). Secrets come from
    SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET / SPOTIFY_REFRESH_TOKEN."""

    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    api_base: str = "https://api.spotify.com"
    token_url: str = "https://accounts.spotify.com/api/token"

    def client(self):
        from spotify_assets.lib.spotify.client import SpotifyClient

        missing = [
            name
            for name, value in (
                ("SPOTIFY_CLIENT_ID", setting_value(self.client_id)),
                ("SPOTIFY_CLIENT_SECRET", setting_value(self.client_secret)),
                ("SPOTIFY_REFRESH_TOKEN", setting_value(self.refresh_token)),
            )
            if not value
        ]
        if missing:
            raise dg.Failure(
                allow_retries=False,
                description=f"the Spotify source needs {', '.join(missing)} in the environment "
                "(see README: Spotify account)",
            )
        return SpotifyClient(
            setting_value(self.client_id),
            setting_value(self.client_secret),
            setting_value(self.refresh_token),
            api_base=setting_value(self.api_base),
            token_url=setting_value(self.token_url),
        )


def env_setting(name: str, default: str) -> str | dg.EnvVar:
    """An EnvVar when the variable is set (the UI then shows where a setting comes from)."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def compute_resource() -> ComputeResource:
    return ComputeResource(
        backend=env_setting("SPOTIFY_ASSETS_COMPUTE_BACKEND", "local"),
        device=env_setting("SPOTIFY_ASSETS_DEVICE", "auto"),
        precision=env_setting("SPOTIFY_ASSETS_PRECISION", "auto"),
    )


def database_resource() -> DatabaseResource:
    """`DATABASE_URL` from the environment when set (shown as an env var in the UI)."""
    if os.environ.get("DATABASE_URL"):
        return DatabaseResource(url=dg.EnvVar("DATABASE_URL"))
    return DatabaseResource()


def spotify_resource() -> SpotifyResource:
    settings = {
        "client_id": "SPOTIFY_CLIENT_ID",
        "client_secret": "SPOTIFY_CLIENT_SECRET",
        "refresh_token": "SPOTIFY_REFRESH_TOKEN",
        "api_base": "SPOTIFY_API_BASE",
        "token_url": "SPOTIFY_TOKEN_URL",
    }
    return SpotifyResource(
        **{key: dg.EnvVar(env) for key, env in settings.items() if os.environ.get(env)}
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "database": database_resource(),
            "compute": compute_resource(),
            "spotify": spotify_resource(),
        }
    )
