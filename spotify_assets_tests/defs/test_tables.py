"""defs/tables.py declares, for the UI, the columns of the tables assets write; the migrations
create them. This test holds the two together: every declared column exists in a migrated
database with the declared type and nullability, so a migration that renames or retypes a
column fails here instead of leaving the UI's schema wrong."""

import dagster as dg
import pytest

from spotify_assets.defs import tables

ALIASES = {"timestamptz": "timestamp with time zone"}  # what the UI shows → Postgres' own name
DECLARED = {
    name: value
    for name, value in vars(tables).items()
    if isinstance(value, dict) and "dagster/table_name" in value
}


def _schema(conn, table: str) -> dict[str, tuple[str, bool]]:
    """column → (type as Postgres formats it, nullable) of a table in the migrated database."""
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped""",
        (table,),
    ).fetchall()
    return {name: (type_, nullable) for name, type_, nullable in rows}


def test_there_are_declared_tables():
    assert len(DECLARED) >= 8


@pytest.mark.parametrize("constant", sorted(DECLARED))
def test_declared_columns_are_the_migrated_ones(db, constant):
    metadata = DECLARED[constant]
    table = metadata["dagster/table_name"].removeprefix("public.")
    schema: dg.TableSchema = metadata["dagster/column_schema"]
    with db.connect() as conn:
        actual = _schema(conn, table)
    assert actual, f"{constant}: no table {table!r} after the migrations"
    wrong = []
    for column in schema.columns:
        if column.name not in actual:
            wrong.append(f"{column.name}: not a column of {table}")
            continue
        type_, nullable = actual[column.name]
        if ALIASES.get(column.type, column.type) != type_:
            wrong.append(f"{column.name}: declared {column.type}, migrated {type_}")
        if column.constraints.nullable != nullable:
            wrong.append(f"{column.name}: declared nullable={column.constraints.nullable}, "
                         f"migrated {nullable}")  # fmt: skip
    assert not wrong, f"{constant} ({table}): " + "; ".join(wrong)
