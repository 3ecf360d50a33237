"""`sort_decisions`: a person's accept / reject / "none of these" on suggested playlists.

One row per (person, song, playlist); deciding again replaces the decision (an upsert), so a
double click or a resubmitted form changes nothing. "None of these" is one row with playlist
'' and clears the song's accepts and rejects; an accept or reject clears its "none".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import psycopg

from spotify_assets.lib.people import check_person

DECISIONS = ("accept", "reject", "none")
NONE_OF_THESE = ""  # playlist_id of a "none of these" row


@dataclass(frozen=True)
class Decision:
    track_id: str
    playlist_id: str  # NONE_OF_THESE for "none"
    decision: str
    score: float | None
    decided_at: datetime
    applied_at: datetime | None
    track_name: str | None = None
    artists: list[str] | None = None
    playlist_name: str | None = None


class DecisionError(ValueError):
    """A decision that cannot be stored (unknown kind, a playlist not the person's)."""


class DecisionRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def decide(
        self, person: str, track_id: str, playlist_id: str, decision: str,
        score: float | None = None,
    ) -> None:  # fmt: skip
        """Store (or replace) one decision in the caller's transaction."""
        check_person(person)
        if decision not in DECISIONS:
            raise DecisionError(f"unknown decision {decision!r}: one of {', '.join(DECISIONS)}")
        if decision == "none":
            playlist_id = NONE_OF_THESE
            self.conn.execute(
                "DELETE FROM sort_decisions WHERE person = %s AND track_id = %s",
                (person, track_id),
            )
        else:
            owner = self.conn.execute(
                "SELECT person FROM playlists WHERE playlist_id = %s", (playlist_id,)
            ).fetchone()
            if owner is None or owner[0] != person:
                raise DecisionError(f"playlist {playlist_id!r} is not one of {person}'s playlists")
            self.conn.execute(
                "DELETE FROM sort_decisions WHERE person = %s AND track_id = %s "
                "AND playlist_id = %s",
                (person, track_id, NONE_OF_THESE),
            )
        self.conn.execute(
            """INSERT INTO sort_decisions (person, track_id, playlist_id, decision, score)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (person, track_id, playlist_id) DO UPDATE
               SET decision = EXCLUDED.decision, score = EXCLUDED.score, decided_at = now(),
                   applied_at = CASE WHEN EXCLUDED.decision = 'accept'
                                     THEN sort_decisions.applied_at END""",
            (person, track_id, playlist_id, decision, score),
        )

    def of(self, person: str) -> list[Decision]:
        rows = self.conn.execute(
            """SELECT d.track_id, d.playlist_id, d.decision, d.score, d.decided_at,
                      d.applied_at, t.name, t.artists, p.name
               FROM sort_decisions d JOIN tracks t USING (track_id)
               LEFT JOIN playlists p ON p.playlist_id = d.playlist_id
               WHERE d.person = %s ORDER BY d.decided_at, d.track_id, d.playlist_id""",
            (person,),
        ).fetchall()
        return [Decision(*row) for row in rows]

    def pairs(self, person: str, decision: str) -> list[tuple[str, str]]:
        """(track id, playlist id) of the person's decisions of one kind."""
        rows = self.conn.execute(
            "SELECT track_id, playlist_id FROM sort_decisions WHERE person = %s AND decision = %s "
            "ORDER BY track_id, playlist_id",
            (person, decision),
        )
        return [(t, p) for t, p in rows]

    def unapplied(self, person: str) -> list[tuple[str, str]]:
        """Accepted (track id, playlist id) not yet added to the playlist on Spotify."""
        rows = self.conn.execute(
            """SELECT track_id, playlist_id FROM sort_decisions
               WHERE person = %s AND decision = 'accept' AND applied_at IS NULL
               ORDER BY playlist_id, decided_at, track_id""",
            (person,),
        )
        return [(t, p) for t, p in rows]

    def mark_applied(self, person: str, pairs: list[tuple[str, str]]) -> int:
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE sort_decisions SET applied_at = now() WHERE person = %s "
                "AND track_id = %s AND playlist_id = %s AND decision = 'accept'",
                [(person, t, p) for t, p in pairs],
            )
        return len(pairs)

    def digest(self, person: str) -> list[tuple[str, str, str]]:
        """Every (track, playlist, decision) of the person: what a match context hashes, so a
        new decision recomputes the next suggestions."""
        rows = self.conn.execute(
            "SELECT track_id, playlist_id, decision FROM sort_decisions WHERE person = %s "
            "ORDER BY track_id, playlist_id",
            (person,),
        )
        return [tuple(r) for r in rows]


def decisions_csv(decisions: list[Decision]) -> str:
    """The person's decisions as CSV (their own data, to keep or to take elsewhere)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["track_id", "track", "artists", "playlist_id", "playlist", "decision",
                     "score", "decided_at", "applied_at"])  # fmt: skip
    for d in decisions:
        writer.writerow([
            d.track_id, d.track_name or "", ", ".join(d.artists or []), d.playlist_id,
            d.playlist_name or "", d.decision, "" if d.score is None else f"{d.score:.4f}",
            d.decided_at.isoformat(), d.applied_at.isoformat() if d.applied_at else "",
        ])  # fmt: skip
    return out.getvalue()
