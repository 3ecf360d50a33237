""""More like this": the tracks nearest one track's own stored vector (the web app's link on
every result), the track itself and its other versions left out."""

from __future__ import annotations

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.search.engine import SearchHit, search_vectors
from spotify_assets.lib.search.service import collapse_versions, version_key
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository, to_array


class NotEmbedded(InputError):
    """The track has no vector under this bundle (unknown, or not embedded yet)."""


def more_like(db: Database, bundle: ModelBundle, track_id: str, limit: int = 10) -> list[SearchHit]:
    with db.connect() as conn:
        stored = EmbeddingRepository(conn).vectors(bundle.hash, [track_id])
        if track_id not in stored:
            raise NotEmbedded(
                f"track {track_id!r} has no vector under bundle {bundle.name}: embed it first "
                "(`spotify-assets demo`, or the track_embeddings asset)"
            )
        hits, _ = search_vectors(
            conn, bundle.hash, bundle.embedding.dims, to_array(stored[track_id]), [], limit + 20
        )
    keys = {version_key(h.details) for h in hits if h.track_id == track_id} - {""}
    others = [h for h in hits if h.track_id != track_id and version_key(h.details) not in keys]
    return collapse_versions(others)[:limit]
