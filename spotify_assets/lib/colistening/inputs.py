"""What a person's co-listening is learned from, read from the store: their playlists in
order, their liked songs in the order they were liked, and their listening sessions."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import psycopg

from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.store.listening import PlayRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository

SESSION_GAP_MINUTES = 30


@dataclass
class ColisteningInputs:
    playlists: dict[str, list[str]] = field(default_factory=dict)  # playlist id → track ids
    liked: list[str] = field(default_factory=list)
    sessions: list[list[str]] = field(default_factory=list)  # track ids in play order

    @property
    def empty(self) -> bool:
        return not (self.playlists or self.liked or self.sessions)

    def without(self, held: dict[str, set[str]]) -> ColisteningInputs:
        """The same inputs with some playlist memberships taken out (an evaluation's held-out
        songs must never teach the vectors where they belong)."""
        playlists = {
            pid: [t for t in songs if t not in held.get(pid, set())]
            for pid, songs in self.playlists.items()
        }
        return ColisteningInputs(playlists, self.liked, self.sessions)


def load_colistening_inputs(
    conn: psycopg.Connection, person: str, until: pd.Timestamp | None = None
) -> ColisteningInputs:
    """The person's playlists, liked songs and sessions (skips under 30 s left out: a skip says
    the song did not belong there), as track ids. `until`: only plays before it (a model
    judged on later weeks must not have learned from them)."""
    playlists, memberships = PlaylistRepository(conn).frames(person)
    ordered = memberships.sort_values(["playlist_id", "position"])
    by_playlist = {
        pid: group["track_id"].tolist() for pid, group in ordered.groupby("playlist_id")
    }
    liked = CandidateRepository(conn).track_ids(person, "liked")
    plays = PlayRepository(conn).load(person)
    sessions: list[list[str]] = []
    if len(plays):
        plays = plays[plays["catalog_track_id"].notna()]
        if until is not None:
            plays = plays[plays["played_at"] < until]
        sessionized = sessionize(plays, SESSION_GAP_MINUTES, include_skips=False)
        for _, group in sessionized.groupby("session_id", sort=False):
            sessions.append(group["catalog_track_id"].tolist())
    return ColisteningInputs(
        {pid: by_playlist.get(pid, []) for pid in playlists["playlist_id"]}, liked, sessions
    )
