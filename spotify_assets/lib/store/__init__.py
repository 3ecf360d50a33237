"""Postgres + pgvector storage: server resolution, migrations and one repository per table."""

from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.server import resolve_database_url

__all__ = ["Database", "resolve_database_url"]
