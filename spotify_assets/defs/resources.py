"""Resources shared by every stage.

A field left empty takes its value from `spotify_assets.settings` (the environment) when the
resource is used, so secrets and URLs with passwords never appear in run configs or the UI.
Outside a run, the CLI builds them with `dg.build_resources`."""

from collections.abc import Callable

import dagster as dg
from pydantic import PrivateAttr

from spotify_assets.defs.failures import input_failure
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.models.backends import (
    BACKENDS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_MODAL_APP,
    make_embedder,
)
from spotify_assets.lib.models.emotions import ModalEmotions, load_emotion_model
from spotify_assets.lib.models.modal_backend import lookup_function
from spotify_assets.lib.models.reranker import ModalReranker, load_reranker
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.server import describe_url
from spotify_assets.settings import settings


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
    """Where GPU-heavy work runs: `local` (this machine, CUDA when present) or `modal`.
    Empty fields take their setting (SPOTIFY_ASSETS_COMPUTE_BACKEND, _DEVICE, _PRECISION)."""

    backend: str = ""
    device: str = ""
    precision: str = ""  # fp32 | bf16 | auto (bf16 on capable CPUs if it matches fp32)
    batch_size: int = DEFAULT_BATCH_SIZE
    modal_app: str = DEFAULT_MODAL_APP

    @property
    def _backend(self) -> str:
        return self.backend or settings().compute_backend

    @property
    def _device(self) -> str:
        return self.device or settings().device

    @property
    def _precision(self) -> str:
        return self.precision or settings().precision

    def _check_backend(self) -> None:
        if self._backend not in BACKENDS:
            raise ValueError(f"unknown compute backend {self._backend!r}; use local or modal")

    def embedder(self, bundle: ModelBundle, queries: bool = False):
        """`queries`: mostly query text (search): see lib/models/backends.py."""
        self._check_backend()
        return make_embedder(bundle.embedding, self._backend, self._device, self._precision,
                             self.batch_size, self.modal_app, queries=queries)  # fmt: skip

    def preload_embedder(self, bundle: ModelBundle) -> None:
        """Load the local document embedder now, so a later step finds it loaded (the import
        loads it beside its first steps); nothing to load on Modal."""
        self._check_backend()
        if self._backend == "local":
            self.embedder(bundle)

    def fine_tune_trainer(self):
        """None: fine-tune here (CPU or CUDA); on the modal backend, the deployed
        `fine_tune_model` function trains (lib/finetune/remote.py)."""
        self._check_backend()
        if self._backend != "modal":
            return None
        from spotify_assets.lib.finetune.remote import lookup_trainer

        return lookup_trainer(self.modal_app)

    def emotion_model(self, bundle: ModelBundle, embedder=None):
        """The bundle's emotion runner: zero-shot reuses `embedder` (already on this backend)."""
        self._check_backend()
        spec = bundle.emotion
        if spec.backend == "classifier" and self._backend == "modal":
            return ModalEmotions(
                lookup_function(self.modal_app, "classify_emotions"), spec.model or spec.source
            )
        return load_emotion_model(spec, embedder, self._device)

    def reranker(self, bundle: ModelBundle):
        """The bundle's cross-encoder, or None when it has none."""
        self._check_backend()
        if bundle.reranker is None:
            return None
        if self._backend == "modal":
            return ModalReranker(
                lookup_function(self.modal_app, "rerank_pairs"),
                bundle.reranker.model,
                max_tokens=bundle.reranker.max_tokens,
            )
        return load_reranker(bundle.reranker, self._device)


class SpotifyResource(dg.ConfigurableResource):
    """The Spotify Web API for one person (OAuth refresh-token flow). Empty fields take their
    setting: SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET / SPOTIFY_REFRESH_TOKEN (secrets never
    appear in the run config), SPOTIFY_API_BASE, SPOTIFY_TOKEN_URL; and ReccoBeats (audio
    features by Spotify id, no account): RECCOBEATS_API_BASE."""

    client_id: str = ""
    client_secret: str = ""
    refresh_token: str = ""
    api_base: str = ""
    token_url: str = ""

    reccobeats_base: str = ""

    def _credentials(self) -> tuple[str, str, str]:
        s = settings()
        return (
            self.client_id or s.spotify_client_id,
            self.client_secret or s.spotify_client_secret,
            self.refresh_token or s.spotify_refresh_token,
        )

    def missing_credentials(self) -> list[str]:
        """The credential variables that are empty (none: the client can be built)."""
        names = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN")
        return [n for n, v in zip(names, self._credentials(), strict=True) if not v]

    def client(self, log: Callable[[str], None] | None = None):
        from spotify_assets.lib.spotify.client import SpotifyClient

        s = settings()
        if missing := self.missing_credentials():
            raise input_failure(
                InputError(
                    f"the Spotify source needs {', '.join(missing)} in the environment "
                    "(see README: Spotify account)"
                )
            )
        return SpotifyClient(
            *self._credentials(),
            api_base=self.api_base or s.spotify_api_base,
            token_url=self.token_url or s.spotify_token_url,
            log=log,
        )  # fmt: skip

    def reccobeats(self, log: Callable[[str], None] | None = None):
        """The ReccoBeats client (it needs no credentials), or None when RECCOBEATS_API_BASE
        (or `reccobeats_base`) is "off"."""
        from spotify_assets.lib.spotify.reccobeats import ReccoBeatsClient

        base = self.reccobeats_base or settings().reccobeats_api_base
        return None if base.lower() == "off" else ReccoBeatsClient(base, log=log)


def compute_resource() -> ComputeResource:
    return ComputeResource()


def database_resource() -> DatabaseResource:
    return DatabaseResource()


def spotify_resource() -> SpotifyResource:
    return SpotifyResource()


def run_resources() -> dict[str, dg.ConfigurableResource]:
    """These resources by the keys assets ask for (the CLI builds them alone too:
    cli/runtime.resources)."""
    return {
        "database": database_resource(),
        "compute": compute_resource(),
        "spotify": spotify_resource(),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=run_resources())
