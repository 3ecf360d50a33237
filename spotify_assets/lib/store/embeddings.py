"""`model_bundles` and `track_embeddings`, and the per-bundle HNSW index."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.bundles import ModelBundle, validate_bundle_hash
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

COLUMNS = ["track_id", "bundle_hash", "content_hash", "model", "revision", "dims", "embedding"]
# Columns that filtered search narrows on: copied from `tracks` into `track_embeddings`
# (migration 0003 indexes each as (bundle_hash, column)).
FILTER_COLUMNS = (
    *AUDIO_FEATURES,
    "popularity",
    "release_year",
    "duration_ms",
    "genre",
    "subgenre",
)
TEXT_FILTER_COLUMNS = ("genre", "subgenre")
# Multi-valued text filter columns → the SQL function (migration 0008) giving their lower-case
# elements: `genre = 'rap'` matches a track whose genre is "rap;pop rap".
LIST_FILTER_COLUMNS = {"genre": "genre_keys"}
# integer / smallint in migration 0003; the other non-text filter columns are double precision
INTEGER_FILTER_COLUMNS = ("key", "mode", "popularity", "release_year", "duration_ms")


def to_array(value) -> np.ndarray:
    """A vector value as read back by psycopg (pgvector's Vector or an ndarray) as float32."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


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

    def bundle_hashes(self) -> set[str]:
        """Every bundle that has been embedded here (its vectors may still serve searches)."""
        return {row[0] for row in self.conn.execute("SELECT bundle_hash FROM model_bundles")}

    def content_hashes(self, bundle_hash: str) -> dict[str, str]:
        return dict(
            self.conn.execute(
                "SELECT track_id, content_hash FROM track_embeddings WHERE bundle_hash = %s",
                (bundle_hash,),
            )
        )

    def upsert(self, bundle: ModelBundle, frame: pd.DataFrame, vectors: np.ndarray) -> UpsertCounts:
        """`frame` has track_id and content_hash, one row per vector; filter columns follow."""
        rows = pd.DataFrame(
            {
                "track_id": frame["track_id"].to_numpy(),
                "bundle_hash": bundle.hash,
                "content_hash": frame["content_hash"].to_numpy(),
                "model": bundle.embedding.model,
                "revision": bundle.embedding.revision,
                "dims": bundle.embedding.dims,
                "embedding": list(np.asarray(vectors, dtype=np.float32)),
            },
            columns=COLUMNS,
        )
        counts = copy_upsert(
            self.conn,
            "track_embeddings",
            rows,
            key=["bundle_hash", "track_id"],
            compare=["content_hash", "model", "revision", "dims"],
            touch="created_at",
            of_tracks=True,
        )
        self.sync_filter_columns(bundle.hash, rows["track_id"].tolist())
        return counts

    def sync_filter_columns(self, bundle_hash: str, track_ids: list[str] | None = None) -> int:
        """Copy filter columns from `tracks` where they differ; returns rows updated."""
        columns = sql.SQL(", ").join(map(sql.Identifier, FILTER_COLUMNS))
        from_tracks = sql.SQL(", ").join(
            sql.SQL("t.{}").format(sql.Identifier(c)) for c in FILTER_COLUMNS
        )
        here = sql.SQL(", ").join(sql.SQL("e.{}").format(sql.Identifier(c)) for c in FILTER_COLUMNS)
        only = sql.SQL("AND e.track_id = ANY(%s)") if track_ids is not None else sql.SQL("")
        statement = sql.SQL(
            """UPDATE track_embeddings e SET ({columns}) = ({from_tracks})
               FROM tracks t
               WHERE e.bundle_hash = %s AND t.track_id = e.track_id {only}
                 AND ({here}) IS DISTINCT FROM ({from_tracks})"""
        ).format(columns=columns, from_tracks=from_tracks, here=here, only=only)
        params = [bundle_hash] + ([track_ids] if track_ids is not None else [])
        return self.conn.execute(statement, params).rowcount

    def stats(self, bundle_hash: str) -> dict[str, float]:
        count, lo, hi, dims = self.conn.execute(
            """SELECT count(*), min(vector_norm(embedding)), max(vector_norm(embedding)),
                      count(DISTINCT dims)
               FROM track_embeddings WHERE bundle_hash = %s""",
            (bundle_hash,),
        ).fetchone()
        return {"rows": count, "min_norm": lo, "max_norm": hi, "distinct_dims": dims}

    def vectors_version(self) -> tuple[int, int]:
        """(committed transactions that wrote `track_embeddings`, the last one's id), from
        migration 0022: an equal version means unchanged vectors and filter columns, so what
        was derived from them may be reused (as `TrackRepository.catalog_version` for tracks)."""
        count, last = self.conn.execute(
            "SELECT count(*), coalesce(max(txid), 0) FROM vector_changes"
        ).fetchone()
        return count, last

    def count(self, bundle_hash: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM track_embeddings WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]

    def ensure_index(self, bundle_hash: str, dims: int) -> bool:
        """The bundle's partial HNSW (cosine) expression index; True if built now."""
        name = index_name(bundle_hash)
        exists = self.conn.execute(
            "SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i'", (name,)
        ).fetchone()
        if exists:
            return False
        self.conn.execute(
            sql.SQL(
                "CREATE INDEX {} ON track_embeddings USING hnsw ((embedding::{}) vector_cosine_ops)"
                " WHERE bundle_hash = {}"
            ).format(sql.Identifier(name), vector_cast(dims), sql.Literal(bundle_hash))
        )
        self.conn.execute("ANALYZE track_embeddings")
        return True

    def use_index_build_memory(self) -> None:
        """More maintenance memory for this session, so an HNSW build stays in memory."""
        self.conn.execute("SET maintenance_work_mem = '512MB'")

    def described(self, bundle_hash: str) -> list[tuple[str, str, str]]:
        """(track_id, content_hash, description) of every track embedded under the bundle,
        by track id."""
        return self.conn.execute(
            """SELECT e.track_id, e.content_hash, a.description FROM track_embeddings e
               JOIN track_analyses a USING (track_id)
               WHERE e.bundle_hash = %s ORDER BY e.track_id""",
            (bundle_hash,),
        ).fetchall()

    def vectors(self, bundle_hash: str, track_ids: list[str]) -> dict[str, Any]:
        """track_id → stored vector (as psycopg reads it; `to_array` makes it float32). Read in
        binary: parsing the text form cost ~0.1 ms a vector (a second for 10K candidates)."""
        return dict(
            self.conn.execute(
                """SELECT track_id, embedding FROM track_embeddings
                   WHERE bundle_hash = %s AND track_id = ANY(%s)""",
                (bundle_hash, track_ids),
                binary=True,
            ).fetchall()
        )

    def match_rows(
        self, bundle_hash: str, features: Sequence[str], track_ids: Sequence[str] | None = None
    ) -> list[tuple]:
        """What matching reads per track embedded under the bundle (all, or `track_ids`), by
        track id: track_id, embedding, each of `features`, genre, subgenre, emotion buckets
        (NULL without emotions for this content hash), name, artists, description,
        content_hash, top_labels, top_bucket, release_year, popularity."""
        feature_cols = sql.SQL(", ").join(
            sql.SQL("t.{}").format(sql.Identifier(f)) for f in features
        )
        only = sql.SQL("AND e.track_id = ANY(%s)") if track_ids is not None else sql.SQL("")
        query = sql.SQL(
            """SELECT e.track_id, e.embedding, {features}, t.genre, t.subgenre, em.buckets,
                      t.name, t.artists, a.description, e.content_hash, em.top_labels,
                      em.top_bucket, t.release_year, t.popularity
               FROM track_embeddings e
               JOIN tracks t USING (track_id)
               JOIN track_analyses a USING (track_id)
               LEFT JOIN track_emotions em
                 ON em.bundle_hash = e.bundle_hash AND em.track_id = e.track_id
                    AND em.content_hash = e.content_hash
               WHERE e.bundle_hash = %s {only}
               ORDER BY e.track_id"""
        ).format(features=feature_cols, only=only)
        params = [bundle_hash] + ([list(track_ids)] if track_ids is not None else [])
        return self.conn.execute(query, params).fetchall()
