"""Keep `track_emotions` for one bundle in step with its embeddings (DB-first, like them).

Zero-shot emotions read the stored track vectors (no model call per track: only the 28
label prompts are embedded); a classifier reads the description texts. A track is
(re)computed only when its stored emotions came from another content hash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.models.emotions import BUCKETS, to_buckets, top_labels
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.embeddings import EmbeddingRepository, to_array
from spotify_assets.lib.store.matching import EmotionRepository

log = logging.getLogger(__name__)


@dataclass
class EmotionReport:
    backend: str
    tracks: int
    computed: int
    reused: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def emotion_rows(
    bundle_hash: str, backend: str, todo: pd.DataFrame, scores: np.ndarray
) -> pd.DataFrame:
    buckets = to_buckets(scores)
    return pd.DataFrame(
        {
            "bundle_hash": bundle_hash,
            "track_id": todo["track_id"].to_numpy(),
            "content_hash": todo["content_hash"].to_numpy(),
            "backend": backend,
            "scores": [row.astype(float).round(6).tolist() for row in scores],
            "buckets": [row.astype(float).round(6).tolist() for row in buckets],
            "top_labels": top_labels(scores, 3),
            "top_bucket": [BUCKETS[i] for i in buckets.argmax(axis=1)],
        }
    )


def update_track_emotions(
    db: Database,
    bundle: ModelBundle,
    model,
    batch_size: int = 2048,
    progress: Callable[[str], None] = log.info,
) -> EmotionReport:
    """`model`: a ZeroShotEmotions (has from_vectors) or anything with classify(texts)."""
    backend = bundle.emotion.backend
    with db.connect() as conn:
        rows = EmbeddingRepository(conn).described(bundle.hash)
        stored = EmotionRepository(conn).content_hashes(bundle.hash)
    tracks = pd.DataFrame(rows, columns=["track_id", "content_hash", "description"])
    todo = tracks[tracks["track_id"].map(stored) != tracks["content_hash"]].reset_index(drop=True)
    progress(
        f"track_emotions[{bundle.name}]: {len(tracks)} tracks, {len(todo)} to compute ({backend})"
    )
    started = time.perf_counter()
    done = 0
    for start in range(0, len(todo), batch_size):
        batch = todo.iloc[start : start + batch_size]
        if hasattr(model, "from_vectors"):
            with db.connect() as conn:
                vectors = EmbeddingRepository(conn).vectors(bundle.hash, batch["track_id"].tolist())
            matrix = np.stack([to_array(vectors[t]) for t in batch["track_id"]])
            scores = model.from_vectors(matrix)
        else:
            scores = model.classify(batch["description"].tolist())
        frame = emotion_rows(bundle.hash, backend, batch, np.asarray(scores, dtype=np.float64))
        with db.connect() as conn, conn.transaction():
            EmotionRepository(conn).upsert(frame)
        done += len(batch)
        rate = done / max(time.perf_counter() - started, 1e-9)
        progress(f"track_emotions: {done}/{len(todo)} ({rate:.0f} tracks/s)")
    return EmotionReport(backend, len(tracks), done, len(tracks) - len(todo),
                         round(time.perf_counter() - started, 2))  # fmt: skip
