"""Store playlists and candidate lists, with the library tracks they name, in one transaction.

A member or candidate the catalog lacks is kept when the source names it (an export, liked
songs): its library track (lib/catalog/library.py) is written first. Only ids with nothing to
name them by (a CSV of unknown ids) are dropped, and counted."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.library import KNOWN_COLUMNS, resolve_library
from spotify_assets.lib.playlists.sources import PlaylistData, PlaylistSourceError
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TrackRepository

# Sources whose playlist ids are not the person's alone (the sample's fixed ids, a Spotify
# playlist two people follow): stored under an id scoped to the person, the source's id kept.
SHARED_ID_SOURCES = ("sample", "spotify")


def personal_playlist_id(source: str, person: str, source_id: str) -> str:
    """`<source>:<16 hex>` of the person and the source's id, so two people who load the same
    playlist get two. Migration 0013 re-keyed stored playlists with this same formula."""
    digest = hashlib.md5(f"{person}/{source_id}".encode(), usedforsecurity=False).hexdigest()
    return f"{source}:{digest[:16]}"


def _scoped(data: PlaylistData, person: str, source: str) -> PlaylistData:
    """`data` with person-scoped playlist ids (SHARED_ID_SOURCES) and `source_id` set."""
    if source not in SHARED_ID_SOURCES:
        return data
    ids = {raw: personal_playlist_id(source, person, raw) for raw in data.playlists["playlist_id"]}
    playlists = data.playlists.assign(
        source_id=data.playlists["playlist_id"], playlist_id=data.playlists["playlist_id"].map(ids)
    )
    memberships = data.memberships.assign(
        playlist_id=data.memberships["playlist_id"].map(ids)
    ).dropna(subset=["playlist_id"])
    return dataclasses.replace(data, playlists=playlists, memberships=memberships)


@dataclass
class PlaylistLoadReport:
    source: str
    playlists: int
    playlists_written: int
    playlists_removed: int  # the person's playlists of this source the load no longer has
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
    db: Database, data: PlaylistData, person: str, source: str
) -> PlaylistLoadReport:
    """One transaction: the playlists and exactly their (catalog-known) memberships. A
    playlist stored for someone else (or a catalog's) is never taken over: refused."""
    data = _scoped(data, person, source)
    with db.connect() as conn, conn.transaction():
        PersonRepository(conn).ensure(person)
        taken = {
            pid: whose
            for pid, whose in PlaylistRepository(conn)
            .owners(data.playlists["playlist_id"].tolist())
            .items()
            if whose != person
        }
        if taken:
            pid, whose = next(iter(taken.items()))
            raise PlaylistSourceError(
                f"{len(taken)} playlist id(s) of this {source} load belong to "
                f"{'the catalog' if whose is None else 'another person'} (e.g. {pid}); nothing "
                "was stored"
            )
        added = _add_library_tracks(conn, data.new_tracks, data.merges)
        repo = PlaylistRepository(conn)
        known = repo.known_tracks(data.memberships["track_id"].tolist())
        members = data.memberships[data.memberships["track_id"].isin(known)]
        members = members.drop_duplicates(["playlist_id", "track_id"])
        playlists = data.playlists.assign(person=person)
        counts, written, removed, gone = repo.replace(playlists, members)
    return PlaylistLoadReport(
        source=source,
        playlists=len(data.playlists),
        playlists_written=counts.written,
        playlists_removed=gone,
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
    db: Database, person: str, list_name: str, songs: Sequence[str] | pd.DataFrame
) -> CandidateLoadReport:
    """The list becomes its songs' track ids, in order. `songs`: track ids, or items (artist,
    title, album, track_id) whose songs the catalog lacks become library tracks."""
    items = songs if isinstance(songs, pd.DataFrame) else pd.DataFrame(
        {"track_id": list(songs)}, dtype=object
    )  # fmt: skip
    with db.connect() as conn, conn.transaction():
        PersonRepository(conn).ensure(person)
        tracks = TrackRepository(conn)
        resolved = resolve_library(items, tracks.frame(KNOWN_COLUMNS), f"candidates:{list_name}")
        added = _add_library_tracks(conn, resolved.new_tracks, resolved.merges)
        wanted = [t for t in resolved.track_ids if t]
        known = PlaylistRepository(conn).known_tracks(wanted)
        ids = [t for t in dict.fromkeys(wanted) if t in known]
        CandidateRepository(conn).replace(person, list_name, ids)
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
