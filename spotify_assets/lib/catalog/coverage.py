"""How much of a person's library the pipeline can use: a track row, a vector, audio features.

Counted per item (a playlist entry, a liked song, a play), so the figures say what share of
what the person has is searchable, matchable and modelled. "In a catalog file" is what the
product had before library tracks: the share a public catalog knows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.listening import PlayRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TrackRepository


@dataclass(frozen=True)
class CoverageRow:
    what: str  # "playlist items" | "liked songs" | "plays"
    items: int
    tracked: int  # with a track row
    in_catalog: int  # ... from a catalog file (not only from the library)
    with_vector: int  # ... embedded by the bundle
    with_features: int  # ... with audio features

    def share(self, count: int) -> float:
        return count / self.items if self.items else 0.0

    def line(self) -> str:
        if not self.items:
            return f"{self.what:<15} none"
        return (
            f"{self.what:<15} {self.items:>7,}  in a catalog file {self.share(self.in_catalog):6.1%}"
            f"  with a track {self.share(self.tracked):6.1%}  with a vector "
            f"{self.share(self.with_vector):6.1%}  with audio features "
            f"{self.share(self.with_features):6.1%}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


def library_coverage(db: Database, person: str, bundle_hash: str) -> list[CoverageRow]:
    """Coverage of `person`'s playlist members, liked songs and plays (each play counts)."""
    with db.connect() as conn:
        tracks = TrackRepository(conn)
        _, members = PlaylistRepository(conn).frames(person)
        liked = CandidateRepository(conn).track_ids(person, "liked")
        play_ids = PlayRepository(conn).joined_tracks(person)
        return [
            CoverageRow(what, *tracks.coverage(ids, bundle_hash))
            for what, ids in (
                ("playlist items", members["track_id"].tolist()),
                ("liked songs", liked),
                ("plays", play_ids),
            )
        ]
