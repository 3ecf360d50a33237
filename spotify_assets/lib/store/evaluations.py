"""The `evaluations` table: offline metrics per (bundle, suite, metric)."""

from __future__ import annotations

import json

import psycopg


class EvaluationRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def save(self, bundle_hash: str, suite: str, metrics: dict[str, float], details: dict) -> None:
        for metric, value in metrics.items():
            self.conn.execute(
                """INSERT INTO evaluations (bundle_hash, suite, metric, value, details)
                   VALUES (%s, %s, %s, %s, %s)
                   ON CONFLICT (bundle_hash, suite, metric) DO UPDATE
                   SET value = EXCLUDED.value, details = EXCLUDED.details, updated_at = now()""",
                (bundle_hash, suite, metric, value, json.dumps(details, default=str)),
            )

    def metrics(self, bundle_hash: str) -> dict[tuple[str, str], float]:
        rows = self.conn.execute(
            "SELECT suite, metric, value FROM evaluations WHERE bundle_hash = %s", (bundle_hash,)
        )
        return {(suite, metric): value for suite, metric, value in rows}
