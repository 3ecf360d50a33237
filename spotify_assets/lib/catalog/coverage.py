"""How much of a person's library the pipeline can use: a track row, a vector, audio features.

Counted per item (a playlist entry, a liked song, a play), so the figures say what share of
what the person has is searchable, matchable and modelled. "In a catalog file" is what the
product had before library tracks: the share a public catalog knows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from spotify_assets.lib.cache import VersionedCache
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.taste import TasteRepository
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


# (database url, person, bundle) → the person's coverage: the web app's person page showed it
# recomputed over every play on each view; it changes only with the person's library, the
# catalog or the vectors (library_changes, catalog_changes, vector_changes)
_coverage: VersionedCache[list[CoverageRow]] = VersionedCache(size=256)


def library_coverage(db: Database, person: str, bundle_hash: str) -> list[CoverageRow]:
    """Coverage of `person`'s playlist members, liked songs and plays (each play counts);
    cached per process while nothing it counts changes."""
    with db.connect() as conn:
        version = (TasteRepository(conn).library_version(),
                   TrackRepository(conn).catalog_version(),
                   EmbeddingRepository(conn).vectors_version())  # fmt: skip

    def count() -> list[CoverageRow]:
        with db.connect() as conn:
            tracks = TrackRepository(conn)
            liked = CandidateRepository(conn).track_ids(person, "liked")
            return [
                CoverageRow("playlist items", *tracks.member_coverage(person, bundle_hash)),
                CoverageRow("liked songs", *tracks.coverage(liked, bundle_hash)),
                CoverageRow("plays", *tracks.play_coverage(person, bundle_hash)),
            ]  # fmt: skip

    return list(_coverage.get((db.url, person, bundle_hash), version, count))
