"""Library tracks: songs a person's library names that no catalog file has (real Postgres)."""

from __future__ import annotations

import pandas as pd
import pytest

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.catalog.library import (
    KNOWN_COLUMNS,
    LIBRARY_FORMAT,
    library_track_id,
    resolve_library,
)
from spotify_assets.lib.export.playlists import read_playlist_export
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import export_playlists, liked_items
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TRACK_COLUMNS, TrackRepository


def _catalog_row(track_id: str, **values) -> dict:
    row = {c: None for c in TRACK_COLUMNS}
    row.update(track_id=track_id, name="Song", artists=["Band"], source_format="test",
               source_file="t.csv", row_hash=f"h-{track_id}-{sorted(values.items())}")  # fmt: skip
    row.update(values)
    return row


def _known(db) -> pd.DataFrame:
    with db.connect() as conn:
        return TrackRepository(conn).frame(KNOWN_COLUMNS)


def test_library_ids_are_stable_ignore_spelling_and_keep_versions():
    one = library_track_id("Beyoncé feat. Jay-Z", "Halo")
    assert one == library_track_id("beyonce", "HALO") == library_track_id("Beyonce", "Halo!")
    assert one.startswith("lib:") and len(one) == 4 + 16
    assert library_track_id("Beyoncé", "Halo") != library_track_id("Beyoncé", "Formation")
    assert library_track_id("Beyoncé", "Halo") != library_track_id("Beyoncé", "Halo - Live")
    assert library_track_id("¥$", "CARNIVAL") != library_track_id("¥$", "VULTURES")
    assert library_track_id("", "Halo") is None and library_track_id("Band", None) is None


def test_every_named_song_gets_a_track_and_a_second_pass_adds_nothing(db):
    known = _catalog_row("a" * 22, name="Known Song", artists=["Known Band"], energy=0.7,
                         valence=0.2, genre="rock", popularity=50)  # fmt: skip
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([known]))
    live = ("Known Band", "Known Song (Live)")
    featuring = ("Known Band feat. Guest", "Known Song (feat. Guest)")
    items = pd.DataFrame(
        [
            {"artist": "x", "title": "y", "album": None, "track_id": "a" * 22},  # by id
            {"artist": "known band", "title": "KNOWN SONG!", "album": None,
             "track_id": None},  # the catalog's song, spelt otherwise: its track
            {"artist": live[0], "title": live[1], "album": None, "track_id": None},  # a version
            {"artist": featuring[0], "title": featuring[1], "album": None,
             "track_id": None},  # the same recording, credited otherwise
            {"artist": "Known Band", "title": "Known Song", "album": "Single",
             "track_id": "d" * 22},  # its own URI: its own track, linked
            {"artist": "New Artist", "title": "New Song", "album": "LP", "track_id": "b" * 22},
            {"artist": "Old Export", "title": "No Uri", "album": None, "track_id": None},
            {"artist": None, "title": None, "album": None, "track_id": "c" * 22},  # nothing
        ]
    )  # fmt: skip
    first = resolve_library(items, _known(db), "Playlist1.json")
    assert first.track_ids.tolist() == [
        "a" * 22, "a" * 22, library_track_id(*live), library_track_id(*featuring), "d" * 22,
        "b" * 22, library_track_id("Old Export", "No Uri"), None,
    ]  # fmt: skip
    assert first.methods.tolist() == ["id", "name", *["library"] * 5, "none"]
    assert (first.in_catalog, first.from_library, first.unnamed) == (2, 5, 1)
    new = first.new_tracks.set_index("track_id")
    assert new.loc["b" * 22, ["name", "album_name"]].tolist() == ["New Song", "LP"]
    assert new.loc["b" * 22, "artists"] == ["New Artist"]
    assert set(new["source_format"]) == {LIBRARY_FORMAT}
    for column in ("energy", "valence", "genre", "popularity"):  # nothing invented
        assert column not in new.columns
    # links, never merges: the same recording by name, a version by song, others none
    links = new[["linked_track_id", "link_method"]].to_dict("index")
    assert links[library_track_id(*live)] == {"linked_track_id": "a" * 22, "link_method": "song"}
    for same in (library_track_id(*featuring), "d" * 22):
        assert links[same] == {"linked_track_id": "a" * 22, "link_method": "name"}
    assert links["b" * 22] == {"linked_track_id": None, "link_method": None}
    with db.connect() as conn, conn.transaction():
        assert TrackRepository(conn).add_missing(first.new_tracks).inserted == 5
    stored = _known(db).set_index("track_id")
    with db.connect() as conn:
        filled = TrackRepository(conn).frame(["track_id", "energy", "valence", "genre",
                                              "popularity", "filled_from"]).set_index("track_id")  # fmt: skip
    # the same recording's measured fields fill the song's empty ones, saying where from;
    # a version gets nothing of the original's, and popularity (a release's) is never copied
    for same in (library_track_id(*featuring), "d" * 22):
        assert filled.loc[same, ["energy", "valence", "genre"]].tolist() == [0.7, 0.2, "rock"]
        assert filled.loc[same, "filled_from"] == "a" * 22 and pd.isna(filled.loc[same, "popularity"])
    assert filled.loc[library_track_id(*live), ["energy", "filled_from"]].isna().all()

    again = resolve_library(items, _known(db), "Playlist1.json")
    assert again.track_ids.tolist() == first.track_ids.tolist()
    assert again.new_tracks.empty and (again.in_catalog, again.from_library) == (2, 5)
    assert stored.loc["a" * 22, "source_format"] == "test"  # the catalog's row is untouched


def test_two_liked_songs_with_their_own_uris_stay_two_songs(db):
    """Remixes and re-releases a person liked keep their own ids, whatever the catalog has."""
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([_catalog_row("a" * 22, name="Unica",
                                                                artists=["Artist"])]))  # fmt: skip
    liked = pd.DataFrame(
        [
            {"artist": "Artist", "title": "Unica", "album": "LP", "track_id": "e" * 22},
            {"artist": "Artist", "title": "Unica - Remix", "album": None, "track_id": "f" * 22},
        ]
    )
    report = store_candidates(db, "me", "liked", liked)
    assert report.stored == 2
    with db.connect() as conn:
        assert CandidateRepository(conn).track_ids("me", "liked") == ["e" * 22, "f" * 22]
        links = dict(conn.execute(
            "SELECT track_id, link_method FROM tracks WHERE linked_track_id = %s", ("a" * 22,)
        ).fetchall())  # fmt: skip
    assert links == {"e" * 22: "name", "f" * 22: "song"}


def test_a_later_source_fills_gaps_and_never_wipes_a_known_value(db):
    track = "d" * 22
    full = _catalog_row(track, genre="rap", release_date="2001-02-03", release_year=2001,
                        popularity=70, energy=0.5)  # fmt: skip
    features_only = _catalog_row(track, energy=0.9, valence=0.2)  # no genre, year, popularity
    with db.connect() as conn, conn.transaction():
        repo = TrackRepository(conn)
        repo.upsert(pd.DataFrame([full]))
        assert repo.upsert(pd.DataFrame([features_only])).updated == 1
        repo.add_missing(
            pd.DataFrame([{"track_id": track, "name": "Other Spelling", "artists": [],
                           "album_name": "An Album", "source_format": LIBRARY_FORMAT,
                           "source_file": "YourLibrary.json", "row_hash": "lib"}])
        )  # fmt: skip
        row = repo.frame().set_index("track_id").loc[track]
    assert (row["genre"], row["release_year"], row["popularity"]) == ("rap", 2001, 70)
    assert (row["energy"], row["valence"]) == (0.9, 0.2)  # the new file's values win
    assert row["name"] == "Song" and row["artists"] == ["Band"]  # the library never overwrites
    assert row["album_name"] == "An Album"  # ... it only fills what was missing
    assert row["source_format"] == "test"


def test_liked_songs_become_candidates_even_outside_the_catalog(db, tmp_path):
    library = tmp_path / "YourLibrary.json"
    library.write_text(
        '{"tracks": [{"artist": "A", "album": "B", "track": "C", "uri": "spotify:track:'
        + "e" * 22
        + '"}, {"artist": "D", "album": "E", "track": "F", "uri": ""}, {"bad": 1}]}'
    )
    items = liked_items(library)
    report = store_candidates(db, "me", "liked", items)
    assert (report.stored, report.library_tracks_added, report.in_catalog) == (2, 2, 0)
    assert store_candidates(db, "me", "liked", items).library_tracks_added == 0


@pytest.mark.slow
@pytest.mark.parametrize("listener", ["listener_e_full_export", "listener_f_full_export"])
def test_a_real_export_is_stored_whole(db, shared_data, listener):
    """Every playlist item and liked song of a real export has a track row, though the catalog
    (TidyTuesday) knows only a minority of them; importing again adds nothing."""
    export = shared_data / "exports" / listener
    load_catalog(db, shared_data / "tidytuesday" / "spotify_songs.parquet")
    items = read_playlist_export(export).items
    data = export_playlists(export, _known(db))
    assert data.items == len(items) and data.match_rate < 0.6  # most songs: not in the catalog
    stored = store_playlists(db, data, "listener", "export")
    expected = len(
        items.assign(
            key=[library_track_id(a, t) for a, t in zip(items.artist, items.title, strict=True)]
        ).drop_duplicates(["playlist_id", "key"])
    )  # one member per song and playlist (ids may merge a few near-identical spellings)
    assert stored.tracks_not_in_catalog == 0
    assert stored.memberships >= 0.97 * expected and stored.library_tracks_added > 0
    with db.connect() as conn:
        _, members = PlaylistRepository(conn).frames("listener")
    assert set(members["track_id"]) <= set(_known(db)["track_id"])

    liked_songs = liked_items(export / "YourLibrary.json")
    liked = store_candidates(db, "listener", "liked", liked_songs)
    assert liked.not_in_catalog == 0  # two spellings of one song are one candidate:
    assert 0.97 * liked_songs["track_id"].nunique() <= liked.stored <= len(liked_songs)

    again = store_playlists(db, export_playlists(export, _known(db)), "listener", "export")
    assert (again.library_tracks_added, again.memberships_written) == (0, 0)
    assert store_candidates(db, "listener", "liked", liked_songs).library_tracks_added == 0


def test_a_library_track_is_described_from_what_is_known_and_again_once_features_arrive(db):
    from spotify_assets.lib.analyses.update import update_track_analyses
    from spotify_assets.lib.store.analyses import AnalysisRepository

    items = pd.DataFrame([{"artist": "Ana Tijoux", "title": "1977", "album": "1977",
                           "track_id": "f" * 22}])  # fmt: skip
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).add_missing(resolve_library(items, _known(db), "x").new_tracks)
    assert update_track_analyses(db).written == 1
    with db.connect() as conn:
        [(_, description)] = AnalysisRepository(conn).descriptions()
    assert description.startswith("1977 by Ana Tijoux (album: 1977)")
    assert not any(ch.isdigit() for ch in description.replace("1977", ""))  # no invented number
    assert update_track_analyses(db).written == 0

    features = _catalog_row("f" * 22, name="1977", artists=["Ana Tijoux"], energy=0.8,
                            valence=0.4, tempo=95.0)  # fmt: skip
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([features]))
    assert update_track_analyses(db).written == 1  # re-described once, with its features
    assert update_track_analyses(db).written == 0
    with db.connect() as conn:
        [(_, description)] = AnalysisRepository(conn).descriptions()
    assert "(0.80)" in description and "95 BPM" in description


def test_a_song_known_by_name_moves_to_its_spotify_id_when_the_uri_appears(db, tmp_path):
    """An old export item has no URI (a `lib:` track); a newer one names the same song with
    its URI: the track moves to the Spotify id and every reference follows."""
    import json

    def export(folder, items):
        folder.mkdir()
        (folder / "Playlist1.json").write_text(json.dumps({"playlists": [
            {"name": "Old", "items": [{"track": t} for t in items]}]}))  # fmt: skip
        return folder

    song = {"trackName": "Quiet Song (Remastered)", "artistName": "Band", "albumName": "LP"}
    other = {"trackName": "Other", "artistName": "Band", "albumName": "LP"}
    old = export(tmp_path / "old", [song, other])
    store_playlists(db, export_playlists(old, _known(db)), "me", "export")
    lib_id = library_track_id("Band", "Quiet Song (Remastered)")
    store_candidates(db, "me", "liked", pd.DataFrame([{"artist": "Band",
                                                        "title": "quiet song - remastered",
                                                        "album": None, "track_id": None}]))  # fmt: skip
    with db.connect() as conn:
        assert CandidateRepository(conn).track_ids("me", "liked") == [lib_id]

    uri = "4uLU6hMCjMI75M1A2tKUQC"
    new = export(tmp_path / "new", [{**song, "trackUri": f"spotify:track:{uri}"}, other])
    data = export_playlists(new, _known(db))
    assert data.merges == {lib_id: uri}
    store_playlists(db, data, "me", "export")
    with db.connect() as conn:
        _, members = PlaylistRepository(conn).frames("me")
        assert uri in set(members["track_id"]) and lib_id not in set(members["track_id"])
        assert CandidateRepository(conn).track_ids("me", "liked") == [uri]
        assert TrackRepository(conn).sources([lib_id, uri]) == {uri: LIBRARY_FORMAT}
    # and from now on the name finds the Spotify id: nothing moves or is added again
    again = export_playlists(old, _known(db))
    assert not again.merges and again.new_tracks.empty
    assert set(again.memberships["track_id"]) == set(members["track_id"])


def test_a_moved_song_named_otherwise_than_its_catalog_row_is_not_added_again(db, tmp_path):
    """A play names "Odio (feat. Drake)" (a `lib:` track linked to the catalog's "Odio"); a
    playlist then gives that name with the catalog track's URI: the `lib:` track moves there.
    Named again by a play, the song is that catalog track: a re-import adds and moves nothing
    (it once re-added, re-embedded and re-merged such songs on every import)."""
    import json

    uri = "1iLv1ieT9BZ3qsti9yTCnG"
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([_catalog_row(uri, name="Odio",
                                                                 artists=["Romeo Santos"])]))  # fmt: skip
    played = pd.DataFrame([{"artist": "Romeo Santos", "title": "Odio (feat. Drake)",
                            "album": None, "track_id": None}])  # fmt: skip
    first = resolve_library(played, _known(db), "plays")
    [lib_id] = first.new_tracks["track_id"]
    assert lib_id.startswith("lib:") and first.new_tracks["linked_track_id"].tolist() == [uri]
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).add_missing(first.new_tracks)
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Playlist1.json").write_text(json.dumps({"playlists": [{"name": "Latin", "items": [
        {"track": {"trackName": "Odio (feat. Drake)", "artistName": "Romeo Santos",
                   "albumName": "Formula", "trackUri": f"spotify:track:{uri}"}}]}]}))  # fmt: skip
    with db.connect() as conn:
        data = export_playlists(folder, _known(db), "me", TrackRepository(conn).aliases())
    assert data.merges == {lib_id: uri}
    store_playlists(db, data, "me", "export")
    with db.connect() as conn:
        aliases = TrackRepository(conn).aliases()
        assert aliases == {lib_id: uri}
        assert TrackRepository(conn).sources([lib_id]) == {}
    again = resolve_library(played, _known(db), "plays", aliases)
    assert again.track_ids.tolist() == [uri] and again.new_tracks.empty and not again.merges
    with db.connect() as conn:
        data = export_playlists(folder, _known(db), "me", TrackRepository(conn).aliases())
    assert not data.merges and data.new_tracks.empty


def test_two_people_with_a_playlist_of_the_same_name_keep_their_own(db, tmp_path):
    import json

    export = tmp_path / "Playlist1.json"
    items = [{"track": {"trackName": "Song", "artistName": "Band", "albumName": ""}}]
    export.write_text(json.dumps({"playlists": [{"name": "Chill", "items": items}]}))
    for person in ("ana", "ben"):
        store_playlists(db, export_playlists(export, _known(db), person), person, "export")
    with db.connect() as conn:
        for person in ("ana", "ben"):
            playlists, members = PlaylistRepository(conn).frames(person)
            assert playlists["name"].tolist() == ["Chill"] and len(members) == 1


def test_a_song_named_with_its_uri_is_that_track_when_later_named_alone(db, tmp_path):
    """A playlist gives "Mad World" with the URI of the catalog's "Mad World (Feat. Michael
    Andrews)"; a basic export's play names "Mad World" only. The play is that track on the
    first import, as on any later one: the order an export's parts arrive in must not decide
    what a song is (22 of F's plays moved only when the export was imported again)."""
    import json

    uri = "3JOVTQ5h8HGFnDdp4VT3MP"
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([_catalog_row(
            uri, name="Mad World (Feat. Michael Andrews)", artists=["Gary Jules"])]))  # fmt: skip
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "Playlist1.json").write_text(json.dumps({"playlists": [{"name": "Sad", "items": [
        {"track": {"trackName": "Mad World", "artistName": "Gary Jules", "albumName": "Trading",
                   "trackUri": f"spotify:track:{uri}"}}]}]}))  # fmt: skip
    with db.connect() as conn:
        data = export_playlists(folder, _known(db), "me", TrackRepository(conn).aliases())
    store_playlists(db, data, "me", "export")
    played = pd.DataFrame([{"artist": "Gary Jules", "title": "Mad World", "album": None,
                            "track_id": None}])  # fmt: skip
    with db.connect() as conn:
        aliases = TrackRepository(conn).aliases()
    assert aliases == {library_track_id("Gary Jules", "Mad World"): uri}
    first = resolve_library(played, _known(db), "plays", aliases)
    assert first.track_ids.tolist() == [uri] and first.new_tracks.empty
    # imported again, nothing is added or moved
    with db.connect() as conn:
        again = export_playlists(folder, _known(db), "me", TrackRepository(conn).aliases())
    assert not again.merges and again.new_tracks.empty


def test_a_name_two_uris_share_joins_the_same_track_on_every_import(db, tmp_path):
    """E's playlists hold "Get Low" by Lil Jon & The East Side Boyz twice, from two albums
    with two catalog URIs. The name's alias used to go to whichever URI did not have it, so a
    play naming the song alone joined the other track after every import (and co-listening
    was relearned each time). The alias goes to the first-ranked URI, whatever the item
    order, and stays there."""
    import json

    first_id, second_id = "0jrz4ZQKCsC6h2vzqgHiEp", "0r2Bul2NuCViraT2zX1l5j"
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).upsert(pd.DataFrame([
            _catalog_row(first_id, name="Get Low featuring Ying Yang Twins",
                         artists=["Lil Jon & The East Side Boyz"]),
            _catalog_row(second_id, name="Get Low", artists=["Ying Yang Twins"]),
        ]))  # fmt: skip
    played = pd.DataFrame([{"artist": "Lil Jon & The East Side Boyz", "title": "Get Low",
                            "album": None, "track_id": None}])  # fmt: skip
    joins = []
    for person, order in (("ana", (second_id, first_id)), ("ana", (second_id, first_id)),
                          ("ben", (first_id, second_id)), ("ana", (second_id, first_id))):  # fmt: skip
        folder = tmp_path / f"{person}-{order[0]}"
        folder.mkdir(exist_ok=True)
        items = [{"track": {"trackName": "Get Low", "artistName": "Lil Jon & The East Side Boyz",
                            "albumName": album, "trackUri": f"spotify:track:{uri}"}}
                 for uri, album in zip(order, ("Kings Of Crunk", "Crunkest Hits"), strict=True)]  # fmt: skip
        (folder / "Playlist1.json").write_text(
            json.dumps({"playlists": [{"name": "Crunk", "items": items}]})
        )
        with db.connect() as conn:
            data = export_playlists(folder, _known(db), person, TrackRepository(conn).aliases())
        store_playlists(db, data, person, "export")
        with db.connect() as conn:
            aliases = TrackRepository(conn).aliases()
        joins.append(resolve_library(played, _known(db), "plays", aliases).track_ids.tolist())
    assert aliases == {library_track_id("Lil Jon & The East Side Boyz", "Get Low"): first_id}
    assert joins == [[first_id]] * 4
