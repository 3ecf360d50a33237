"""Store playlists and candidate lists, with the library tracks they name, in one transaction.

A member or candidate the catalog lacks is kept when the source names it (an export, liked
songs): its library track (lib/catalog/library.py) is written first. Only ids with nothing to
name them by (a CSV of unknown ids) are dropped, and counted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.library import KNOWN_COLUMNS, resolve_library
from spotify_assets.lib.playlists.sources import PlaylistData
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TrackRepository


@dataclass
class PlaylistLoadReport:
    source: str
    playlists: int
    playlists_written: int
    memberships: int
    memberships_written: int
    memberships_removed: int
    tracks_not_in_catalog: int  # members dropped: no stored track and nothing to name one
    library_tracks_added: int
    items: int
    items_unmatched: int
    match_rate: float

    def as_dict(self) -> dict:
        return asdict(self)


def store_playlists(
    db: Database, data: PlaylistData, owner: str, source: str
) -> PlaylistLoadReport:
    """One transaction: the playlists and exactly their (catalog-known) memberships."""
    with db.connect() as conn, conn.transaction():
        added = _add_library_tracks(conn, data.new_tracks, data.merges)
        repo = PlaylistRepository(conn)
        known = repo.known_tracks(data.memberships["track_id"].tolist())
        members = data.memberships[data.memberships["track_id"].isin(known)]
        members = members.drop_duplicates(["playlist_id", "track_id"])
        playlists = data.playlists.assign(owner=owner)
        counts, written, removed = repo.replace(playlists, members)
    return PlaylistLoadReport(
        source=source,
        playlists=len(data.playlists),
        playlists_written=counts.written,
        memberships=len(members),
        memberships_written=written,
        memberships_removed=removed,
        tracks_not_in_catalog=len(data.memberships) - len(members),
        library_tracks_added=added,
        items=data.items,
        items_unmatched=data.unmatched,
        match_rate=round(data.match_rate, 4),
    )


@dataclass
class CandidateLoadReport:
    stored: int  # songs on the list now (two spellings of one song are one)
    not_in_catalog: int  # dropped: no stored track and nothing to name one by
    in_catalog: int  # matched to a catalog file's track
    library_tracks_added: int


def store_candidates(
    db: Database, owner: str, list_name: str, songs: Sequence[str] | pd.DataFrame
) -> CandidateLoadReport:
    """The list becomes its songs' track ids, in order. `songs`: track ids, or items (artist,
    title, album, track_id) whose songs the catalog lacks become library tracks."""
    items = songs if isinstance(songs, pd.DataFrame) else pd.DataFrame(
        {"track_id": list(songs)}, dtype=object
    )  # fmt: skip
    with db.connect() as conn, conn.transaction():
        tracks = TrackRepository(conn)
        resolved = resolve_library(items, tracks.frame(KNOWN_COLUMNS), f"candidates:{list_name}")
        added = _add_library_tracks(conn, resolved.new_tracks, resolved.merges)
        wanted = [t for t in resolved.track_ids if t]
        known = PlaylistRepository(conn).known_tracks(wanted)
        ids = [t for t in dict.fromkeys(wanted) if t in known]
        CandidateRepository(conn).replace(owner, list_name, ids)
    unresolved = items[resolved.track_ids.isna().to_numpy()].drop_duplicates()
    return CandidateLoadReport(
        stored=len(ids),
        not_in_catalog=len(unresolved),
        in_catalog=resolved.in_catalog,
        library_tracks_added=added,
    )


def _add_library_tracks(
    conn: psycopg.Connection, new_tracks: pd.DataFrame | None, merges: dict[str, str] | None = None
) -> int:
    """Store the new library tracks, then move `lib:` tracks whose Spotify id appeared."""
    repo, added = TrackRepository(conn), 0
    if new_tracks is not None and not new_tracks.empty:
        added = repo.add_missing(new_tracks).inserted
    repo.merge_library_ids(merges or {})
    return added
