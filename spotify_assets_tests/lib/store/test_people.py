"""People in one database: every personal row references its person, and forgetting one person
leaves everyone else's rows byte for byte as they were (real Postgres)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.catalog.library import LIBRARY_FORMAT
from spotify_assets.lib.listening.ingest import import_history, join_unjoined
from spotify_assets.lib.people import PersonNameError, check_person
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import export_playlists, liked_items
from spotify_assets.lib.store.people import PersonRepository
from spotify_assets.lib.store.personal import PERSONAL_TABLES, forget
from spotify_assets.lib.store.tracks import TRACK_COLUMNS

CATALOG = [("c" * 21 + str(i), f"Catalog Song {i}", "Catalog Band") for i in range(4)]
URI = {name: (name[0].upper() * 21 + "x") for name in ("shared", "anas", "remix")}


def _catalog(db) -> None:
    from spotify_assets.lib.store.tracks import TrackRepository

    rows = []
    for track_id, name, artist in CATALOG:
        row = dict.fromkeys(TRACK_COLUMNS)
        row.update(track_id=track_id, name=name, artists=[artist], energy=0.5, valence=0.5,
                   danceability=0.5, tempo=120.0, source_format="test", source_file="t.csv",
                   row_hash=f"h-{track_id}")  # fmt: skip
        rows.append(row)
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame(rows))


def _song(title: str, artist: str, uri: str | None = None) -> dict:
    song = {"trackName": title, "artistName": artist, "albumName": "LP"}
    if uri:
        song["trackUri"] = f"spotify:track:{uri}"
    return song


def _export(folder, playlists: dict[str, list[dict]], liked: list[dict]) -> None:
    folder.mkdir()
    doc = {"playlists": [{"name": n, "items": [{"track": s} for s in songs]}
                         for n, songs in playlists.items()]}  # fmt: skip
    (folder / "Playlist1.json").write_text(json.dumps(doc))
    library = [{"artist": s["artistName"], "track": s["trackName"], "album": "LP",
                "uri": s.get("trackUri", "")} for s in liked]  # fmt: skip
    (folder / "YourLibrary.json").write_text(json.dumps({"tracks": library}))


def _basic_history(path, songs: list[tuple[str, str]], day: int) -> None:
    plays = [{"endTime": f"2024-03-{day:02d} {8 + i:02d}:00", "artistName": a, "trackName": t,
              "msPlayed": 180_000} for i, (a, t) in enumerate(songs)]  # fmt: skip
    path.write_text(json.dumps(plays))


def _extended_history(path, songs: list[tuple[str, str, str]]) -> None:
    plays = [{"ts": f"2024-04-01T{8 + i:02d}:00:00Z", "ms_played": 200_000,
              "master_metadata_track_name": t, "master_metadata_album_artist_name": a,
              "master_metadata_album_album_name": "LP", "spotify_track_uri": f"spotify:track:{u}",
              "conn_country": "DE", "ip_addr": "203.0.113.7"}
             for i, (a, t, u) in enumerate(songs)]  # fmt: skip
    path.write_text(json.dumps(plays))


def _load(db, person: str, folder) -> None:
    from spotify_assets.lib.store.tracks import TrackRepository

    with db.connect() as conn:
        known = TrackRepository(conn).frame(["track_id", "name", "artists", "popularity",
                                             "source_format"])  # fmt: skip
    store_playlists(db, export_playlists(folder, known, person), person, "export")
    store_candidates(db, person, "liked", liked_items(folder))


def _three_people(db, tmp_path) -> None:
    """ana, ben and cara share songs through every path a song is shared: ana's playlists name
    songs no catalog has (library tracks); ben only plays some of them (a basic history: known
    by name alone); cara plays one by its URI and likes another; all play a catalog song."""
    _catalog(db)
    shared = _song("Garage Demo", "Tape Band")  # no URI: a `lib:` track
    anas = _song("Only Mine", "Quiet Band", URI["anas"])
    uri_song = _song("With An Id", "Loud Band", URI["shared"])
    remix = _song("Catalog Song 1 - Remix", "Catalog Band", URI["remix"])  # links to catalog
    _export(tmp_path / "ana", {"Mix": [shared, anas, uri_song, remix],
                               "Chill": [_song("Catalog Song 0", "Catalog Band")]},
            liked=[anas, uri_song])  # fmt: skip
    _load(db, "ana", tmp_path / "ana")
    ana_history = tmp_path / "ana_history.json"
    _basic_history(ana_history, [("Tape Band", "Garage Demo"), ("Quiet Band", "Only Mine")], 1)
    import_history(db, ana_history, "ana")

    ben = tmp_path / "StreamingHistory0.json"
    _basic_history(ben, [("Tape Band", "Garage Demo"), ("Catalog Band", "Catalog Song 2"),
                         ("Loud Band", "With An Id"), ("¥$", "CARNIVAL")], 2)  # fmt: skip
    import_history(db, ben, "ben")
    _export(tmp_path / "ben", {"Ben's": [shared]}, liked=[])
    _load(db, "ben", tmp_path / "ben")

    cara = tmp_path / "Streaming_History_Audio_2024.json"
    _extended_history(cara, [("Loud Band", "With An Id", URI["shared"]),
                             ("Catalog Band", "Catalog Song 3", CATALOG[3][0])])  # fmt: skip
    import_history(db, cara, "cara")
    _export(tmp_path / "cara", {"Cara's": [remix]}, liked=[uri_song])
    _load(db, "cara", tmp_path / "cara")
    _vectors(db)


def _vectors(db) -> None:
    """A vector for every track, as a bundle's embedding step would store."""
    with db.connect() as conn, conn.transaction():
        conn.execute("""INSERT INTO model_bundles (bundle_hash, name, spec)
                        VALUES ('0123456789abcdef', 'test', '{}') ON CONFLICT DO NOTHING""")
        for (track_id,) in conn.execute("SELECT track_id FROM tracks").fetchall():
            vector = "[" + ",".join(str(x) for x in np.ones(4) / 2) + "]"
            conn.execute(
                """INSERT INTO track_embeddings (track_id, bundle_hash, content_hash, model, dims,
                       embedding) VALUES (%s, '0123456789abcdef', 'h', 'm', 4, %s::vector)
                   ON CONFLICT DO NOTHING""",
                (track_id, vector),
            )


# A person's rows, as text, table by table: what must not change when someone else goes.
_THEIRS = {
    "people": "SELECT p::text FROM people p WHERE person = %(p)s",
    "plays": "SELECT p::text FROM plays p WHERE person = %(p)s",
    "playlists": "SELECT p::text FROM playlists p WHERE person = %(p)s",
    "playlist_tracks": """SELECT m::text FROM playlist_tracks m JOIN playlists p
                          USING (playlist_id) WHERE p.person = %(p)s""",
    "candidates": "SELECT c::text FROM candidates c WHERE person = %(p)s",
    "quarantine": "SELECT q::text FROM quarantine q WHERE person = %(p)s",
    "import_files": """SELECT (person, part, file, sha256, rows, stored, excluded_total,
                              quarantined, duplicates)::text FROM import_files WHERE person = %(p)s""",
    "play_joins": """SELECT j::text FROM play_joins j
                     WHERE play_key IN (SELECT play_key FROM plays WHERE person = %(p)s)""",
    "their_tracks": """SELECT t::text FROM tracks t WHERE track_id IN (
                           SELECT j.catalog_track_id FROM play_joins j JOIN plays p
                           USING (play_key) WHERE p.person = %(p)s
                           UNION SELECT m.track_id FROM playlist_tracks m JOIN playlists p
                           USING (playlist_id) WHERE p.person = %(p)s
                           UNION SELECT track_id FROM candidates WHERE person = %(p)s)""",
    "their_vectors": """SELECT (e.track_id, e.bundle_hash, e.embedding)::text
                        FROM track_embeddings e WHERE track_id IN (
                            SELECT j.catalog_track_id FROM play_joins j JOIN plays p
                            USING (play_key) WHERE p.person = %(p)s
                            UNION SELECT m.track_id FROM playlist_tracks m JOIN playlists p
                            USING (playlist_id) WHERE p.person = %(p)s
                            UNION SELECT track_id FROM candidates WHERE person = %(p)s)""",
}


def _snapshot(db, person: str) -> dict[str, list[str]]:
    with db.connect() as conn:
        return {
            table: sorted(r[0] for r in conn.execute(query, {"p": person}).fetchall())
            for table, query in _THEIRS.items()
        }


def _coverage(db, person: str) -> tuple[int, int, int]:
    """(items, with a track row, with a vector) over the person's plays, members and liked."""
    with db.connect() as conn:
        return conn.execute(
            """WITH items AS (
                   SELECT j.catalog_track_id AS track_id FROM plays p
                   LEFT JOIN play_joins j USING (play_key) WHERE p.person = %(p)s
                   UNION ALL SELECT m.track_id FROM playlist_tracks m JOIN playlists p
                   USING (playlist_id) WHERE p.person = %(p)s
                   UNION ALL SELECT track_id FROM candidates WHERE person = %(p)s)
               SELECT count(*), count(t.track_id), count(e.track_id) FROM items i
               LEFT JOIN tracks t USING (track_id) LEFT JOIN track_embeddings e USING (track_id)""",
            {"p": person},
        ).fetchone()


def test_forgetting_one_person_leaves_the_others_byte_for_byte(db, tmp_path):
    _three_people(db, tmp_path)
    before = {p: _snapshot(db, p) for p in ("ben", "cara")}
    for person in ("ana", "ben", "cara"):
        items, tracked, vectors = _coverage(db, person)
        assert items > 0 and items == tracked == vectors, person
    # ben's plays of ana's library song are known by name only: its track must stay
    assert any("Garage Demo" in row for row in before["ben"]["their_tracks"])

    with db.connect() as conn:
        report = forget(conn, "ana")
    assert report.deleted["people"] == 1 and report.deleted["plays"] == 2
    assert report.deleted["playlists"] == 2 and report.deleted["candidates"] == 2
    assert report.kept_shared_tracks >= 2  # Garage Demo (ben), With An Id (ben, cara)
    assert report.deleted["library_tracks"] == 1  # only "Only Mine" was ana's alone
    for person in ("ben", "cara"):
        assert _snapshot(db, person) == before[person], person
        items, tracked, vectors = _coverage(db, person)
        assert items == tracked == vectors, person
    with db.connect() as conn:
        assert not PersonRepository(conn).exists("ana")
        assert conn.execute(
            "SELECT count(*) FROM tracks WHERE track_id = %s", (URI["anas"],)
        ).fetchone()[0] == 0

    with db.connect() as conn:
        forget(conn, "ben")
    assert _snapshot(db, "cara") == before["cara"]
    with db.connect() as conn:
        forget(conn, "cara")
        left = conn.execute(
            """SELECT (SELECT count(*) FROM tracks WHERE source_format = %s),
                      (SELECT count(*) FROM track_embeddings e JOIN tracks t USING (track_id)
                       WHERE t.source_format = %s),
                      (SELECT count(*) FROM play_joins), (SELECT count(*) FROM people),
                      (SELECT count(*) FROM tracks)""",
            (LIBRARY_FORMAT, LIBRARY_FORMAT),
        ).fetchone()
    assert left == (0, 0, 0, 0, len(CATALOG))  # no orphan; the catalog stays whole


def test_plays_imported_before_joins_were_recorded_keep_their_songs(db, tmp_path):
    """An older database has plays without a join on record: forget records them first."""
    _three_people(db, tmp_path)
    before = _snapshot(db, "ben")["their_tracks"]
    with db.connect() as conn, conn.transaction():
        conn.execute("DELETE FROM play_joins")  # as before joins were written at import
    with db.connect() as conn:
        skipped = forget(conn, "ana")
    assert skipped.cleanup_skipped > 0 and skipped.deleted["library_tracks"] == 0
    assert join_unjoined(db) > 0
    with db.connect() as conn:
        assert forget(conn, "nobody").cleanup_skipped == 0  # cleans what ana left
    assert _snapshot(db, "ben")["their_tracks"] == before
    items, tracked, vectors = _coverage(db, "ben")
    assert items == tracked == vectors


def test_every_table_with_a_person_references_people_and_is_forgotten(db):
    with db.connect() as conn:
        columns = {r[0] for r in conn.execute(
            """SELECT table_name FROM information_schema.columns
               WHERE table_schema = 'public' AND column_name = 'person'"""
        )}  # fmt: skip
        cascading = {r[0] for r in conn.execute(
            """SELECT c.conrelid::regclass::text FROM pg_constraint c
               WHERE c.contype = 'f' AND c.confrelid = 'people'::regclass
                 AND c.confdeltype = 'c'"""
        )}  # fmt: skip
    assert columns - {"people"} == cascading
    assert columns <= set(PERSONAL_TABLES)


def test_person_names_are_checked():
    assert check_person("listener_b.2") == "listener_b.2"
    for bad in ("", "../x", "a" * 65, "-x", "a b", None):
        with pytest.raises(PersonNameError):
            check_person(bad)
