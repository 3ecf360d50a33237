"""The `quarantine` table: input records rejected by a loader, with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg

from spotify_assets.lib.store.bulk import copy_upsert

COLUMNS = [
    "stage", "source_file", "source_sha256", "line", "record_id", "reason", "raw", "user_id",
]  # fmt: skip


@dataclass(frozen=True)
class QuarantineRecord:
    line: int
    reason: str
    record_id: str | None
    raw: dict[str, Any]


class QuarantineRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def add(
        self,
        stage: str,
        source_file: str,
        source_sha256: str,
        records: list[QuarantineRecord],
        user_id: str | None = None,
    ) -> int:
        """Record rejected rows once per (stage, file content, line); returns rows added.

        `user_id` marks personal rows (a listening history) so they go with that person."""
        frame = pd.DataFrame(
            {
                "stage": stage,
                "source_file": source_file,
                "source_sha256": source_sha256,
                "line": [r.line for r in records],
                "record_id": [r.record_id for r in records],
                "reason": [r.reason for r in records],
                "raw": [r.raw for r in records],
                "user_id": user_id,
            },
            columns=COLUMNS,
        )
        counts = copy_upsert(
            self.conn,
            "quarantine",
            frame,
            key=["stage", "source_sha256", "line", "user_id"],
            update=False,
            touch=None,
        )
        return counts.inserted

    def count(self, stage: str | None = None, source_sha256: str | None = None) -> int:
        return self.conn.execute(
            """SELECT count(*) FROM quarantine
               WHERE (%(stage)s::text IS NULL OR stage = %(stage)s)
                 AND (%(sha)s::text IS NULL OR source_sha256 = %(sha)s)""",
            {"stage": stage, "sha": source_sha256},
        ).fetchone()[0]

    def reasons(self, source_sha256: str) -> list[tuple[int, str]]:
        return self.conn.execute(
            "SELECT line, reason FROM quarantine WHERE source_sha256 = %s ORDER BY line",
            (source_sha256,),
        ).fetchall()
