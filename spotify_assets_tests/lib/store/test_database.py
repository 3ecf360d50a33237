import os
import subprocess
import sys

import pandas as pd
import psycopg
import pytest

from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.bulk import copy_upsert
from spotify_assets.lib.store.database import MigrationError, apply_migrations, load_migrations


def test_migrations_apply_in_order_once(empty_database_url):
    database_url = empty_database_url
    applied = apply_migrations(database_url)
    assert applied == [m.version for m in load_migrations()] == sorted(applied)
    assert apply_migrations(database_url) == []
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == applied
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname='vector'").fetchone()
        assert (
            conn.execute("SELECT '[1,2,3]'::vector(3) <=> '[1,2,3]'::vector(3)").fetchone()[0] == 0
        )


def test_an_edited_migration_is_refused(database_url):
    apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        apply_migrations(database_url)


def test_connections_speak_pgvector(db):
    import numpy as np

    with db.connect() as conn:
        value = conn.execute("SELECT '[0.5,1,2]'::vector").fetchone()[0]
    assert np.allclose(value.to_numpy(), [0.5, 1, 2])


def _people(rows):
    return pd.DataFrame(rows, columns=["playlist_id", "name", "genre", "subgenre", "source"])


def test_copy_upsert_counts_and_is_idempotent(db):
    first = _people([("p1", "One", "pop", None, "t"), ("p2", "Two", None, None, "t")])
    with db.connect() as conn:
        counts = copy_upsert(conn, "playlists", first, key=["playlist_id"])
        assert (counts.inserted, counts.updated, counts.unchanged) == (2, 0, 0)
        again = copy_upsert(conn, "playlists", first, key=["playlist_id"])
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
        changed = _people(
            [("p1", "One (renamed)", "pop", None, "t"), ("p3", "Three", "", None, "t")]
        )
        counts = copy_upsert(conn, "playlists", changed, key=["playlist_id"])
        assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 0)
        rows = conn.execute("SELECT playlist_id, name, genre FROM playlists ORDER BY 1").fetchall()
    # NULL stays NULL and an empty string stays an empty string through COPY
    assert rows == [("p1", "One (renamed)", "pop"), ("p2", "Two", None), ("p3", "Three", "")]


def test_a_failed_batch_leaves_nothing_behind(db):
    good = _people([("p1", "One", None, None, "t")])
    with db.connect() as conn:
        copy_upsert(conn, "playlists", good, key=["playlist_id"])
    broken = _people([("p2", "Two", None, None, "t"), ("p3", None, None, None, "t")])  # NOT NULL
    with pytest.raises(psycopg.errors.NotNullViolation), db.connect() as conn:
        copy_upsert(conn, "playlists", broken, key=["playlist_id"])
    with db.connect() as conn:
        assert conn.execute("SELECT array_agg(playlist_id) FROM playlists").fetchone()[0] == ["p1"]


def test_database_url_wins_over_the_embedded_server(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert resolve_database_url() == database_url


def test_embedded_server_is_shared_by_processes(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SPOTIFY_ASSETS_HOME", str(tmp_path / "home"))
    url = resolve_database_url()
    with Database(url).connect() as conn:
        conn.execute("CREATE TABLE marker (x int)")
        conn.execute("INSERT INTO marker VALUES (42)")
    code = (
        "from spotify_assets.lib.store import resolve_database_url; import psycopg; "
        "u = resolve_database_url(); print(psycopg.connect(u).execute('SELECT x FROM marker').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "42"
    pgdata = tmp_path / "home" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()


def test_the_embedded_server_gets_search_sized_settings_and_keeps_hand_set_ones(
    monkeypatch, tmp_path
):
    """shared_buffers sized to the machine (the 128 MB default made a 100K catalog's searches
    re-read pages) and JIT off are written once; a value the user set stays."""
    from spotify_assets.lib.store.server import (
        apply_settings,
        embedded_server,
        recommended_settings,
    )

    pgdata = tmp_path / "pgdata"
    server = embedded_server(pgdata, cleanup_mode="delete")
    try:
        text = (pgdata / "postgresql.auto.conf").read_text()
        wanted = recommended_settings()
        assert f"shared_buffers = '{wanted['shared_buffers']}'" in text
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
        assert int(wanted["shared_buffers"].removesuffix("MB")) == int(
            min(8192, max(128, memory / 4)))  # a quarter of this machine's memory, bounded
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            assert conn.execute("SHOW jit").fetchone()[0] == "off"  # reloaded, no restart
            conn.execute("ALTER SYSTEM SET jit = on")
            conn.execute("ALTER SYSTEM RESET shared_buffers")
        assert apply_settings(server.get_uri(), pgdata) == {
            "shared_buffers": wanted["shared_buffers"]
        }
        assert apply_settings(server.get_uri(), pgdata) == {}
        assert "jit = 'on'" in (pgdata / "postgresql.auto.conf").read_text()
    finally:
        server.cleanup()


def test_connection_strings_become_urls_dagster_can_use():
    from spotify_assets.lib.store.server import as_url, describe_url

    socket = as_url("user=postgres dbname=dagster host='/tmp/pg dir'")
    assert socket == "postgresql+psycopg2://postgres@/dagster?host=%2Ftmp%2Fpg%20dir"
    tcp = as_url("host=db port=5433 user=u password=p@ss dbname=d")
    assert tcp == "postgresql+psycopg2://u:p%40ss@db:5433/d"
    assert as_url("postgresql://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert describe_url(tcp) == "postgres db:5433/d"  # no password
    assert describe_url(socket) == "postgres /tmp/pg dir/dagster"


def test_a_connection_lost_mid_step_is_a_retryable_one_line_failure(database_url):
    """The step's connection is terminated by the server in its first attempt: the failure says
    what happened in one line and the retry (the asset's RetryPolicy) finishes the work."""
    import dagster as dg
    import psycopg

    from spotify_assets.lib.store.database import DatabaseUnavailable

    attempts = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=1))
    def writes_a_row(context) -> None:
        db = Database(database_url)
        attempts.append(context.retry_number)
        with db.connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS lost (n int PRIMARY KEY)")
        with db.connect() as conn:
            if context.retry_number == 0:
                pid = conn.info.backend_pid
                with psycopg.connect(database_url, autocommit=True) as other:
                    other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            conn.execute("INSERT INTO lost VALUES (1) ON CONFLICT DO NOTHING")

    result = dg.materialize([writes_a_row], raise_on_error=False)
    assert result.success and attempts == [0, 1]
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    message = retries[0].event_specific_data.error.cause.message
    assert "DatabaseUnavailable" in message and "went away" in message
    assert message.count("\n") <= 1  # one line
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM lost").fetchone()[0] == 1

    refused = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        with refused.connect():
            pass
    except DatabaseUnavailable as exc:
        assert "cannot be reached" in str(exc) and "127.0.0.1:1" in str(exc)
    else:
        raise AssertionError("a refused connection must raise DatabaseUnavailable")


def test_genres_are_split_for_rows_stored_before_migration_8(empty_database_url):
    """Rows loaded before `genres` existed get their list from `genre` when it is added, and
    any later write of `genre` keeps it in step (it is generated by Postgres)."""
    database_url = empty_database_url
    earlier = [m for m in load_migrations() if m.version < 8]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
               checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        for m in earlier:
            conn.execute(m.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )
        for track_id, genre in [("a", "rap; pop rap;;rap"), ("b", "Rock"), ("c", None)]:
            conn.execute(
                "INSERT INTO tracks (track_id, name, genre, source_format, source_file, row_hash)"
                " VALUES (%s, 'x', %s, 'old', '-', '-')",
                (track_id, genre),
            )
    assert 8 in apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        genres = dict(conn.execute("SELECT track_id, genres FROM tracks"))
        assert genres == {"a": ["rap", "pop rap"], "b": ["Rock"], "c": []}
        conn.execute("UPDATE tracks SET genre = 'trap;rap' WHERE track_id = 'c'")
        assert conn.execute("SELECT genres FROM tracks WHERE track_id = 'c'").fetchone() == (
            ["trap", "rap"],
        )


def test_a_kept_connection_serves_every_block_and_each_block_commits_or_rolls_back(
    database_url,
):
    db = Database(database_url, keep_open=True)
    with db.connect() as conn:
        pid = conn.info.backend_pid
        conn.execute("CREATE TABLE kept (x int)")
    with pytest.raises(RuntimeError), db.connect() as conn:
        conn.execute("INSERT INTO kept VALUES (1)")
        raise RuntimeError("abort")
    with db.connect() as conn:
        assert conn.info.backend_pid == pid
        conn.execute("INSERT INTO kept VALUES (2)")
    with Database(database_url).connect() as other:  # committed: another connection sees it
        assert other.execute("SELECT array_agg(x) FROM kept").fetchone()[0] == [2]
    db.close()
    with db.connect() as conn:  # a closed connection is replaced
        assert conn.info.backend_pid != pid


def test_rows_of_a_track_deleted_meanwhile_are_skipped_only_when_asked(db):
    """`of_tracks`: descriptions of a track another run deleted since they were computed are
    counted as gone, into an empty table (COPY) as into a filled one (the staged merge);
    without it the foreign key still fails the batch."""
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO tracks (track_id, name, artists, source_format, source_file, row_hash) "
            "VALUES ('kept', 'Song', '{Band}', 'test', 't.csv', 'h1'), "
            "('later', 'Other', '{Band}', 'test', 't.csv', 'h2')"
        )

    def analyses(*ids: str) -> pd.DataFrame:
        return pd.DataFrame({"track_id": ids, "content_hash": [f"c-{i}" for i in ids],
                             "extractor_version": 1, "analysis": "{}",
                             "description": [f"{i} by Band." for i in ids]})  # fmt: skip

    with pytest.raises(psycopg.errors.ForeignKeyViolation), db.connect() as conn:
        copy_upsert(conn, "track_analyses", analyses("kept", "gone"), key=["track_id"])
    for batch, expected in ((("kept", "gone"), (1, 1)), (("later", "gone2"), (1, 1))):
        with db.connect() as conn:
            counts = copy_upsert(
                conn, "track_analyses", analyses(*batch), key=["track_id"], of_tracks=True
            )
        assert (counts.inserted, counts.gone) == expected
    with db.connect() as conn:
        stored = conn.execute("SELECT array_agg(track_id ORDER BY track_id) FROM track_analyses")
        assert stored.fetchone()[0] == ["kept", "later"]


def test_genre_keys_are_the_same_set_as_migration_8s_so_its_index_stays_valid(db):
    """Migration 26 rewrote genre_keys for speed; rows indexed by the old body must still be
    found, so for every shape of genre text the new keys are the old ones as a set."""
    old = """SELECT coalesce(array_agg(DISTINCT lower(btrim(part))), '{}')
             FROM unnest(string_to_array(%s::text, ';')) AS part WHERE btrim(part) <> ''"""
    cells = [None, "", " ", ";", " ; ;", "Rock", "rap; pop rap;;rap", "  Trap Latino ;REGGAETON ",
             "a;A; a ;b", "hip hop", "r&b;  ", "k-pop ;\tpop", "música;MÚSICA", ";;x;;"]  # fmt: skip
    with db.connect() as conn:
        for cell in cells:
            before = conn.execute(old, (cell,)).fetchone()[0]
            now = conn.execute("SELECT genre_keys(%s::text)", (cell,)).fetchone()[0]
            assert set(now) == set(before), cell
            assert conn.execute("SELECT cardinality(genre_keys(%s::text)) > 0", (cell,)).fetchone()[
                0] == bool(before)  # fmt: skip
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT 1 FROM track_embeddings e WHERE genre_keys(e.genre) @> ARRAY['rock']"
        ).fetchall()
        assert "track_embeddings_genre_keys_idx" in " ".join(r[0] for r in plan)
