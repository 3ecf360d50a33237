"""Six real people in one database (the four whole exports and both history folders of
../shared/data): every row of every file accounted for, no play lost to a name key, and
forgetting any one of them leaves the other five as they were."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
import pytest

from spotify_assets.lib.catalog.library import KNOWN_COLUMNS
from spotify_assets.lib.export.library import read_liked
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import export_playlists
from spotify_assets.lib.store import Database
from spotify_assets.lib.store.personal import forget
from spotify_assets.lib.store.server import with_database
from spotify_assets.lib.store.tracks import TrackRepository
from spotify_assets_tests.lib.store.test_people import _coverage, _snapshot, _vectors

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

EXPORTS = {p: f"exports/listener_{p}_full_export" for p in "efgh"}
HISTORIES = {"b": "histories/listener_b_basic_export", "d": "histories/listener_d_extended_export"}
# Plays the lossy name key lost, found in these files: names with no letter or digit, and two
# versions of a song played in the same minute with the same ms_played.
SYMBOL_ONLY = [("f", "The Japanese House", ":)"), ("g", "Jean Dawson", "*"),
               ("g", "David Bowie", "★"), ("g", "Lilac", "¥__€"),
               ("g", "?", "august - taylor swift (the summer i turned pretty)")]  # fmt: skip
SAME_MINUTE = [("e", "skaiwater", "#miles", "#miles (OMG edit)"),
               ("b", "Miura Jam", "The Beautiful Brave",
                'The Beautiful Brave (From "Saint Seiya: Saintia Sho")')]  # fmt: skip


EXPORT_FILES = ("Playlist", "YourLibrary", "StreamingHistory", "Streaming_History")


def _rows_in(path: Path) -> int:
    """Rows of one export file, counted from the file itself (the ground truth)."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return sum(1 for _ in csv.DictReader(handle))
    doc = json.loads(path.read_text(encoding="utf-8"))
    if path.name == "YourLibrary.json":
        return len(doc["tracks"])
    if path.name.startswith("Playlist"):
        return sum(len(p["items"]) for p in doc["playlists"])
    return len(doc)


@pytest.fixture(scope="module")
def home(server_url, tmp_path_factory):
    """One database with all six people, kept as a template for the forget checks."""
    shared = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"real data not available: {shared} is absent (fresh clone)")
    name = "people_real_template"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(with_database(server_url, name))
    for person, folder in EXPORTS.items():
        path = shared / folder
        with db.connect() as conn:
            known = TrackRepository(conn).frame(KNOWN_COLUMNS)
        store_playlists(db, export_playlists(path, known, person), person, "export")
        liked = read_liked(path)
        store_candidates(db, person, "liked", liked.items, liked.accounts, liked.rejected)
        import_history(db, path, person)
    for person, folder in HISTORIES.items():
        import_history(db, shared / folder, person)
    _vectors(db)
    yield shared, db, name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_every_row_of_every_file_is_accounted_for(home):
    shared, db, _ = home
    with db.connect() as conn:
        accounts = conn.execute(
            """SELECT person, part, file, rows, stored, excluded_total, quarantined, duplicates
               FROM import_files ORDER BY person, file"""
        ).fetchall()
    files = {(p, f): rest for p, _, f, *rest in accounts}
    expected = {
        (person, path.name)
        for person, folder in {**EXPORTS, **HISTORIES}.items()
        for path in (shared / folder).iterdir()
        if path.name.startswith(EXPORT_FILES)
    }
    assert set(files) == expected
    for (person, file), (rows, stored, excluded, quarantined, duplicates) in files.items():
        assert rows == _rows_in(shared / {**EXPORTS, **HISTORIES}[person] / file), file
        assert rows == stored + excluded + quarantined + duplicates, (person, file)
    print("\n".join(f"{p} {f}: {r}" for (p, f), r in sorted(files.items())))


def test_no_play_is_lost_to_a_name_key(home):
    _, db, _ = home
    with db.connect() as conn:
        for person, artist, title in SYMBOL_ONLY:
            found = conn.execute(
                "SELECT count(*) FROM plays WHERE person = %s AND artist_name = %s "
                "AND track_name = %s",
                (person, artist, title),
            ).fetchone()[0]
            assert found >= 1, (person, artist, title)
        for person, artist, one, other in SAME_MINUTE:
            both = conn.execute(
                """SELECT count(DISTINCT track_name) FROM plays a
                   WHERE person = %s AND artist_name = %s AND track_name IN (%s, %s)
                     AND EXISTS (SELECT FROM plays b WHERE b.person = a.person
                                 AND b.ended_at = a.ended_at AND b.track_name <> a.track_name
                                 AND b.artist_name = a.artist_name)""",
                (person, artist, one, other),
            ).fetchone()[0]
            assert both == 2, (person, artist)
        quarantined = conn.execute(
            "SELECT count(*) FROM quarantine WHERE stage = 'listening_history'"
        ).fetchone()[0]
    assert quarantined == 0


@pytest.mark.parametrize("gone", [*EXPORTS, *HISTORIES])
def test_forgetting_one_person_changes_nobody_else(home, server_url, gone):
    _, _, template = home
    name = f"people_real_{gone}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        db = Database(with_database(server_url, name))
        others = [p for p in [*EXPORTS, *HISTORIES] if p != gone]
        before = {p: _snapshot(db, p) for p in others}
        with db.connect() as conn:
            report = forget(conn, gone)
        assert report.deleted["people"] == 1 and not report.cleanup_skipped
        for person in others:
            assert _snapshot(db, person) == before[person], person
            items, tracked, vectors = _coverage(db, person)
            assert items == tracked == vectors, person
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
