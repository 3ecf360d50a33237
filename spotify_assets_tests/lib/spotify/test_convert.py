import pandas as pd

from spotify_assets.lib.spotify import memberships_frame, playlists_frame, tracks_frame
from spotify_assets_tests.fake_spotify import local_item, make_track, track_item


def test_playlists_frame():
    playlists = [
        {"id": "p1", "name": "Gym", "description": "", "snapshot_id": "s1"},
        {"id": "p2", "name": "Calm", "description": "evenings", "snapshot_id": "s2"},
    ]
    frame = playlists_frame(playlists, person="ana")
    assert list(frame.columns) == [
        "playlist_id", "name", "description", "person", "snapshot_id", "source"
    ]  # fmt: skip
    assert frame.to_dict("records")[1] == {
        "playlist_id": "p2",
        "name": "Calm",
        "description": "evenings",
        "person": "ana",
        "snapshot_id": "s2",
        "source": "spotify",
    }
    assert pd.isna(frame.at[0, "description"])  # "" means no description


def test_memberships_keep_order_and_first_position_of_repeats():
    a, b, c = (make_track(n) for n in range(3))
    items = [track_item(b), track_item(a), local_item(), track_item(b), track_item(c)]
    frame = memberships_frame("p1", items)
    assert frame.to_dict("list") == {
        "playlist_id": ["p1"] * 3,
        "track_id": [b["id"], a["id"], c["id"]],
        "position": [0, 1, 2],
    }
    assert memberships_frame("p1", []).columns.tolist() == ["playlist_id", "track_id", "position"]


def test_tracks_frame_from_items_and_bare_tracks():
    first = make_track(
        1,
        name="Halo",
        artists=["Beyoncé", "Guest"],
        album="I Am",
        release_date="2008",
        popularity=80,
        duration_ms=261_640,
        explicit=True,
    )
    second = make_track(2, release_date="1999-05")
    frame = tracks_frame([track_item(first), second, first, None, local_item()])

    assert frame["track_id"].tolist() == [first["id"], second["id"]]
    row = frame.iloc[0]
    assert row["name"] == "Halo" and row["artists"] == ["Beyoncé", "Guest"]
    assert row["album_name"] == "I Am" and row["album_id"] == first["album"]["id"]
    assert row["release_date"] == "2008" and row["release_year"] == 2008
    assert (row["popularity"], row["duration_ms"], bool(row["explicit"])) == (80, 261_640, True)
    assert frame.iloc[1]["release_year"] == 1999
    assert str(frame["popularity"].dtype) == "Int64" and str(frame["explicit"].dtype) == "boolean"
    assert tracks_frame([]).shape == (0, 10)
