"""The co-listening tables: each person's current model and its vectors (migration 0017)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import psycopg

from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import to_array


class ColisteningRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def current_hash(self, person: str) -> str | None:
        row = self.conn.execute(
            "SELECT model_hash FROM colistening_models WHERE person = %s", (person,)
        ).fetchone()
        return row[0] if row else None

    def report(self, person: str) -> dict | None:
        row = self.conn.execute(
            "SELECT report FROM colistening_models WHERE person = %s", (person,)
        ).fetchone()
        return row[0] if row else None

    def replace(
        self, person: str, model_hash: str, method: str, report: dict,
        track_ids: Sequence[str], vectors: np.ndarray,
    ) -> int:  # fmt: skip
        """The person's model becomes this one (vectors of songs that have a track row and a
        finite vector); in the caller's transaction. Returns the vectors stored."""
        self.conn.execute("DELETE FROM colistening_vectors WHERE person = %s", (person,))
        self.conn.execute(
            """INSERT INTO colistening_models (person, model_hash, method, dims, report)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (person) DO UPDATE SET model_hash = EXCLUDED.model_hash,
                   method = EXCLUDED.method, dims = EXCLUDED.dims, report = EXCLUDED.report,
                   trained_at = now()""",
            (person, model_hash, method, int(vectors.shape[1]), json.dumps(report)),
        )
        known = {r[0] for r in self.conn.execute(
            "SELECT track_id FROM tracks WHERE track_id = ANY(%s)", (list(track_ids),)
        )}  # fmt: skip
        keep = [i for i, t in enumerate(track_ids)
                if t in known and np.isfinite(vectors[i]).all()]  # fmt: skip
        if not keep:
            return 0
        frame = pd.DataFrame(
            {"person": person, "track_id": [track_ids[i] for i in keep],
             "vector": [vectors[i].astype(np.float32) for i in keep]}
        )  # fmt: skip
        copy_frame(self.conn, "colistening_vectors", frame)
        return len(keep)

    def vectors(self, person: str, track_ids: Sequence[str]) -> np.ndarray | None:
        """(len(track_ids), dims) float32, NaN rows for songs without a vector; None when the
        person has no model."""
        row = self.conn.execute(
            "SELECT dims FROM colistening_models WHERE person = %s", (person,)
        ).fetchone()
        if row is None:
            return None
        out = np.full((len(track_ids), row[0]), np.nan, dtype=np.float32)
        index = {t: i for i, t in enumerate(track_ids)}
        for track_id, vector in self.conn.execute(
            """SELECT track_id, vector FROM colistening_vectors
               WHERE person = %s AND track_id = ANY(%s)""",
            (person, list(track_ids)),
        ):
            out[index[track_id]] = to_array(vector)
        return out
