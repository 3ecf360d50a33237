import json
import re
import zipfile

import pandas as pd
import pytest

from spotify_assets.lib.catalog import CatalogError
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.export.playlists import (
    ExportError,
    export_playlist_id,
    read_playlist_export,
)
from spotify_assets.lib.names import match_tracks

HALO_ID = "4JehYebiI9JE8sR8MisGVb"


def track(name, artist, album="Album", uri=None):
    item = {"trackName": name, "artistName": artist, "albumName": album}
    if uri is not None:  # older exports have no trackUri at all
        item["trackUri"] = uri
    return {
        "track": item,
        "episode": None,
        "audiobook": None,
        "localTrack": None,
        "addedDate": "2021-03-04",
    }


def episode():
    return {
        "track": None,
        "episode": {"episodeName": "Ep 1", "showName": "A Show", "episodeUri": "spotify:episode:x"},
        "audiobook": None,
        "localTrack": None,
        "addedDate": "2021-03-04",
    }


def audiobook():
    return {**episode(), "episode": None, "audiobook": {"audiobookName": "A Book"}}


def local():
    return {**episode(), "episode": None, "localTrack": {"uri": "spotify:local:Me::Demo:120"}}


def playlist(name, items, description=None):
    return {
        "name": name,
        "lastModifiedDate": "2021-03-04",
        "description": description,
        "numberOfFollowers": 0,
        "items": items,
    }


def write(path, playlists):
    path.write_text(json.dumps({"playlists": playlists}), encoding="utf-8")
    return path


MAIN = [
    playlist(
        "Road trip",
        [
            track("Halo", "Beyoncé", "I Am... Sasha Fierce", f"spotify:track:{HALO_ID}"),
            episode(),
            track("Señorita (feat. Camila Cabello)", "Shawn Mendes"),
            local(),
            track("Song - Remastered 2011", "The Band", uri="spotify:local:::Song:100"),
            audiobook(),
            track("Song - 2011 Remaster", "The Band"),
        ],
        description="for the car",
    ),
    playlist("Empty", []),
]


def test_single_file(tmp_path):
    report = read_playlist_export(write(tmp_path / "Playlist1.json", MAIN))

    road, empty = export_playlist_id("Road trip"), export_playlist_id("Empty")
    assert report.playlists.to_dict("records") == [
        {
            "playlist_id": road,
            "name": "Road trip",
            "description": "for the car",
            "source": "export",
        },
        {"playlist_id": empty, "name": "Empty", "description": None, "source": "export"},
    ]
    assert report.items.drop(columns="file").to_dict("records") == [
        {
            "playlist_id": road,
            "position": 0,
            "artist": "Beyoncé",
            "title": "Halo",
            "album": "I Am... Sasha Fierce",
            "track_id": HALO_ID,
        },
        {
            "playlist_id": road,
            "position": 1,
            "artist": "Shawn Mendes",
            "title": "Señorita (feat. Camila Cabello)",
            "album": "Album",
            "track_id": None,
        },
        {
            "playlist_id": road,
            "position": 2,
            "artist": "The Band",
            "title": "Song - 2011 Remaster",
            "album": "Album",
            "track_id": None,
        },
    ]
    assert (report.skipped_episodes, report.skipped_local, report.skipped_audiobooks) == (1, 2, 1)
    assert report.skipped == 4
    assert report.as_dict()["with_track_id"] == 1 and report.files == [
        str(tmp_path / "Playlist1.json")
    ]


def test_playlist_ids_are_stable_short_and_distinct_for_repeated_names(tmp_path):
    first = export_playlist_id("Road trip")
    assert re.fullmatch(r"export:[0-9a-f]{16}", first)
    assert first == export_playlist_id("Road trip") != export_playlist_id("Road Trip")
    report = read_playlist_export(
        write(tmp_path / "Playlist1.json", [playlist("Mix", []), playlist("Mix", [])])
    )
    assert report.playlists["playlist_id"].tolist() == [
        export_playlist_id("Mix"),
        export_playlist_id("Mix", 1),
    ]
    assert report.playlists["playlist_id"].is_unique


def test_folder_reads_every_playlist_file_in_order(tmp_path):
    export = tmp_path / "Spotify Account Data"
    export.mkdir()
    write(export / "Playlist10.json", [playlist("Ten", [track("B", "b")])])
    write(export / "Playlist2.json", [playlist("Two", [track("A", "a")])])
    (export / "StreamingHistory0.json").write_text("[]", encoding="utf-8")  # ignored
    (export / "YourLibrary.json").write_text("{}", encoding="utf-8")  # ignored

    report = read_playlist_export(tmp_path)  # the parent folder works too
    assert report.playlists["name"].tolist() == ["Two", "Ten"]
    assert [f.rsplit("/", 1)[1] for f in report.files] == ["Playlist2.json", "Playlist10.json"]
    assert report.items["title"].tolist() == ["A", "B"]


def test_zip(tmp_path):
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Spotify Account Data/Playlist1.json", json.dumps({"playlists": MAIN}))
        zf.writestr("Spotify Account Data/StreamingHistory0.json", "[]")
    report = read_playlist_export(archive)
    assert report.playlists["name"].tolist() == ["Road trip", "Empty"]
    assert len(report.items) == 3 and report.skipped_episodes == 1
    assert report.files == [f"{archive}!Spotify Account Data/Playlist1.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"playlists": [{"name": "A", "items": [', "truncated JSON"),
        ('{"playlists": [}', r"invalid JSON at line 1, column 16"),
        ("", "file is empty"),
        (
            '[{"endTime": "2023-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1}]',
            "streaming-history file",
        ),
        ('[{"ts": "2023-01-01T10:00:00Z", "ms_played": 1}]', "streaming-history file"),
        ('{"tracks": [], "albums": []}', "looks like YourLibrary.json"),
        ('{"playlists": {"name": "A"}}', "'playlists' must be a list"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "Playlist1.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ExportError, match=message) as info:
        read_playlist_export(path)
    assert str(path) in str(info.value)


def test_a_bad_row_is_one_quarantined_row_and_every_item_is_accounted_for(tmp_path):
    long_name, items = "x" * 2000, [track("Halo", "Beyoncé"), track("Halo", "Beyoncé")]
    playlists = [
        {"name": "Good", "description": "tabs\tand\x00nul", "items": [
            *items, None, {"track": {"trackName": "T"}},
            {"track": {"trackName": "Ok\x07", "artistName": "A"}},
            {"track": None, "episode": {"episodeName": "E"}},
            {"track": None, "audiobook": {"audiobookName": "B"}},
            {"track": {"trackName": "Local", "artistName": "Me",
                       "trackUri": "spotify:local:Me:::Local:200"}},
        ]},
        {"items": [track("Song", "Band")]},  # no name: quarantined with its items
        {"name": long_name, "items": [track("Song", "Band"), track("Other", "Band")]},
        "not a playlist",
    ]  # fmt: skip
    report = read_playlist_export(write(tmp_path / "Playlist1.json", playlists))
    assert report.playlists["name"].tolist() == ["Good"]
    assert report.playlists["description"].tolist() == [None]  # control characters: dropped
    assert report.descriptions_dropped == 1
    assert report.items["title"].tolist() == ["Halo", "Halo"]  # duplicates count when stored
    [account] = report.accounts
    assert account.rows == 8 + 1 + 2 + 1
    assert account.excluded == {"podcast episodes": 1, "audiobooks": 1, "local files": 1}
    assert account.quarantined == 3 + 1 + 2 + 1 == len(report.rejected)
    assert account.stored == 0 and account.duplicates == 0  # both decided when stored
    reasons = [r.reason for r in report.rejected]
    assert reasons[0] == "playlist 0 ('Good'), item 2: the item is null, not an object"
    assert reasons[1] == "playlist 0 ('Good'), item 3: artistName: missing"
    assert "trackName: contains a control character" in reasons[2]
    assert reasons[3] == "playlist 1, item 0: the playlist has no name"
    assert "name: 2,000 characters, longer than the 1,000 allowed" in reasons[4]
    assert reasons[6] == "playlist 3: playlist 3 is a str, not an object"
    assert [r.line for r in report.rejected] == list(range(7))


def test_one_bad_file_fails_the_whole_folder(tmp_path):
    write(tmp_path / "Playlist1.json", MAIN)
    (tmp_path / "Playlist2.json").write_text('{"playlists": [', encoding="utf-8")
    with pytest.raises(ExportError, match=r"Playlist2\.json: truncated JSON"):
        read_playlist_export(tmp_path)


def test_missing_and_unusable_sources(tmp_path):
    with pytest.raises(ExportError, match="no such file or folder") as info:
        read_playlist_export(tmp_path / "nope.json")
    assert isinstance(info.value, InputError)  # callers' InputError handling covers exports
    assert not isinstance(info.value, CatalogError)  # an export is not a catalog
    (tmp_path / "StreamingHistory0.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ExportError, match=r"no Playlist\*\.json in this folder.*StreamingHistory0"):
        read_playlist_export(tmp_path)
    broken = tmp_path / "export.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ExportError, match="not a readable zip"):
        read_playlist_export(broken)
    empty_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("Read Me First.pdf", "x")
    with pytest.raises(ExportError, match=r"no Playlist\*\.json in this zip"):
        read_playlist_export(empty_zip)


def test_export_rows_match_a_catalog_by_uri_and_by_name(tmp_path):
    items = [
        track("Halo", "Beyoncé", uri=f"spotify:track:{HALO_ID}"),
        track("Señorita (feat. Camila Cabello)", "Shawn Mendes, Camila Cabello"),
        track("Song - Remastered 2011", "The Band"),
        track("Don’t Stop Me Now", "Queen"),
        track("Cafe Del Mar", "Energy 52"),
        track("Halo", "Someone Else"),  # right title, wrong artist
    ]
    report = read_playlist_export(write(tmp_path / "Playlist1.json", [playlist("Mix", items)]))
    catalog = pd.DataFrame(
        {
            "track_id": [HALO_ID, "t_senorita", "t_song", "t_dont_stop", "t_cafe", "t_halo2"],
            "name": [
                "Halo",
                "Señorita",
                "Song (2011 Remaster)",
                "Don't Stop Me Now - Remastered 2011",
                "Café del Mar - Original Mix",
                "Halo",
            ],
            "artists": [
                ["Beyoncé"],
                ["Shawn Mendes", "Camila Cabello"],
                ["The Band"],
                ["Queen"],
                ["Energy 52"],
                ["Beyonce"],
            ],
        }
    )
    matched, stats = match_tracks(report.items, catalog)
    assert matched.tolist() == [HALO_ID, "t_senorita", "t_song", "t_dont_stop", "t_cafe", None]
    assert (stats.by_id, stats.by_name, stats.unmatched) == (1, 4, 1)
    assert stats.rate == pytest.approx(5 / 6)
