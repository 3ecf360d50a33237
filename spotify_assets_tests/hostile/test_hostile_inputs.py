"""Every corrupted variant of `corpus` through the real importers, into a real Postgres.

For each case: no unexpected exception (only HistoryError / CatalogError naming the file),
stored rows equal to what the test's own clean parse of the uncorrupted rows gives (nothing
lost, nothing duplicated, nothing unexpected), the expected number of quarantined rows, no
planted secret anywhere in the database, and a rerun that adds nothing. The matrix runs on
small synthetic files always, and on slices of the real files in ../shared/data when present.
"""

from __future__ import annotations

import functools
import itertools
import os
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from spotify_assets.lib.store import Database
from spotify_assets.lib.store.server import with_database
from spotify_assets_tests.hostile.corpus import Case, Outcome, all_cases, real_base, synthetic_base
from spotify_assets_tests.hostile.import_cases import ForgetCase, import_cases

SYNTHETIC = {f"{c.section}/{c.name}": c for c in all_cases(synthetic_base())}
_counter = itertools.count()


def test_the_matrix_is_big_enough():
    cases = list(SYNTHETIC.values())
    assert len(cases) >= 50
    assert {c.section for c in cases} == {"history", "catalog"}
    assert sum(c.section == "catalog" for c in cases) >= 20


@pytest.fixture(scope="module")
def hostile_db(server_url: str) -> Database:
    """One database for the module, emptied before each case (a fresh one per case costs
    twice the time of the case itself)."""
    name = f"hostile_{os.getpid()}_{next(_counter)}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = Database(with_database(server_url, name))
    db.migrate()
    yield db
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _emptied(db: Database) -> Database:
    with db.connect() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'"
            )
        ]
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, tables))
            )
        )
    return db


def _describe(outcome: Outcome) -> str:
    return (
        f"{outcome.section} / {outcome.case}: outcome {outcome.outcome!r}, crash {outcome.crash!r}, "
        f"lost {outcome.lost}, duplicated {outcome.duplicated}, unexpected {outcome.unexpected}, "
        f"leaked {outcome.leaked}, rerun added {outcome.rerun_added}, stored {outcome.stored}, "
        f"quarantined {outcome.quarantined}, problems {outcome.problems}, "
        f"message {outcome.message[:300]!r}"
    )


def _check(case: Case, db: Database, workdir: Path) -> None:
    outcome = case.run(_emptied(db), workdir)
    assert outcome.ok, _describe(outcome)


@pytest.mark.parametrize("name", list(SYNTHETIC))
def test_synthetic_variant(name, hostile_db, tmp_path):
    _check(SYNTHETIC[name], hostile_db, tmp_path)


@functools.cache
def _real_cases(shared: Path) -> dict[str, Case]:
    return {f"{c.section}/{c.name}": c for c in all_cases(real_base(shared))}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", list(SYNTHETIC))  # the same matrix, on real files
def test_real_variant(name, hostile_db, tmp_path, shared_data):
    _check(_real_cases(shared_data)[name], hostile_db, tmp_path)


IMPORTS = {c.name: c for c in import_cases()}


def test_the_import_matrix_covers_every_reported_case():
    assert len(IMPORTS) >= 19


@pytest.mark.parametrize("name", list(IMPORTS))
def test_export_variant(name, hostile_db, tmp_path):
    """A whole export through what `import` runs: refused whole, or stored whole."""
    _check(IMPORTS[name], hostile_db, tmp_path)


def test_forgetting_one_of_two_people_who_share_songs(hostile_db, tmp_path):
    _check(ForgetCase(), hostile_db, tmp_path)
