"""Playlist and candidate sources, and storing them (real Postgres)."""

import json

import pandas as pd
import pytest

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.catalog.library import library_track_id
from spotify_assets.lib.export.files import ExportError
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import (
    PlaylistSourceError,
    export_playlists,
    ids_from_csv,
    liked_from_library,
    recent_from_history,
    recent_items,
    sample_playlists,
)
from spotify_assets.lib.sample import generate_history, generate_playlists, generate_tracks
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.tracks import TrackRepository


@pytest.fixture
def catalog(tmp_path, db):
    tracks = generate_tracks(n_tracks=200, seed=3)
    path = tmp_path / "tracks.csv"
    tracks.to_csv(path, index=False)
    load_catalog(db, path)
    return tracks


def test_sample_playlists_store_ordered_members_and_drop_unknown_tracks(tmp_path, db, catalog):
    lists = generate_playlists(catalog, seed=3)[:4]
    lists[0]["tracks"].append("UnknownTrackId00000000")
    path = tmp_path / "playlists.json"
    path.write_text(json.dumps({"playlists": lists}))
    report = store_playlists(db, sample_playlists(path), "me", "sample")
    assert report.playlists == 4
    assert report.tracks_not_in_catalog == 1
    assert report.memberships == sum(len(p["tracks"]) for p in lists) - 1
    with db.connect() as conn:
        stored = conn.execute(
            """SELECT track_id FROM playlist_tracks JOIN playlists USING (playlist_id)
               WHERE source_id = %s ORDER BY position""",
            (lists[1]["playlist_id"],),
        ).fetchall()
        person = conn.execute("SELECT DISTINCT person FROM playlists").fetchall()
    assert [r[0] for r in stored] == lists[1]["tracks"]
    assert person == [("me",)]

    # a song removed from a playlist leaves it; reloading the same data writes nothing
    removed = lists[1]["tracks"].pop(0)
    path.write_text(json.dumps({"playlists": lists}))
    again = store_playlists(db, sample_playlists(path), "me", "sample")
    assert again.memberships_removed == 1 and again.playlists_written == 0
    with db.connect() as conn:
        left = conn.execute(
            """SELECT count(*) FROM playlist_tracks JOIN playlists USING (playlist_id)
               WHERE source_id = %s AND track_id = %s""",
            (lists[1]["playlist_id"], removed),
        ).fetchone()[0]
    assert left == 0
    assert store_playlists(db, sample_playlists(path), "me", "sample").memberships_removed == 0

    # a second person who loads the same sample gets playlists of her own; mine stay as they are
    with db.connect() as conn:
        mine = conn.execute(
            "SELECT playlist_id, source_id FROM playlists WHERE person = 'me' ORDER BY 1"
        ).fetchall()
    store_playlists(db, sample_playlists(path), "ana", "sample")
    with db.connect() as conn:
        hers = conn.execute(
            "SELECT playlist_id, source_id FROM playlists WHERE person = 'ana' ORDER BY 1"
        ).fetchall()
        still_mine = conn.execute(
            "SELECT playlist_id, source_id FROM playlists WHERE person = 'me' ORDER BY 1"
        ).fetchall()
    assert still_mine == mine and len(hers) == len(mine) == 4
    assert {s for _, s in hers} == {s for _, s in mine}
    assert not {p for p, _ in hers} & {p for p, _ in mine}

    # a playlist the load no longer has goes (mine only)
    path.write_text(json.dumps({"playlists": lists[:3]}))
    assert store_playlists(db, sample_playlists(path), "me", "sample").playlists_removed == 1
    with db.connect() as conn:
        counts = dict(conn.execute("SELECT person, count(*) FROM playlists GROUP BY 1"))
    assert counts == {"me": 3, "ana": 4}


def test_export_playlists_match_by_uri_and_by_artist_and_title(tmp_path, db, catalog):
    rows = catalog.head(3)
    artists = [json.loads(a)[0] for a in rows.artists]
    items = [
        # 1: by URI
        {"track": {"trackName": "whatever", "artistName": "x", "albumName": "",
                   "trackUri": f"spotify:track:{rows.track_id.iloc[0]}"}},
        # 2: by name, spelt in capitals, no URI: the catalog's track
        {"track": {"trackName": rows.track_name.iloc[1].upper(),
                   "artistName": f"{artists[1]} feat. Someone", "albumName": ""}},
        # 2b: the same recording under a remaster note: its own track, linked by name
        {"track": {"trackName": rows.track_name.iloc[2] + " - Remastered 2011",
                   "artistName": artists[2], "albumName": ""}},
        # 3: unknown song
        {"track": {"trackName": "Not In The Catalog", "artistName": "Nobody", "albumName": ""}},
        # 4: an episode is skipped, not matched
        {"track": None, "episode": {"episodeName": "Ep 1", "showName": "Show"}},
    ]  # fmt: skip
    path = tmp_path / "Playlist1.json"
    path.write_text(json.dumps({"playlists": [{"name": "Road Songs", "items": items}]}))
    with db.connect() as conn:
        frame = TrackRepository(conn).frame(["track_id", "name", "artists", "popularity"])
    data = export_playlists(path, frame)
    assert data.items == 4 and data.unmatched == 2
    assert data.match_rate == pytest.approx(2 / 4)
    # the unknown song is a member too, as a library track named by its artist + title
    library_id = library_track_id("Nobody", "Not In The Catalog")
    remaster = library_track_id(artists[2], rows.track_name.iloc[2] + " - Remastered 2011")
    assert data.memberships["track_id"].tolist() == [
        *rows.track_id.iloc[:2], remaster, library_id
    ]
    report = store_playlists(db, data, "me", "export")
    assert report.memberships == 4 and report.match_rate == pytest.approx(0.5)
    assert report.library_tracks_added == 2 and report.tracks_not_in_catalog == 0
    with db.connect() as conn:
        assert TrackRepository(conn).sources([library_id]) == {library_id: "library"}
        linked = conn.execute(
            """SELECT t.linked_track_id, t.link_method, t.energy = c.energy, t.filled_from
               FROM tracks t JOIN tracks c ON c.track_id = t.linked_track_id
               WHERE t.track_id = %s""",
            (remaster,),
        ).fetchone()
    assert linked == (rows.track_id.iloc[2], "name", True, rows.track_id.iloc[2])


def test_candidate_lists_from_library_history_and_csv(tmp_path, db, catalog):
    ids = catalog.track_id.tolist()
    library = tmp_path / "YourLibrary.json"
    library.write_text(
        json.dumps({"tracks": [{"uri": f"spotify:track:{t}"} for t in ids[:5]] + [{"uri": ""}]})
    )
    assert liked_from_library(library) == ids[:5]
    lists = generate_playlists(catalog, seed=3)
    history = tmp_path / "history.json"
    history.write_text(json.dumps(generate_history(catalog, lists, seed=3, days=30)))
    recent = recent_from_history(history, days=7)
    assert recent and set(recent) <= set(ids)
    # a whole export folder (playlists, liked songs, the history under Spotify's name) works
    export = tmp_path / "export"
    export.mkdir()
    (export / "Streaming_History_Audio_2024.json").write_text(history.read_text())
    (export / "YourLibrary.json").write_text(library.read_text())
    assert recent_from_history(export, days=7) == recent
    csv = tmp_path / "ids.csv"
    pd.DataFrame({"track_id": [f"spotify:track:{ids[0]}", ids[1], ids[1], "nope"]}).to_csv(
        csv, index=False
    )
    assert ids_from_csv(csv) == [ids[0], ids[1], "nope"]
    report = store_candidates(db, "me", "file", ids_from_csv(csv))
    assert (report.stored, report.not_in_catalog) == (2, 1)  # an unknown id names no song
    store_candidates(db, "me", "file", ids[5:8])  # replacing the list, not appending
    with db.connect() as conn:
        assert CandidateRepository(conn).track_ids("me", "file") == ids[5:8]


def test_unreadable_sources_say_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PlaylistSourceError, match=r"bad\.json"):
        sample_playlists(bad)
    with pytest.raises(ExportError, match=r"bad\.json: invalid JSON"):
        liked_from_library(bad)
    two = tmp_path / "two.csv"
    two.write_text("a,b\n1,2\n")
    with pytest.raises(PlaylistSourceError, match="track_id"):
        ids_from_csv(two)


@pytest.mark.shared_data
def test_recent_songs_of_a_real_basic_export_folder_are_named_songs(shared_data):
    """A basic export has no URIs and no skip flag: its recent songs come by name."""
    folder = shared_data / "exports/listener_f_full_export"
    items = recent_items(folder, days=3)
    assert len(items) > 10 and items["track_id"].isna().all()
    assert items["title"].notna().all() and items["artist"].notna().all()
    assert recent_from_history(folder, days=3) == []  # ids only: none in a basic export
