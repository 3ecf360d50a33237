"""`model_bundles` and `track_embeddings`, and the per-bundle HNSW index."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.bundles import ModelBundle, validate_bundle_hash
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

COLUMNS = ["track_id", "bundle_hash", "content_hash", "model", "revision", "dims", "embedding"]
# Columns that filtered search narrows on; B-tree indexed by the search_index asset.
FILTER_COLUMNS = (
    "tempo",
    "valence",
    "energy",
    "danceability",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "loudness",
    "popularity",
    "release_year",
    "genre",
)


def vector_literal(vectors: np.ndarray) -> list[str]:
    """pgvector's text form, 7 significant digits (float32 holds ~7)."""
    text = np.char.mod("%.7g", vectors.astype(np.float32))
    return ["[" + ",".join(row) + "]" for row in text]


def index_name(bundle_hash: str) -> str:
    return f"track_embeddings_hnsw_{validate_bundle_hash(bundle_hash)}"


def vector_cast(dims: int) -> sql.Composable:
    return sql.SQL("vector({})").format(sql.Literal(int(dims)))


class EmbeddingRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def register_bundle(self, bundle: ModelBundle) -> None:
        self.conn.execute(
            """INSERT INTO model_bundles (bundle_hash, name, spec) VALUES (%s, %s, %s)
               ON CONFLICT (bundle_hash) DO UPDATE SET name = EXCLUDED.name""",
            (bundle.hash, bundle.name, json.dumps(bundle.spec())),
        )

    def content_hashes(self, bundle_hash: str) -> dict[str, str]:
        return dict(
            self.conn.execute(
                "SELECT track_id, content_hash FROM track_embeddings WHERE bundle_hash = %s",
                (bundle_hash,),
            )
        )

    def upsert(self, bundle: ModelBundle, frame: pd.DataFrame, vectors: np.ndarray) -> UpsertCounts:
        """`frame` has track_id and content_hash, one row per vector."""
        rows = pd.DataFrame(
            {
                "track_id": frame["track_id"].to_numpy(),
                "bundle_hash": bundle.hash,
                "content_hash": frame["content_hash"].to_numpy(),
                "model": bundle.embedding.model,
                "revision": bundle.embedding.revision,
                "dims": bundle.embedding.dims,
                "embedding": vector_literal(vectors),
            },
            columns=COLUMNS,
        )
        return copy_upsert(
            self.conn,
            "track_embeddings",
            rows,
            key=["bundle_hash", "track_id"],
            compare=["content_hash", "model", "revision", "dims"],
            touch="created_at",
        )

    def stats(self, bundle_hash: str) -> dict[str, float]:
        count, lo, hi, dims = self.conn.execute(
            """SELECT count(*), min(vector_norm(embedding)), max(vector_norm(embedding)),
                      count(DISTINCT dims)
               FROM track_embeddings WHERE bundle_hash = %s""",
            (bundle_hash,),
        ).fetchone()
        return {"rows": count, "min_norm": lo, "max_norm": hi, "distinct_dims": dims}

    def count(self, bundle_hash: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]

    def ensure_indexes(self, bundle_hash: str, dims: int) -> bool:
        """HNSW (cosine) on this bundle's vectors + B-trees on filter columns; True if built now."""
        name = index_name(bundle_hash)
        exists = self.conn.execute(
            "SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", (name,)
        ).fetchone()
        for column in FILTER_COLUMNS:
            self.conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON tracks ({})").format(
                    sql.Identifier(f"tracks_{column}_idx"), sql.Identifier(column)
                )
            )
        if exists:
            return False
        self.conn.execute(
            sql.SQL(
                "CREATE INDEX {} ON track_embeddings USING hnsw ((embedding::{}) vector_cosine_ops)"
                " WHERE bundle_hash = {}"
            ).format(sql.Identifier(name), vector_cast(dims), sql.Literal(bundle_hash))
        )
        self.conn.execute("ANALYZE track_embeddings")
        self.conn.execute("ANALYZE tracks")
        return True
