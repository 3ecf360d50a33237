"""The `quarantine` table: input records rejected by a loader, with the reason.

A rejected record is hostile by definition, so `QuarantineRepository.add`, the one place
quarantine rows are written, makes whatever it is given storable: `raw` becomes plain JSON that
jsonb accepts (NaN and infinities as the strings "NaN", "inf", "-inf"; no NUL or other control
characters; no unpaired surrogates; strings cut at `MAX_TEXT` characters with a marker; nesting
below `MAX_DEPTH` levels replaced by a marker; at most `MAX_ITEMS` entries per object or list and
about `MAX_RAW_CHARS` characters in all), and the text columns get the same cleaning.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from spotify_assets.lib.store.bulk import copy_upsert

COLUMNS = [
    "stage", "source_file", "source_sha256", "line", "record_id", "reason", "raw", "person",
]  # fmt: skip


MAX_TEXT = 1000  # characters of one string
MAX_DEPTH = 3  # levels of objects / lists inside one field of `raw`; deeper: a marker
MAX_ITEMS = 100  # entries of one object or list
MAX_RAW_CHARS = 20_000  # serialized size of one `raw`; fields past it are left out
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # control characters (NUL included)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def safe_text(text: str, limit: int = MAX_TEXT) -> str:
    """`text` without control characters or unpaired surrogates, cut at `limit` characters."""
    cut = len(text) > limit
    shown = text[:limit] if cut else text
    if not shown.isprintable():
        shown = _SURROGATE.sub("\ufffd", _UNSAFE.sub("", shown))
    return f"{shown}…[cut: {len(text):,} characters]" if cut else shown


def safe_json(value: Any, depth: int = 0) -> Any:
    """`value` as plain JSON that Postgres jsonb accepts, whatever it was."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        value = int(value)
        return value if value.bit_length() <= 63 else f"<integer of {value.bit_length()} bits>"
    if isinstance(value, float | np.floating | Decimal):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return number
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value):,} bytes>"
    if isinstance(value, dict | list | tuple | set | np.ndarray):
        if depth >= MAX_DEPTH:
            return f"<{'object' if isinstance(value, dict) else 'list'} nested too deep>"
        if isinstance(value, dict):
            items = list(value.items())[:MAX_ITEMS]
            out = {safe_text(str(k), 100): safe_json(v, depth + 1) for k, v in items}
            if len(value) > MAX_ITEMS:
                out["_cut"] = f"{len(value) - MAX_ITEMS:,} more entries left out"
            return out
        values = list(value[:MAX_ITEMS] if isinstance(value, list | tuple | np.ndarray) else value)
        out = [safe_json(v, depth + 1) for v in values[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            out.append(f"<{len(value) - MAX_ITEMS:,} more items left out>")
        return out
    try:
        return safe_text(str(value))
    except (RecursionError, ValueError):
        return f"<{type(value).__name__}>"


def safe_raw(raw: Any) -> dict[str, Any]:
    """A quarantined record's `raw`, safe for jsonb and at most about MAX_RAW_CHARS long."""
    if not isinstance(raw, dict):
        raw = {"value": raw}
    out: dict[str, Any] = {}
    size = 2
    for index, (key, value) in enumerate(raw.items()):
        if index >= MAX_ITEMS or size > MAX_RAW_CHARS:
            out["_cut"] = (
                f"{len(raw) - index:,} more fields left out: the record is over "
                f"{min(size, MAX_RAW_CHARS):,} characters or {MAX_ITEMS} fields"
            )
            break
        name, clean = safe_text(str(key), 100), safe_json(value)
        piece = len(json.dumps(clean)) + len(name) + 6
        if size + piece > MAX_RAW_CHARS:
            clean = f"<{piece:,} characters left out: the record is too large>"
            piece = len(clean) + len(name) + 6
        out[name] = clean
        size += piece
    return out


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
        person: str | None = None,
    ) -> int:
        """Record rejected rows once per (stage, file content, line); returns rows added.

        `person` marks personal rows (a listening history) so they go with that person.
        Every value is made storable first (see the module's doc): a hostile record can be
        quarantined, never fail the write."""
        if not records:
            return 0

        def text(value: object, limit: int = MAX_TEXT) -> str | None:
            return None if value is None else safe_text(str(value), limit)

        frame = pd.DataFrame(
            {
                "stage": text(stage),
                "source_file": text(source_file, 4 * MAX_TEXT),
                "source_sha256": text(source_sha256),
                "line": [int(r.line) for r in records],
                "record_id": [text(r.record_id) for r in records],
                "reason": [text(r.reason, 4 * MAX_TEXT) for r in records],
                "raw": [safe_raw(r.raw) for r in records],
                "person": text(person),
            },
            columns=COLUMNS,
        )
        counts = copy_upsert(
            self.conn,
            "quarantine",
            frame,
            key=["stage", "source_sha256", "line", "person"],
            update=False,
            touch=None,
        )
        return counts.inserted

    def add_rejected(self, stage: str, rejected: list, person: str | None) -> int:
        """Rows a reader rejected (each with source_file, source_sha256, line, reason, raw:
        lib/export/files.Rejected), file by file; returns rows added."""
        by_file: dict[tuple[str, str], list[QuarantineRecord]] = {}
        for row in rejected:
            record = QuarantineRecord(row.line, row.reason, None, row.raw)
            by_file.setdefault((row.source_file, row.source_sha256), []).append(record)
        return sum(
            self.add(stage, name, sha, records, person=person)
            for (name, sha), records in by_file.items()
        )

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
