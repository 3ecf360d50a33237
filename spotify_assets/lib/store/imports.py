"""The `import_files` table: where every row of each imported file went (migration 0016)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import psycopg


class ImportFileRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def record(self, person: str, accounts: Sequence[Any]) -> int:
        """Store (or replace) each file's account (lib/export/accounting.FileAccount) for
        `person`; in the caller's transaction."""
        for a in accounts:
            self.conn.execute(
                """INSERT INTO import_files (person, part, file, sha256, rows, stored,
                       excluded_total, excluded, quarantined, duplicates, note)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (person, sha256, file) DO UPDATE SET
                       rows = EXCLUDED.rows, stored = EXCLUDED.stored,
                       excluded_total = EXCLUDED.excluded_total, excluded = EXCLUDED.excluded,
                       quarantined = EXCLUDED.quarantined, duplicates = EXCLUDED.duplicates,
                       note = EXCLUDED.note, imported_at = now()""",
                (person, a.part, a.file, a.sha256, a.rows, a.stored, a.excluded_total,
                 json.dumps(a.excluded), a.quarantined, a.duplicates, a.note),
            )  # fmt: skip
        return len(accounts)

    def frame(self, person: str) -> pd.DataFrame:
        with self.conn.cursor() as cur:
            cur.execute(
                """SELECT part, file, sha256, rows, stored, excluded_total, excluded,
                          quarantined, duplicates, note, imported_at
                   FROM import_files WHERE person = %s ORDER BY part, file""",
                (person,),
            )
            return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
