"""An import costs what it brings: items are resolved against the stored tracks of their own
ids and name keys, and only tracks written since are analysed (real Postgres)."""

from __future__ import annotations

import pandas as pd
import psycopg

from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.catalog.artists import refresh_artist_profiles
from spotify_assets.lib.catalog.known import known_tracks
from spotify_assets.lib.catalog.library import KNOWN_COLUMNS, resolve_library
from spotify_assets.lib.playlists.ingest import store_candidates
from spotify_assets.lib.store.artists import ArtistRepository
from spotify_assets.lib.store.database import apply_migrations, load_migrations
from spotify_assets.lib.store.tracks import TRACK_COLUMNS, TrackRepository


def _row(track_id: str, name: str, artist: str, source: str = "test", **values) -> dict:
    row = {c: None for c in TRACK_COLUMNS}
    row.update(track_id=track_id, name=name, artists=[artist], source_format=source,
               source_file="t.csv", row_hash=f"h-{track_id}-{name}-{artist}")  # fmt: skip
    row.update(values)
    return row


def _unrelated(count: int) -> list[dict]:
    return [_row(f"{i:022d}", f"Filler {i}", f"Artist {i % 40}", genre="pop", energy=0.5)
            for i in range(count)]  # fmt: skip


def test_items_resolve_against_their_keys_as_against_the_whole_table(db) -> None:
    catalog = [
        _row("a" * 22, "Halo", "Beyoncé", popularity=80),
        _row("b" * 22, "Halo", "Beyonce", popularity=20),  # the same key: popularity decides
        _row("c" * 22, "Halo - Live", "Beyoncé"),  # another version: a song link
        _row("d" * 22, "Formation (feat. X) - 2016 Remaster", "Beyoncé"),
        *_unrelated(50),
    ]
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame(catalog))
    # a library row known by name, and one moved to a Spotify id (an alias)
    store_candidates(db, "p", "liked", pd.DataFrame([
        {"artist": "Nobody", "title": "Unknown Song", "album": None, "track_id": None},
        {"artist": "Somebody", "title": "Moved Song", "album": None, "track_id": None},
    ]))  # fmt: skip
    store_candidates(db, "q", "liked", pd.DataFrame([
        {"artist": "Somebody", "title": "Moved Song", "album": None, "track_id": "e" * 22},
    ]))  # fmt: skip
    items = pd.DataFrame([
        {"artist": "beyonce", "title": "HALO", "album": None, "track_id": None},
        {"artist": "Beyoncé", "title": "Halo (Acoustic)", "album": None, "track_id": None},
        {"artist": "Beyoncé feat. X", "title": "Formation", "album": None, "track_id": None},
        {"artist": "Nobody", "title": "Unknown Song", "album": None, "track_id": "f" * 22},
        {"artist": "Somebody", "title": "Moved Song", "album": None, "track_id": None},
        {"artist": "x", "title": "y", "album": None, "track_id": "0" * 22},
        {"artist": None, "title": None, "album": None, "track_id": "9" * 22},
        {"artist": "New", "title": "Brand New", "album": None, "track_id": None},
    ])  # fmt: skip
    with db.connect() as conn:
        everything = TrackRepository(conn).frame(KNOWN_COLUMNS)
        all_aliases = TrackRepository(conn).aliases()
        known, aliases = known_tracks(conn, items)
    assert len(known) < 10 < len(everything)  # only the tracks these items may be
    whole = resolve_library(items, everything, "x", all_aliases)
    keyed = resolve_library(items, known, "x", aliases)
    assert keyed.track_ids.tolist() == whole.track_ids.tolist()
    assert keyed.methods.tolist() == whole.methods.tolist()
    assert keyed.merges == whole.merges and keyed.merges  # the `lib:` row moves to its id
    pd.testing.assert_frame_equal(keyed.new_tracks, whole.new_tracks)
    assert set(keyed.new_tracks["link_method"].dropna()) == {"name", "song"}


def test_an_import_analyses_only_the_tracks_it_brings(db) -> None:
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame(_unrelated(300)))
    first = update_track_analyses(db)
    assert (first.tracks, first.written, first.name_words) == (300, 300, 300)
    assert update_track_analyses(db).tracks == 0  # nothing changed: nothing looked at

    store_candidates(db, "p", "liked", pd.DataFrame([
        {"artist": "Artist 3", "title": "Filler 3", "album": None, "track_id": None},  # stored
        {"artist": "Artist 3", "title": "A New Song", "album": None, "track_id": None},
    ]))  # fmt: skip
    report = update_track_analyses(db)
    assert (report.tracks, report.written, report.name_words) == (1, 1, 1)
    assert report.artists.catalog_tracks == 0  # a library song changes no artist profile
    assert update_track_analyses(db).tracks == 0


def test_profiles_follow_changed_catalog_tracks_as_a_full_rebuild_does(db) -> None:
    rows = [_row(f"{c}" * 22, f"Song {c}", "Old Band", genre="rock", energy=0.2 + i / 10)
            for i, c in enumerate("abc")]  # fmt: skip
    rows.append(_row("l" * 22, "Mine", "Old Band", source="library"))
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([*rows, *_unrelated(100)]))
    update_track_analyses(db)
    # two songs move to another artist (a corrected catalog): both profiles change
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([
            {**rows[0], "artists": ["New Band"], "row_hash": "moved-a"},
            {**rows[1], "artists": ["New Band"], "row_hash": "moved-b"},
        ]))  # fmt: skip
    report = update_track_analyses(db)
    assert report.tracks == 3 + 1  # the moved songs, and the songs of both artists
    assert report.artists.deleted == 1  # "old band" has one catalog song left
    with db.connect() as conn, conn.transaction():
        incremental = ArtistRepository(conn).frame().sort_values("artist_key")
        refresh_artist_profiles(conn)  # everything from the catalog: the same table
        full = ArtistRepository(conn).frame().sort_values("artist_key")
    pd.testing.assert_frame_equal(incremental.reset_index(drop=True), full.reset_index(drop=True))
    assert "new band" in set(full["artist_key"]) and "old band" not in set(full["artist_key"])
    assert update_track_analyses(db, full=True).written == 0  # every description in step


def test_rows_stored_before_migration_24_get_their_keys(empty_database_url) -> None:
    database_url = empty_database_url
    earlier = [m for m in load_migrations() if m.version < 24]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
               checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        for m in earlier:
            with conn.transaction():
                m.run(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (m.version, m.name, m.checksum),
                )
        conn.execute(
            """INSERT INTO tracks (track_id, name, artists, source_format, source_file, row_hash)
               VALUES ('a', 'Song (feat. B) - Live', '{"Band & Co"}', 'old', '-', '-'),
                      ('b', 'No Artist', '{}', 'old', '-', '-')"""
        )
    assert 24 in apply_migrations(database_url)
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT track_id, identity_key, recording_key, song_key, artist_key, keys_stale,
                      derived_stale FROM tracks ORDER BY track_id"""
        ).fetchall()
        assert rows == [("a", "band|song feat b live", "band|song live", "band|song", "band",
                         False, True),
                        ("b", None, None, None, None, False, True)]  # fmt: skip
        # a rename marks the row again; writing the keys or the marks does not
        conn.execute("UPDATE tracks SET derived_stale = false")
        conn.execute("UPDATE tracks SET name = 'Other' WHERE track_id = 'a'")
        assert conn.execute(
            "SELECT track_id, keys_stale, derived_stale FROM tracks ORDER BY 1"
        ).fetchall() == [("a", True, True), ("b", False, False)]
