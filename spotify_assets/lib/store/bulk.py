"""COPY-based idempotent bulk writes shared by the repositories.

Rows are streamed with COPY (as CSV written by pyarrow, in C++) into a temporary staging
table, then merged with one `INSERT ... SELECT ... ON CONFLICT` statement, so a batch is
atomic, a rerun is a no-op, and only rows whose compared columns differ are rewritten. When
the target table is empty the rows are COPY'd straight into it.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


Merge = Literal["replace", "known", "missing"]


def _merged(table: str, column: str, merge: Merge, empty_is_null: bool) -> sql.Composable:
    """The value ON CONFLICT DO UPDATE gives `column`, per the merge rule (see `copy_upsert`)."""
    ident = sql.Identifier
    new = sql.SQL("EXCLUDED.{}").format(ident(column))
    old = sql.SQL("{}.{}").format(ident(table), ident(column))
    if empty_is_null:
        new = sql.SQL("NULLIF({}, '{{}}')").format(new)
        old = sql.SQL("NULLIF({}, '{{}}')").format(old)
    if merge == "known":
        value = sql.SQL("COALESCE({}, {})").format(new, old)
    elif merge == "missing":
        value = sql.SQL("COALESCE({}, {})").format(old, new)
    else:
        value = sql.SQL("EXCLUDED.{}").format(ident(column))
    if empty_is_null and merge != "replace":
        value = sql.SQL("COALESCE({}, EXCLUDED.{})").format(value, ident(column))
    return value


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    gone: int = 0  # rows skipped: their track was deleted meanwhile (`copy_upsert(of_tracks=)`)

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.gone + other.gone,
        )


def frame_rows(frame: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple]:
    """Rows of native Python values, with NaN / NA / NaT as None."""
    lists = []
    for column in columns:
        series = frame[column]
        values = series.astype(object).where(series.notna(), None).tolist()
        lists.append(values)
    return zip(*lists, strict=True)


def _pg_array(values) -> str | None:
    """A Postgres text[] literal: {"a","b \\"c\\""}."""
    if values is None:
        return None
    items = (str(v).replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{item}"' for item in items) + "}"


def _copy_ready(frame: pd.DataFrame) -> pa.Table:
    """Arrow columns that COPY (FORMAT csv) reads back exactly: lists → arrays, dicts → JSON."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if series.dtype == object:
            sample = next((v for v in series if v is not None), None)
            if isinstance(sample, list | tuple):
                series = series.map(_pg_array)
            elif isinstance(sample, dict):
                series = series.map(lambda v: None if v is None else json.dumps(v))
        columns[name] = series
    return pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False)


def _column_types(conn: psycopg.Connection, table: str, columns: list[str]) -> list[str]:
    """Postgres type names of `columns`, as psycopg's binary COPY wants them."""
    found = dict(
        conn.execute(
            """SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
               WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped""",
            (table,),
        )
    )
    return [found[c][1:] + "[]" if found[c].startswith("_") else found[c] for c in columns]


def _copy_binary(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Binary COPY, for frames holding numpy vectors: no text formatting of floats."""
    columns = list(frame.columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    types = _column_types(conn, table, columns)  # before COPY holds the connection
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        for row in frame_rows(frame, columns):
            copy.write_row(row)


def _holds_arrays(frame: pd.DataFrame) -> bool:
    return any(
        frame[c].dtype == object and isinstance(frame[c].iloc[0], np.ndarray) for c in frame.columns
    )


def copy_frame(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a frame into `table` (columns named like the frame's); returns the row count."""
    if frame.empty:
        return 0
    if _holds_arrays(frame):
        _copy_binary(conn, table, frame)
        return len(frame)
    buffer = io.BytesIO()
    pacsv.write_csv(_copy_ready(frame), buffer, pacsv.WriteOptions(include_header=False))
    data = buffer.getbuffer()
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, frame.columns))
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(data), _CHUNK):
            copy.write(data[start : start + _CHUNK])
    return len(frame)


def copy_upsert(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    key: Sequence[str],
    compare: Sequence[str] | None = None,
    update: bool = True,
    touch: str | None = "updated_at",
    merge: Merge = "replace",
    empty_as_null: Sequence[str] = (),
    of_tracks: bool = False,
) -> UpsertCounts:
    """Merge `frame` into `table` by `key`; runs inside the caller's transaction.

    With `update`, existing rows are rewritten only when one of `compare` (default: all
    non-key columns) differs; `touch` names a timestamp column set to now() on rewrite.
    Without `update`, existing rows are left alone (insert-only). Keys must be unique
    within `frame`.

    `merge` says how an existing row's fields combine with the new ones: "replace" (the new
    row wins), "known" (a new value wins unless it is null: a later source never wipes what an
    earlier one knew) or "missing" (stored values win; new ones only fill nulls).
    `empty_as_null` names array columns whose empty array counts as null for that purpose.
    `of_tracks`: the rows derive from tracks (a `track_id` column): a row whose track was
    deleted since the caller read it (another person's import moved a `lib:` row to its
    Spotify id, a `forget`) is skipped and counted as `gone`, not an error; what derives from
    a track goes with it.
    """
    if frame.empty:
        return UpsertCounts()
    started = time.perf_counter()
    ident = sql.Identifier
    columns = list(frame.columns)
    # Writers of one table queue here, so "is it empty?" stays true until we commit.
    conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(ident(table)))
    empty = conn.execute(sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(ident(table)))
    if empty.fetchone()[0]:
        try:
            with _savepoint(conn, of_tracks):
                copy_frame(conn, table, frame)
        except psycopg.errors.ForeignKeyViolation:
            if not of_tracks:
                raise
            # on to the staged merge below, which drops the rows of the gone tracks
        else:
            log.debug(
                "%s: copied %d rows into the empty table in %.1fs",
                table,
                len(frame),
                time.perf_counter() - started,
            )
            return UpsertCounts(inserted=len(frame))

    stage = f"_stage_{table}"
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident(stage)))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
            ident(stage), ident(table)
        )
    )
    copy_frame(conn, stage, frame)
    col_list = sql.SQL(", ").join(map(ident, columns))
    if update:
        non_key = [c for c in columns if c not in key]
        compare = list(compare or non_key)
        value = {c: _merged(table, c, merge, c in empty_as_null) for c in non_key}
        assignments = [sql.SQL("{} = {}").format(ident(c), value[c]) for c in non_key]
        if touch:
            assignments.append(sql.SQL("{} = now()").format(ident(touch)))
        # rewrite only when the merged row differs from the stored one
        conflict = sql.SQL("DO UPDATE SET {} WHERE ({}) IS DISTINCT FROM ({})").format(
            sql.SQL(", ").join(assignments),
            sql.SQL(", ").join(sql.SQL("{}.{}").format(ident(table), ident(c)) for c in compare),
            sql.SQL(", ").join(value[c] for c in compare),
        )
    else:
        conflict = sql.SQL("DO NOTHING")
    merge = sql.SQL(
        """WITH merged AS (
               INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}
               ON CONFLICT ({key}) {conflict}
               RETURNING (xmax = 0) AS inserted)
           SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
           FROM merged"""
    ).format(
        table=ident(table),
        cols=col_list,
        stage=ident(stage),
        key=sql.SQL(", ").join(map(ident, key)),
        conflict=conflict,
    )
    gone = 0
    try:
        with _savepoint(conn, of_tracks):
            inserted, updated = conn.execute(merge).fetchone()
    except psycopg.errors.ForeignKeyViolation:
        if not of_tracks:
            raise
        gone = _drop_gone_tracks(conn, stage)
        log.info("%s: %d rows skipped, their tracks were deleted meanwhile", table, gone)
        inserted, updated = conn.execute(merge).fetchone()
    log.debug("%s: merged %d rows in %.1fs", table, len(frame), time.perf_counter() - started)
    return UpsertCounts(inserted, updated, len(frame) - inserted - updated - gone, gone)


def _savepoint(conn: psycopg.Connection, on: bool) -> contextlib.AbstractContextManager:
    """A savepoint when `on` (what a foreign-key failure rolls back to), else nothing."""
    return conn.transaction() if on else contextlib.nullcontext()


def _drop_gone_tracks(conn: psycopg.Connection, stage: str) -> int:
    """Lock the staged rows' tracks that are still there against deletion until commit, and
    drop the staged rows of the others; returns how many were dropped."""
    stage_table = sql.Identifier(stage)
    conn.execute(
        sql.SQL(
            "SELECT FROM tracks t WHERE t.track_id IN (SELECT track_id FROM {}) FOR KEY SHARE"
        ).format(stage_table)
    )
    return conn.execute(
        sql.SQL(
            "DELETE FROM {} s WHERE NOT EXISTS (SELECT FROM tracks t WHERE t.track_id = s.track_id)"
        ).format(stage_table)
    ).rowcount
