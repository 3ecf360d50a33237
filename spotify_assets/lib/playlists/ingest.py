"""Store playlists and candidate lists, with the library tracks they name, in one transaction.

A member or candidate the catalog lacks is kept when the source names it (an export, liked
songs): its library track (lib/catalog/library.py) is written first. Only ids with nothing to
name them by (a CSV of unknown ids) are dropped, and counted."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.known import known_tracks
from spotify_assets.lib.catalog.library import resolve_library
from spotify_assets.lib.export.accounting import FileAccount
from spotify_assets.lib.export.files import Rejected
from spotify_assets.lib.playlists.sources import PlaylistData, PlaylistSourceError
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.imports import ImportFileRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.quarantine import QuarantineRepository
from spotify_assets.lib.store.tracks import TrackRepository

PLAYLISTS_STAGE, LIKED_STAGE = "export_playlists", "liked_songs"  # quarantine stages
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
    accounts: list[dict] = field(default_factory=list)  # per file of an export

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
        if data.accounts:  # an export: where every item of each file went
            QuarantineRepository(conn).add_rejected(PLAYLISTS_STAGE, data.rejected, person)
            ImportFileRepository(conn).record(person, data.accounts)
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
        accounts=[a.as_dict() for a in data.accounts],
    )


@dataclass
class CandidateLoadReport:
    stored: int  # songs on the list now (two spellings of one song are one)
    not_in_catalog: int  # dropped: no stored track and nothing to name one by
    in_catalog: int  # matched to a catalog file's track
    library_tracks_added: int
    accounts: list[dict] = field(default_factory=list)  # per file of an export


def store_candidates(
    db: Database,
    person: str,
    list_name: str,
    songs: Sequence[str] | pd.DataFrame,
    accounts: Sequence[FileAccount] = (),
    rejected: Sequence[Rejected] = (),
) -> CandidateLoadReport:
    """The list becomes its songs' track ids, in order. `songs`: track ids, or items (artist,
    title, album, track_id) whose songs the catalog lacks become library tracks. With the
    `accounts` of an export's file (its items carry a `file` column), each file's entries are
    accounted for and stored with its rejected rows, in the same transaction."""
    items = songs if isinstance(songs, pd.DataFrame) else pd.DataFrame(
        {"track_id": list(songs)}, dtype=object
    )  # fmt: skip
    items = items.reset_index(drop=True)
    accounts = [dataclasses.replace(a) for a in accounts]
    rejected = list(rejected)
    with db.connect() as conn, conn.transaction():
        PersonRepository(conn).ensure(person)
        known, aliases = known_tracks(conn, items)
        resolved = resolve_library(items, known, f"candidates:{list_name}", aliases)
        added = _add_library_tracks(conn, resolved.new_tracks, resolved.merges)
        ids_per_item = resolved.track_ids.reset_index(drop=True)
        known = PlaylistRepository(conn).known_tracks([t for t in ids_per_item if t])
        ids_per_item = ids_per_item.where(ids_per_item.isin(known), None)
        ids = list(dict.fromkeys(t for t in ids_per_item if t))
        CandidateRepository(conn).replace(person, list_name, ids)
        if accounts:
            _account_candidates(items, ids_per_item, accounts, rejected)
            QuarantineRepository(conn).add_rejected(LIKED_STAGE, rejected, person)
            ImportFileRepository(conn).record(person, accounts)
    unresolved = items[ids_per_item.isna().to_numpy()].drop_duplicates()
    return CandidateLoadReport(
        stored=len(ids),
        not_in_catalog=len(unresolved),
        in_catalog=resolved.in_catalog,
        library_tracks_added=added,
        accounts=[a.as_dict() for a in accounts],
    )


def _account_candidates(
    items: pd.DataFrame, ids: pd.Series, accounts: list[FileAccount], rejected: list[Rejected]
) -> None:
    """Each file's entries: stored (the first of a track), duplicates (a track again), or
    quarantined (nothing names a track)."""
    by_file = {a.file: a for a in accounts}
    files = items["file"] if "file" in items else pd.Series(accounts[0].file, index=items.index)
    repeated = ids.notna() & ids.duplicated()
    for index in items.index:
        account = by_file[files[index]]
        if ids[index] is None:
            rejected.append(Rejected(account.file, account.sha256, account.quarantined,
                                     f"entry {index}: a track id no stored track has and no name "
                                     "to add it by", {}))  # fmt: skip
            account.quarantined += 1
        elif repeated[index]:
            account.duplicates += 1
        else:
            account.stored += 1


def _add_library_tracks(
    conn: psycopg.Connection, new_tracks: pd.DataFrame | None, merges: dict[str, str] | None = None
) -> int:
    """Store the new library tracks, then move `lib:` tracks whose Spotify id appeared."""
    repo, added = TrackRepository(conn), 0
    if new_tracks is not None and not new_tracks.empty:
        added = repo.add_missing(new_tracks).inserted
    repo.merge_library_ids(merges or {})
    return added
