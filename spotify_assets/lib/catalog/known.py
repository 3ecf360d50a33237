"""The stored tracks a batch of library items may be, read by the items' own ids and name
keys (indexed columns of `tracks`) instead of reading and keying the whole table: an import
then costs what it brings, however many tracks other people and catalogs have stored."""

from __future__ import annotations

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.library import item_keys
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.tracks import TrackRepository


def known_tracks(conn: psycopg.Connection, items: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """(`known`, `aliases`) for `resolve_library(items, known, ..., aliases)`: the stored
    tracks with an id or key of the items, and the aliases of their `lib:` ids."""
    wanted = item_keys(items)
    repo = TrackRepository(conn)
    aliases = repo.aliases(wanted.library_ids)
    known = repo.known_for(
        [*wanted.track_ids, *aliases.values()], wanted.identity, wanted.recording, wanted.song
    )
    return known, aliases


def known_in(db: Database, items: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """`known_tracks` on a connection of its own (names keyed since are committed with it)."""
    with db.connect() as conn:
        return known_tracks(conn, items)
