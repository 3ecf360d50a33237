"""Keep `track_embeddings` for one bundle in step with `track_analyses` (DB-first).

A track is embedded only when no vector exists for (track, bundle, content hash). Each batch
commits on its own, so a killed run keeps its finished batches and the rerun skips them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.models.embedder import check_vectors
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository

log = logging.getLogger(__name__)


class Embedder(Protocol):
    precision: str

    def embed(self, texts: list[str], kind: str = "document") -> np.ndarray: ...


@dataclass
class EmbeddingReport:
    bundle_hash: str
    tracks: int
    embedded: int
    reused: int
    dims: int
    seconds: float
    texts_per_second: float
    precision: str
    gone: int = 0  # embedded, but their tracks were deleted meanwhile (another import moved them)

    def as_dict(self) -> dict:
        return asdict(self)


def update_track_embeddings(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    batch_size: int = 512,
    progress: Callable[[str], None] = log.info,
    only: Collection[str] | None = None,
) -> EmbeddingReport:
    """`only`: restrict to these track ids (matching embeds just the songs it sorts)."""
    with db.connect() as conn:
        texts = AnalysisRepository(conn).texts()
    if only is not None:
        texts = texts[texts["track_id"].isin(set(only))].reset_index(drop=True)
    with db.connect() as conn:
        stored = EmbeddingRepository(conn).content_hashes(bundle.hash)
    todo = texts[texts["track_id"].map(stored) != texts["content_hash"]].reset_index(drop=True)
    progress(
        f"track_embeddings[{bundle.name} {bundle.hash}]: {len(texts)} tracks, "
        f"{len(todo)} to embed, {len(texts) - len(todo)} reused"
    )
    started = time.perf_counter()
    embedded = gone = 0
    for start in range(0, len(todo), batch_size):
        batch = todo.iloc[start : start + batch_size]
        vectors = embedder.embed(batch["description"].tolist(), "document")
        check_vectors(vectors, len(batch), bundle.embedding.dims, bundle.embedding.model)
        with db.connect() as conn, conn.transaction():
            repo = EmbeddingRepository(conn)
            repo.register_bundle(bundle)  # in the batch's transaction: nothing before a good batch
            gone += repo.upsert(bundle, batch, vectors).gone
        embedded += len(batch)
        elapsed = time.perf_counter() - started
        rate = embedded / elapsed if elapsed else 0.0
        eta = (len(todo) - embedded) / rate if rate else 0.0
        progress(f"track_embeddings: {embedded}/{len(todo)} ({rate:.0f} texts/s, ETA {eta:.0f}s)")
    if not embedded:
        with db.connect() as conn:
            EmbeddingRepository(conn).register_bundle(bundle)
    seconds = time.perf_counter() - started
    return EmbeddingReport(
        bundle_hash=bundle.hash,
        tracks=len(texts),
        embedded=embedded,
        reused=len(texts) - len(todo),
        dims=bundle.embedding.dims,
        seconds=seconds,
        texts_per_second=embedded / seconds if embedded and seconds else 0.0,
        precision=getattr(embedder, "precision", "unknown"),
        gone=gone,
    )
