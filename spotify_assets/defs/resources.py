"""Resources shared by every stage."""

import os

import dagster as dg
from pydantic import PrivateAttr

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


def database_resource() -> DatabaseResource:
    """`DATABASE_URL` from the environment when set (shown as an env var in the UI)."""
    if os.environ.get("DATABASE_URL"):
        return DatabaseResource(url=dg.EnvVar("DATABASE_URL"))
    return DatabaseResource()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"database": database_resource()})
