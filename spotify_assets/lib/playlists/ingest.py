"""Store playlists and candidate lists, keeping only tracks the catalog knows (counted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from spotify_assets.lib.playlists.sources import PlaylistData
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository


@dataclass
class PlaylistLoadReport:
    source: str
    playlists: int
    playlists_written: int
    memberships: int
    memberships_written: int
    memberships_removed: int
    tracks_not_in_catalog: int
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
        items=data.items,
        items_unmatched=data.unmatched,
        match_rate=round(data.match_rate, 4),
    )


def store_candidates(
    db: Database, owner: str, list_name: str, track_ids: Sequence[str]
) -> tuple[int, int]:
    """The list becomes the catalog-known ids; returns (stored, not in the catalog)."""
    with db.connect() as conn, conn.transaction():
        known = PlaylistRepository(conn).known_tracks(list(track_ids))
        ids = [t for t in dict.fromkeys(track_ids) if t in known]
        CandidateRepository(conn).replace(owner, list_name, ids)
    return len(ids), len(set(track_ids)) - len(ids)
