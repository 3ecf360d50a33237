"""Shared fixtures: a real embedded Postgres (pgserver + pgvector) and a fresh database per test.

Set TEST_DATABASE_URL to run against an external server instead; each test still gets its own
database on it.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from spotify_assets.lib.store import Database
from spotify_assets.lib.store.database import apply_migrations
from spotify_assets.lib.store.server import embedded_server, with_database

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
_counter = itertools.count()
SPOTIFY_CREDENTIALS = ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET", "SPOTIFY_REFRESH_TOKEN")


def _file(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with the most slow tests first, each file's tests together in their own order.
    `test.sh` hands out whole files (`--dist loadfile`): a file's fixtures are built once, and
    the long files start first instead of keeping one worker busy for minutes at the end while
    the other idles."""
    slow = collections.Counter(_file(item) for item in items if item.get_closest_marker("slow"))
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(_file(item), index)
    items.sort(key=lambda item: (-slow[_file(item)], first[_file(item)]))


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory) -> Path:
    """Keep tests away from ~/.spotify_assets and from a developer's DATABASE_URL."""
    home = tmp_path_factory.mktemp("spotify_assets_home")
    saved = {k: os.environ.get(k) for k in ("SPOTIFY_ASSETS_HOME", "DATABASE_URL", "DAGSTER_HOME",
             "RECCOBEATS_API_BASE", *SPOTIFY_CREDENTIALS)}  # fmt: skip
    os.environ["SPOTIFY_ASSETS_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("DAGSTER_HOME", None)
    # No test reaches the real Web API: enrichment (in `embed_library`, so in `import`) skips
    # Spotify without credentials and ReccoBeats when it is off; tests point both at fakes.
    for key in SPOTIFY_CREDENTIALS:
        os.environ.pop(key, None)
    os.environ["RECCOBEATS_API_BASE"] = "off"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the test server's maintenance database."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    # a short path keeps the unix socket path under its length limit
    pgdata = Path(tempfile.mkdtemp(prefix="sa-pg-")) / "pgdata"
    server = embedded_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@contextlib.contextmanager
def _fresh_database(
    server_url: str, template: str | None = None, name: str | None = None
) -> Iterator[str]:
    """A new database on the test server (a copy of `template`), dropped afterwards."""
    name = name or f"t_{os.getpid()}_{next(_counter)}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    yield with_database(server_url, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_template(server_url: str) -> Iterator[str]:
    """A database with every migration applied, copied for each test that wants one: a copy
    takes a tenth of a second, applying the migrations about one."""
    name = f"migrated_{os.getpid()}"
    with _fresh_database(server_url, name=name) as url:
        apply_migrations(url)  # its connections are closed: a template must have none
        yield name


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A new database with nothing in it, for tests of the migrations themselves."""
    with _fresh_database(server_url) as url:
        yield url


@pytest.fixture
def database_url(server_url: str, migrated_template: str) -> Iterator[str]:
    """A new database for this test, migrated as the first connection would leave it (dropped
    afterwards)."""
    with _fresh_database(server_url, migrated_template) as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Database:
    return Database(database_url)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent (fresh clone)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from spotify_assets_tests.tiny_models import build_tiny_sentence_model

    return build_tiny_sentence_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture
def instance():
    """A throwaway Dagster instance for materialize(...)."""
    import dagster as dg

    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def dagster_pg_url(server_url: str) -> str:
    """A fresh database for a Dagster instance's storage, as a SQLAlchemy (psycopg2) URL."""
    from spotify_assets.lib.store.server import as_url

    name = f"dagster_{os.getpid()}_{next(_counter)}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield as_url(with_database(server_url, name))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_instance(dagster_pg_url: str):
    """A Dagster instance stored in the embedded Postgres through dagster-postgres, as
    dagster.yaml configures production."""
    import dagster as dg

    overrides = {"storage": {"postgres": {"postgres_url": dagster_pg_url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        yield instance
