"""`spotify-assets doctor`: what this machine would run with, and what is missing.

A misconfigured deployment otherwise fails far from its cause (a run hours later cannot find a
model or a database). One report names every dependency, where it was found and how to fix
it. Only what the default pipeline cannot run without is required (the database with pgvector,
the default bundle's embedding model); optional pieces (Modal, large models, Spotify, S3) are
reported but never fail it. Secret values are never printed.
"""

from __future__ import annotations

import platform
import re
import sys
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from spotify_assets.settings import other_variables, settings

REPO_ROOT = Path(__file__).resolve().parents[1]
CONNECT_TIMEOUT_S = 5
PACKAGES = (
    "dagster",
    "dagster-postgres",
    "dagster-aws",
    "torch",
    "sentence-transformers",
    "transformers",
    "psycopg",
    "pgvector",
    "xgboost",
)
SPOTIFY_ENV = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN")
MODAL_ENV = ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET")
# Values never shown, even inside an error message that happens to echo one.
SECRET_ENV = (
    *SPOTIFY_ENV,
    *MODAL_ENV,
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
URL_ENV = ("DATABASE_URL", "DAGSTER_PG_URL")


@dataclass(frozen=True)
class Check:
    """One finding. `required`: a failure here means the pipeline cannot run."""

    name: str
    ok: bool
    detail: str
    remedy: str = ""
    required: bool = False


def required_ok(checks: Iterable[Check]) -> bool:
    """False when any required check failed (the CLI's exit status)."""
    return all(check.ok for check in checks if check.required)


def diagnose() -> list[Check]:
    """Every check, in report order; a check that crashes is reported, not raised."""
    sections: list[tuple[str, bool, Callable[[], list[Check]]]] = [
        ("python", False, _python_checks),
        ("database", True, _database_checks),
        ("dagster instance", False, _instance_checks),
        ("compute", False, _compute_checks),
        ("models", False, _models_folder_checks),
        ("bundles", True, _bundle_checks),
        ("artifacts", False, _artifact_checks),
        ("spotify", False, _spotify_checks),
    ]
    checks: list[Check] = []
    for name, required, section in sections:
        try:
            checks.extend(section())
        except Exception as exc:  # a doctor that crashes tells nothing
            checks.append(
                Check(name, False, f"check crashed: {type(exc).__name__}: {exc}", required=required)
            )
    secrets = _secret_values()
    return [_redact(check, secrets) for check in checks]


def format_report(checks: Iterable[Check]) -> str:
    """Aligned lines, `FAIL` for required failures, `warn` for missing optional pieces."""
    checks = list(checks)
    secrets = _secret_values()
    checks = [_redact(check, secrets) for check in checks]
    width = min(max((len(c.name) for c in checks), default=0), 44)
    lines = ["spotify_assets doctor"]
    for check in checks:
        status = "ok" if check.ok else "FAIL" if check.required else "warn"
        lines.append(f"  {status:<5} {check.name:<{width}}  {check.detail}")
        if check.remedy and not check.ok:
            lines.append(
                textwrap.fill(
                    check.remedy,
                    width=100,
                    initial_indent=" " * 8 + "fix: ",
                    subsequent_indent=" " * 13,
                    break_on_hyphens=False,
                )
            )
    failed = [c.name for c in checks if c.required and not c.ok]
    optional = sum(1 for c in checks if not c.required and not c.ok)
    if failed:
        lines.append(f"result: FAIL (required: {', '.join(failed)})")
    else:
        note = f" ({optional} optional item{'s' * (optional != 1)} not available)"
        lines.append("result: ok" + (note if optional else ""))
    return "\n".join(lines)


# ---- secrets ---------------------------------------------------------------------------------


def _secret_values() -> set[str]:
    """Secret env values and the passwords inside the database URLs."""
    from psycopg.conninfo import conninfo_to_dict

    values = set(settings().secrets()) | set(other_variables(*SECRET_ENV).values())
    urls = {"DATABASE_URL": settings().database_url, "DAGSTER_PG_URL": settings().dagster_pg_url}
    for name in URL_ENV:
        try:
            password = conninfo_to_dict(_libpq_url(urls[name])).get("password")
        except Exception:  # not a valid URL: the database check says so
            continue
        values |= {str(password or ""), quote(str(password or ""), safe="")}
    return {value for value in values if len(value) >= 4}


def _libpq_url(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg2://`) as libpq reads it (`postgresql://`)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _redact(check: Check, secrets: set[str]) -> Check:
    changes = {}
    for field in fields(check):
        value = getattr(check, field.name)
        if isinstance(value, str) and any(secret in value for secret in secrets):
            for secret in secrets:
                value = value.replace(secret, "***")
            changes[field.name] = value
    return replace(check, **changes) if changes else check


# ---- python and packages ---------------------------------------------------------------------


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _python_checks() -> list[Check]:
    checks = [
        Check(
            "python",
            sys.version_info >= (3, 11),
            f"{platform.python_version()} ({sys.executable})",
            remedy="use Python 3.11+",
        )
    ]
    for package in PACKAGES:
        version = _version(package)
        checks.append(
            Check(
                package,
                version is not None,
                version or "not installed",
                remedy="pip install -e . (scripts/setup.sh installs torch first)",
            )
        )
    modal = _version("modal")
    checks.append(
        Check(
            "modal",
            modal is not None,
            modal or "not installed (needed only for the modal compute backend)",
            remedy="pip install -e '.[modal]'",
        )
    )
    return checks


# ---- the app's database ----------------------------------------------------------------------


def _database_checks() -> list[Check]:
    import psycopg

    from spotify_assets.lib.search.engine import EXACT_THRESHOLD
    from spotify_assets.lib.store.database import (
        applied_migration_count,
        load_migrations,
        server_version,
        vector_extension,
    )
    from spotify_assets.lib.store.search import ITERATIVE_SCAN_VERSION, version_tuple
    from spotify_assets.lib.store.server import describe_url, resolve_database_url

    explicit = bool(settings().database_url)
    package = settings().embedded_postgres
    source = "DATABASE_URL" if explicit else f"embedded {package}"
    remedy = (
        "start that server or fix DATABASE_URL (postgresql://USER:PASSWORD@HOST:5432/DB, a "
        "Postgres with pgvector); unset it to use the embedded Postgres"
        if explicit
        else "set DATABASE_URL to a Postgres with pgvector, or check that the embedded server "
        f"(PyPI {package}) can start under $SPOTIFY_ASSETS_HOME/pgdata"
    )
    try:
        url = resolve_database_url()
        where = describe_url(url)
    except Exception as exc:
        return [Check("database", False, f"{source}: {_first_line(exc)}", remedy, required=True)]
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True) as conn:
            version = server_version(conn)
            vector = vector_extension(conn)
            applied = applied_migration_count(conn)
    except psycopg.Error as exc:
        detail = f"{where} ({source}) unreachable: {_first_line(exc)}"
        return [Check("database", False, detail, remedy, required=True)]

    shipped = len(load_migrations())
    migrations = (
        "no schema_migrations yet (applied on first use)"
        if applied is None
        else f"migrations {applied}/{shipped} applied"
        + ("" if applied >= shipped else " (the rest on first use)")
    )
    detail = f"{where} ({source}), PostgreSQL {version}; {migrations}"
    checks = [Check("database", True, detail, required=True)]
    if vector is None:
        checks.append(
            Check(
                "database: vector extension",
                False,
                "pgvector is not available on this server",
                "install pgvector on the server (e.g. the pgvector/pgvector:pg16 image)",
                required=True,
            )
        )
    else:
        available, installed = vector
        state = f"installed {installed}" if installed else "not installed yet (first migration)"
        detail = f"available {available}, {state}"
        if installed and version_tuple(available) > version_tuple(installed):
            detail += f" (updated to {available} when a process first uses the database)"
        if version_tuple(available) >= ITERATIVE_SCAN_VERSION:
            detail += "; iterative index scans (filtered searches stay on the HNSW index)"
        else:
            detail += (
                "; no iterative index scans (pgvector < 0.8): a filter keeping more than "
                f"{EXACT_THRESHOLD:,} rows filters HNSW's candidates, or reads every kept row"
            )
        checks.append(Check("database: vector extension", True, detail, required=True))
    return checks


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---- the Dagster instance --------------------------------------------------------------------


def _instance_checks() -> list[Check]:
    import yaml

    home = settings().dagster_home
    path = Path(home) / "dagster.yaml" if home else REPO_ROOT / "dagster.yaml"
    origin = (
        f"$DAGSTER_HOME/dagster.yaml ({path})"
        if home
        else f"{path} (DAGSTER_HOME unset; `spotify-assets dev` copies this file)"
    )
    if not path.exists():
        detail = (
            f"no {origin}: Dagster's default SQLite storage under DAGSTER_HOME"
            if home
            else "DAGSTER_HOME unset and no dagster.yaml in the source tree"
        )
        return [Check("dagster instance", True, detail)]
    config = yaml.safe_load(path.read_text("utf-8")) or {}
    kind, storage = _storage(config)
    checks = [Check("dagster instance", True, f"{origin}; storage: {kind}")]
    if kind == "postgres":
        checks.append(_instance_postgres_check(storage or {}, launched_by_cli=not home))
    return checks


def _storage(config: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """("postgres", its settings) or ("sqlite", None), for both the unified `storage:` key
    and the older per-store `run_storage` / `event_log_storage` modules."""
    storage = config.get("storage") or {}
    if "postgres" in storage:
        return "postgres", storage["postgres"]
    if "sqlite" in storage:
        return "sqlite", None
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        entry = config.get(key) or {}
        if "postgres" in str(entry.get("module", "")):
            return "postgres", entry.get("config")
    return "sqlite", None


def _setting(value: Any) -> tuple[str | None, str | None]:
    """(value, None), or (None, NAME) for an `{env: NAME}` that is unset."""
    if isinstance(value, dict) and "env" in value:
        name = str(value["env"])
        return other_variables(name).get(name), name
    return (str(value) if value is not None else None), None


def _instance_postgres_check(settings: dict[str, Any], launched_by_cli: bool) -> Check:
    import psycopg
    from psycopg.conninfo import make_conninfo

    from spotify_assets.lib.store.database import server_version
    from spotify_assets.lib.store.server import describe_url

    env_names: list[str] = []
    if "postgres_url" in settings:
        url, env = _setting(settings["postgres_url"])
        env_names += [env] if env else []
    else:
        parts = {}
        keys = {"username": "user", "password": "password", "hostname": "host"}
        keys |= {"db_name": "dbname", "port": "port"}
        for key, libpq in keys.items():
            value, env = _setting((settings.get("postgres_db") or {}).get(key))
            env_names += [env] if env else []
            if value:
                parts[libpq] = value
        url = make_conninfo(**parts) if parts.get("host") else None
    via = f" via {', '.join(env_names)}" if env_names else ""
    if not url:
        if launched_by_cli:
            return Check(
                "dagster storage",
                True,
                f"postgres{via}: `spotify-assets dev` / `demo` set it to a `dagster` database "
                "on the app's server",
            )
        missing = ", ".join(env_names) or "postgres_url"
        return Check(
            "dagster storage",
            False,
            f"postgres{via}, but {missing} is not set",
            f"set {missing}=postgresql://USER:PASSWORD@HOST:5432/dagster (a database for "
            "Dagster's runs, event logs and schedules)",
        )
    url = _libpq_url(url)
    where = "an unparsable URL"
    try:
        where = describe_url(url)
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            version = server_version(conn)
    except Exception as exc:
        return Check(
            "dagster storage",
            False,
            f"postgres{via}: {where} unreachable: {_first_line(exc)}",
            "start that server or fix the URL; the database must exist (docker/initdb creates "
            "`dagster`)",
        )
    return Check("dagster storage", True, f"postgres{via}: {where}, PostgreSQL {version}")


# ---- compute ---------------------------------------------------------------------------------


def _backend() -> str:
    return settings().compute_backend or "local"


def _modal_tokens() -> str | None:
    """Where Modal's credentials come from, or None."""
    if settings().modal_token_id and settings().modal_token_secret:
        return "MODAL_TOKEN_ID / MODAL_TOKEN_SECRET"
    config = settings().modal_config_path
    return str(config) if config.exists() else None


def _compute_checks() -> list[Check]:
    backend = _backend()
    if backend not in ("local", "modal"):
        return [
            Check(
                "compute",
                False,
                f"SPOTIFY_ASSETS_COMPUTE_BACKEND={backend!r} is not a backend",
                "set SPOTIFY_ASSETS_COMPUTE_BACKEND to local or modal",
                required=True,
            )
        ]
    checks = [_local_compute_check(active=backend == "local")]
    modal = _version("modal")
    tokens = _modal_tokens()
    missing = [] if modal else ["the modal package"]
    missing += [] if tokens else ["MODAL_TOKEN_ID / MODAL_TOKEN_SECRET"]
    detail = (
        f"modal {modal}, credentials from {tokens}; app spotify-assets (deployment not checked)"
        if not missing
        else f"not available: {' and '.join(missing)} missing"
    )
    active = " [active]" if backend == "modal" else ""
    checks.append(
        Check(
            f"compute: modal{active}",
            not missing,
            detail,
            "pip install -e '.[modal]', set MODAL_TOKEN_ID / MODAL_TOKEN_SECRET, run "
            "scripts/modal_deploy.sh, then SPOTIFY_ASSETS_COMPUTE_BACKEND=modal",
        )
    )
    return checks


def _local_compute_check(active: bool) -> Check:
    from spotify_assets.lib.models.embedder import cpu_supports_bf16

    name = "compute: local" + (" [active]" if active else "")
    try:
        import torch
    except ImportError as exc:
        return Check(name, False, f"torch: {exc}", "scripts/setup.sh (torch==2.13.0 CPU first)")
    device, precision = settings().device, settings().precision
    if torch.cuda.is_available():
        hardware = f"cuda ({torch.cuda.get_device_name(0)})"
        bf16 = torch.cuda.is_bf16_supported()
    else:
        hardware, bf16 = "cpu", cpu_supports_bf16()
    detail = (
        f"torch {torch.__version__}, {hardware}; device={device}, precision={precision}, "
        f"bf16 {'supported' if bf16 else 'not supported (fp32)'}"
    )
    return Check(name, True, detail)


# ---- models ----------------------------------------------------------------------------------


def _models_folder_checks() -> list[Check]:
    folder = settings().models_dir
    hf_home = settings().hf_home
    offline = "offline" if settings().hf_offline else "online"
    cache = f"Hugging Face cache {hf_home} ({offline}; nothing is downloaded at run time)"
    if not folder:
        return [Check("models folder", True, f"SPOTIFY_ASSETS_MODELS unset; {cache}")]
    path = Path(folder).expanduser()
    if not path.is_dir():
        return [
            Check(
                "models folder",
                False,
                f"SPOTIFY_ASSETS_MODELS={path} does not exist; {cache}",
                "create it and put model folders named <org>__<name> in it, or unset it",
            )
        ]
    entries = sorted(p.name for p in path.iterdir() if p.is_dir() and "__" in p.name)
    listed = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "") or "no model folders"
    return [Check("models folder", True, f"SPOTIFY_ASSETS_MODELS={path} ({listed}); {cache}")]


def _bundle_checks() -> list[Check]:
    from spotify_assets.lib.bundles import BundleError, load_bundles

    try:
        catalog = load_bundles()
    except BundleError as exc:
        return [
            Check(
                "bundles",
                False,
                str(exc),
                "fix the file named by SPOTIFY_ASSETS_BUNDLES (same layout as bundles.yaml)",
                required=True,
            )
        ]
    modal = _backend() == "modal"
    checks = []
    for bundle in catalog.bundles.values():
        default = bundle.name == catalog.default
        label = f"bundle {bundle.name}" + (" (default)" if default else "")
        spec = bundle.embedding
        # on Modal the remote functions load models by name; locally they must be on disk
        checks.append(
            _model_check(f"{label}: embedding", spec.model, spec.source, default and not modal)
        )
        emotion = bundle.emotion
        if emotion.backend == "classifier":
            model = emotion.model or emotion.source
            checks.append(_model_check(f"{label}: emotions", model, emotion.source))
        else:
            how = "zero-shot with the embedding model" if emotion.backend == "zero_shot" else "none"
            checks.append(Check(f"{label}: emotions", True, how))
        if bundle.reranker is not None:
            reranker = bundle.reranker
            checks.append(_model_check(f"{label}: reranker", reranker.model, reranker.source))
    return checks


def _model_check(name: str, model: str, source: str, required: bool = False) -> Check:
    from spotify_assets.lib.models.resolve import ModelNotAvailable, resolve_model_dir

    try:
        path = resolve_model_dir(model, source)
    except ModelNotAvailable as exc:
        return Check(name, False, f"{model}: not found", str(exc), required=required)
    return Check(name, True, f"{model} at {path}", required=required)


# ---- artifacts and credentials ---------------------------------------------------------------


def _artifact_checks() -> list[Check]:
    from spotify_assets.lib.artifacts import ArtifactError, parse_location

    value = settings().artifacts
    try:
        kind, where, prefix = parse_location(value)
    except ArtifactError as exc:
        return [Check("artifacts", False, str(exc), "set SPOTIFY_ASSETS_ARTIFACTS correctly")]
    if kind == "local":
        origin = "SPOTIFY_ASSETS_ARTIFACTS" if value else "default"
        return [Check("artifacts", True, f"local folder {where} ({origin})")]
    keys = len(other_variables("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")) == 2
    other = list(
        other_variables(
            "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI"
        )
    )
    credentials = (
        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set"
        if keys
        else f"credentials from {', '.join(other)}"
        if other
        else "no AWS credentials in the environment"
    )
    region = settings().aws_region or "unset"
    endpoint = settings().aws_endpoint_url or "AWS"
    location = f"s3://{where}/{prefix}" if prefix else f"s3://{where}"
    return [
        Check(
            "artifacts",
            keys or bool(other),
            f"{location}; {credentials}; region {region}; endpoint {endpoint} (bucket not contacted)",
            "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run with an "
            "instance role), AWS_REGION, and AWS_ENDPOINT_URL for an S3-compatible server",
        )
    ]


def _spotify_checks() -> list[Check]:
    s = settings()
    values = (s.spotify_client_id, s.spotify_client_secret, s.spotify_refresh_token)
    missing = [name for name, value in zip(SPOTIFY_ENV, values, strict=True) if not value]
    detail = (
        "SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_REFRESH_TOKEN set"
        if not missing
        else f"not configured: {', '.join(missing)} unset (needed only for the spotify sources)"
    )
    return [
        Check(
            "spotify credentials",
            not missing,
            detail,
            "create an app at developer.spotify.com, get a refresh token with the "
            "playlist-read-private and user-library-read scopes, and set " + ", ".join(missing),
        )
    ]
