"""Export layouts people actually have: notebook CSV conversions with audio features, the 2023+
file names (music / podcast / video), an unknown folder, and the connection country."""

from __future__ import annotations

import csv
import json
import math
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from spotify_assets.lib.export.files import HISTORY_FILE
from spotify_assets.lib.export.history import (
    PLAY_COLUMNS,
    HistoryError,
    read_history,
)
from spotify_assets.lib.features import AUDIO_FEATURES

ID_A, ID_B, ID_C = "1l77YWrGUp3qX3NS1rz7lq", "7LPLcfyDuZgOoaYu50lFRy", "3dhsXcYsa5dStmDD9W0CFl"
FEATURES_A = {
    "danceability": 0.765, "energy": 0.339, "key": 8, "loudness": -8.965, "mode": 1,
    "speechiness": 0.0365, "acousticness": 0.278, "instrumentalness": 0.0, "liveness": 0.131,
    "valence": 0.864, "tempo": 123.95,
}  # fmt: skip
FEATURES_B = {
    "danceability": 0.728, "energy": 0.0793, "key": 9, "loudness": -24.352, "mode": 0,
    "speechiness": 0.0747, "acousticness": 0.847, "instrumentalness": 0.891, "liveness": 0.177,
    "valence": 0.219, "tempo": 76.027,
}  # fmt: skip
# what the popular notebooks write: pandas' unnamed index, the API's name, a parsed datetime,
# the audio features, and the junk columns of the audio-features endpoint
FINAL_CSV_COLUMNS = [
    "", "name", "endTime", "artistName", "trackName", "msPlayed", "datetime",
    *AUDIO_FEATURES, "type", "id", "uri", "track_href", "analysis_url", "duration_ms",
    "time_signature",
]  # fmt: skip


def _final_row(i: int, end: str, artist: str, title: str, ms: int, track_id: str, **feats):
    row = {
        "": i,
        "name": title,
        "endTime": end,
        "artistName": artist,
        "trackName": title,
        "msPlayed": ms,
        "datetime": end + ":00",
        "type": "audio_features",
        "id": track_id,
        "uri": f"spotify:track:{track_id}" if track_id else "",
        "track_href": f"https://api.spotify.com/v1/tracks/{track_id}",
        "analysis_url": f"https://api.spotify.com/v1/audio-analysis/{track_id}",
        "duration_ms": 200_000,
        "time_signature": 4,
    }
    return {**row, **feats}


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _features_of(history, key: str) -> dict[str, float]:
    """Feature row of a play key, or of the play whose (conversion-added) track id is `key`."""
    if not key.startswith("name:"):
        [key] = set(history.plays.loc[history.plays["track_id"] == key, "play_key"])
    rows = history.features[history.features["track_key"] == key]
    assert len(rows) == 1, f"{key}: {len(rows)} feature rows"
    return {c: rows.iloc[0][c] for c in AUDIO_FEATURES}


def _same(found: dict[str, float], expected: dict[str, float]) -> bool:
    return all(
        (math.isnan(found[c]) and math.isnan(expected[c]))
        or math.isclose(found[c], expected[c], rel_tol=1e-12)
        for c in AUDIO_FEATURES
    )


# -- basic-export CSV conversions (final.csv) -----------------------------------------------


def test_final_csv_with_ids_and_features(tmp_path):
    rows = [
        _final_row(0, "2019-06-30 01:01", "Agapornis", "El Color", 15_513, ID_A, **FEATURES_A),
        _final_row(1, "2019-07-01 02:08", "Kasper", "hearts", 126_324, ID_B, **FEATURES_B),
        _final_row(2, "2019-07-02 09:00", "Agapornis", "El Color", 200_000, ID_A, **FEATURES_A),
    ]
    path = _write_csv(tmp_path / "final.csv", rows, FINAL_CSV_COLUMNS)
    history = read_history(path)

    report = history.report
    assert (report.rows_read, report.plays, report.bad_rows) == (3, 3, 0)
    assert report.by_source == {"csv": 3} and report.feature_values_dropped == 0
    plays = history.plays
    assert list(plays.columns) == PLAY_COLUMNS
    # keyed by name like the basic JSON it was converted from; the id is kept for the join
    assert plays["play_key"].tolist() == ["name:agapornis|el color", "name:kasper|hearts",
                                          "name:agapornis|el color"]  # fmt: skip
    assert plays["track_id"].tolist() == [ID_A, ID_B, ID_A]
    first = plays.iloc[0]
    assert first["ended_at"] == datetime(2019, 6, 30, 1, 1, tzinfo=UTC)  # minute precision
    assert (first["ended_at"] - first["played_at"]).total_seconds() == 15.513
    assert first["artist_name"] == "Agapornis" and first["track_name"] == "El Color"
    assert first["conn_country"] is None

    features = history.features
    assert list(features.columns) == ["track_key", *AUDIO_FEATURES]
    assert sorted(features["track_key"]) == ["name:agapornis|el color", "name:kasper|hearts"]
    assert all(features[c].dtype == float for c in AUDIO_FEATURES)
    expect_a = {k: float(v) for k, v in FEATURES_A.items()}
    assert _same(_features_of(history, "name:agapornis|el color"), expect_a)
    assert _same(
        _features_of(history, "name:kasper|hearts"), {k: float(v) for k, v in FEATURES_B.items()}
    )


def test_final_csv_without_feature_columns(tmp_path):
    columns = ["Unnamed: 0", "endTime", "artistName", "trackName", "msPlayed", "id"]
    rows = [
        {"Unnamed: 0": 0, "endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T",
         "msPlayed": 1000, "id": ID_C},
        {"Unnamed: 0": 1, "endTime": "2020-01-01 10:05", "artistName": "B", "trackName": "U",
         "msPlayed": 2000, "id": ""},
    ]  # fmt: skip
    history = read_history(_write_csv(tmp_path / "history_with_ids.csv", rows, columns))
    assert history.plays["play_key"].tolist() == ["name:a|t", "name:b|u"]
    assert history.plays["track_id"].tolist()[0] == ID_C
    assert history.plays["track_id"].isna().tolist() == [False, True]
    assert history.features.empty
    assert list(history.features.columns) == ["track_key", *AUDIO_FEATURES]
    assert history.report.feature_values_dropped == 0


def test_final_csv_plain_conversion_is_keyed_by_name(tmp_path):
    """A CSV of the basic JSON as it is: no ids, no features; the same plays as the JSON."""
    records = [
        {"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 90_500},
        {"endTime": "2020-01-01 10:04", "artistName": "B", "trackName": "U", "msPlayed": 1_000},
    ]
    json_path = tmp_path / "StreamingHistory0.json"
    json_path.write_text(json.dumps(records))
    csv_path = _write_csv(tmp_path / "my_history.csv", records, list(records[0]))
    from_csv, from_json = read_history(csv_path), read_history(json_path)
    columns = ["play_key", "played_at", "ended_at", "ms_played", "artist_name", "track_name"]
    assert from_csv.plays[columns].equals(from_json.plays[columns])
    assert from_csv.report.by_source == {"csv": 2}
    assert from_json.report.by_source == {"basic_export": 2}


def test_final_csv_uri_only_and_bad_ids(tmp_path):
    columns = ["endTime", "artistName", "trackName", "msPlayed", "id", "uri", *AUDIO_FEATURES]
    rows = [
        # uri only
        {"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1000,
         "uri": f"spotify:track:{ID_A}", **FEATURES_A},
        # a malformed id and no uri: kept, keyed by name, with its features under that key
        {"endTime": "2020-01-01 10:05", "artistName": "Band", "trackName": "Song",
         "msPlayed": 2000, "id": "not-an-id", **FEATURES_B},
        # a malformed id and a valid uri: the uri wins
        {"endTime": "2020-01-01 10:10", "artistName": "C", "trackName": "V", "msPlayed": 3000,
         "id": "short", "uri": f"spotify:track:{ID_C}"},
        # a valid id and a different valid uri: which one is it? neither
        {"endTime": "2020-01-01 10:15", "artistName": "D", "trackName": "W", "msPlayed": 4000,
         "id": ID_A, "uri": f"spotify:track:{ID_B}"},
        # a local-file uri
        {"endTime": "2020-01-01 10:20", "artistName": "E", "trackName": "X", "msPlayed": 5000,
         "uri": "spotify:local:E:X::200"},
    ]  # fmt: skip
    history = read_history(_write_csv(tmp_path / "enriched.csv", rows, columns))
    assert history.report.plays == 5 and history.report.bad_rows == 0
    assert history.plays["play_key"].tolist() == [  # keyed by name, as the basic export is
        "name:a|t", "name:band|song", "name:c|v", "name:d|w", "name:e|x",
    ]  # fmt: skip
    assert history.plays["track_id"].tolist()[0] == ID_A
    assert history.plays["track_id"].tolist()[2] == ID_C
    assert history.plays["track_id"].isna().tolist() == [False, True, False, True, True]
    # features only for the two rows that have them, under their play keys
    assert sorted(history.features["track_key"]) == ["name:a|t", "name:band|song"]
    assert _features_of(history, "name:band|song")["tempo"] == FEATURES_B["tempo"]


def test_feature_values_out_of_range_become_nan_and_are_counted(tmp_path):
    columns = ["endTime", "artistName", "trackName", "msPlayed", "id", *AUDIO_FEATURES]
    bad = {
        "danceability": 1.5,  # unit feature above 1
        "energy": -0.1,  # below 0
        "key": 12,  # not a pitch class
        "loudness": -70,  # below -60
        "mode": 2,
        "tempo": 300,
        "valence": "abc",  # not a number
    }
    edge = {  # the extremes are valid
        "danceability": 0, "energy": 1, "key": -1, "loudness": 5, "mode": 0, "speechiness": 1,
        "acousticness": 0, "instrumentalness": 1, "liveness": 0, "valence": 1, "tempo": 0,
    }  # fmt: skip
    all_bad = {**dict.fromkeys(AUDIO_FEATURES, 99), "loudness": -99.0, "tempo": 999}
    rows = [
        {"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1000,
         "id": ID_A, **{**FEATURES_A, **bad}},
        {"endTime": "2020-01-01 10:05", "artistName": "B", "trackName": "U", "msPlayed": 1000,
         "id": ID_B, **edge},
        {"endTime": "2020-01-01 10:10", "artistName": "C", "trackName": "V", "msPlayed": 1000,
         "id": ID_C, **all_bad},
        {"endTime": "2020-01-01 10:15", "artistName": "D", "trackName": "W", "msPlayed": 1000,
         "id": "", **{**FEATURES_B, "key": 3.5, "tempo": ""}},  # 3.5: not an integer key
    ]  # fmt: skip
    history = read_history(_write_csv(tmp_path / "features.csv", rows, columns))

    assert history.report.plays == 4  # every play is kept
    # 7 in row A, 11 in row C, the key of row D (an empty tempo is missing, not dropped)
    assert history.report.feature_values_dropped == 7 + 11 + 1
    a = _features_of(history, ID_A)
    assert all(math.isnan(a[c]) for c in bad)
    assert {c: a[c] for c in AUDIO_FEATURES if c not in bad} == {
        c: float(v) for c, v in FEATURES_A.items() if c not in bad
    }
    assert _same(_features_of(history, ID_B), {k: float(v) for k, v in edge.items()})
    d = _features_of(history, "name:d|w")
    assert math.isnan(d["key"]) and math.isnan(d["tempo"]) and d["energy"] == FEATURES_B["energy"]
    assert "name:c|v" not in set(history.features["track_key"])  # every value invalid: no row


def test_feature_rows_follow_kept_plays(tmp_path):
    """A rejected row's features are not kept; a repeated track keeps the first known values."""
    columns = ["endTime", "artistName", "trackName", "msPlayed", "id", *AUDIO_FEATURES]
    rows = [
        {"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": -1,
         "id": ID_A, **FEATURES_A},  # bad ms_played: quarantined
        {"endTime": "2020-01-01 10:05", "artistName": "B", "trackName": "U", "msPlayed": 1000,
         "id": ID_B, **{**FEATURES_B, "energy": ""}},
        {"endTime": "2020-01-01 10:10", "artistName": "B", "trackName": "U", "msPlayed": 2000,
         "id": ID_B, **FEATURES_B},
    ]  # fmt: skip
    history = read_history(_write_csv(tmp_path / "features.csv", rows, columns))
    assert history.report.bad_rows == 1 and history.report.plays == 2
    assert history.features["track_key"].tolist() == ["name:b|u"]
    assert _same(_features_of(history, ID_B), {k: float(v) for k, v in FEATURES_B.items()})


def test_final_csv_is_not_picked_from_a_folder_and_unknown_folder_says_what_to_pass(tmp_path):
    folder = tmp_path / "MyData"
    folder.mkdir()
    row = _final_row(0, "2019-06-30 01:01", "A", "T", 15_513, ID_A, **FEATURES_A)
    _write_csv(folder / "final.csv", [row], FINAL_CSV_COLUMNS)
    (folder / "YourLibrary.json").write_text("{}")
    (folder / "Playlist1.json").write_text("{}")
    with pytest.raises(HistoryError) as caught:
        read_history(folder)
    message = str(caught.value)
    assert str(folder) in message and "no Spotify streaming history files" in message
    for name in (
        "StreamingHistory*.json",
        "StreamingHistory_music_0.json",
        "StreamingHistory_podcast_0.json",
        "Streaming_History_Audio_*.json",
        "Streaming_History_Video_*.json",
        "endsong_*.json",
    ):
        assert name in message
    assert "can be passed as a file" in message

    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "final.csv", "MyData/final.csv")
    with pytest.raises(HistoryError, match=r"in this zip\. Accepted names: StreamingHistory"):
        read_history(archive)
    assert read_history(folder / "final.csv").report.plays == 1  # as a file, it is read


def test_csv_of_another_kind_names_both_layouts(tmp_path):
    path = _write_csv(tmp_path / "final.csv", [{"a": 1, "b": 2}], ["a", "b"])
    with pytest.raises(HistoryError, match=r"lacks ts/ms_played .* and endTime/msPlayed"):
        read_history(path)


# -- 2023+ file names: music, podcast, video ------------------------------------------------


def test_history_file_names():
    for name in (
        "StreamingHistory0.json",
        "StreamingHistory_music_0.json",
        "StreamingHistory_podcast_1.json",
        "Streaming_History_Audio_2023-2024_3.json",
        "Streaming_History_Audio_2024.csv",
        "Streaming_History_Video_2019-2024.json",
        "endsong_0.json",
    ):
        assert HISTORY_FILE.match(name), name
    for name in ("final.csv", "YourLibrary.json", "Playlist1.json", "StreamingHistory0.txt"):
        assert not HISTORY_FILE.match(name), name


def _basic_music(n: int) -> list[dict]:
    return [
        {
            "endTime": f"2025-01-01 10:{i:02d}",
            "artistName": f"Artist {i}",
            "trackName": f"Song {i}",
            "msPlayed": 60_000 + i,
        }
        for i in range(n)
    ]


def _video(i: int) -> dict:
    return {
        "ts": f"2024-03-01T10:{i:02d}:00Z",
        "platform": "android",
        "ms_played": 30_000,
        "conn_country": "SE",
        "master_metadata_track_name": None,
        "master_metadata_album_artist_name": None,
        "master_metadata_album_album_name": None,
        "spotify_track_uri": None,
        "episode_name": f"Video episode {i}",
        "episode_show_name": "A video podcast",
        "spotify_episode_uri": "spotify:episode:" + "v" * 22,
        "reason_start": "clickrow",
        "reason_end": "endplay",
        "shuffle": False,
        "skipped": False,
    }


def test_music_podcast_and_video_files(tmp_path):
    folder = tmp_path / "Spotify Account Data"
    folder.mkdir()
    (folder / "StreamingHistory_music_0.json").write_text(json.dumps(_basic_music(5)))
    (folder / "StreamingHistory_music_1.json").write_text(json.dumps(_basic_music(8)[5:]))
    podcasts = [
        {"endTime": "2025-01-02 08:00", "podcastName": "Show", "episodeName": "Ep 1",
         "msPlayed": 1_200_000},
        {"endTime": "2025-01-02 09:00", "podcastName": "Show", "episodeName": "Ep 2",
         "msPlayed": 600_000},
    ]  # fmt: skip
    (folder / "StreamingHistory_podcast_0.json").write_text(json.dumps(podcasts))
    videos = [_video(i) for i in range(3)]
    (folder / "Streaming_History_Video_2024.json").write_text(json.dumps(videos))
    # a video record that would be a readable track play still counts as a video
    track_like = {**_video(9), "spotify_track_uri": f"spotify:track:{ID_A}",
                  "master_metadata_track_name": "T", "master_metadata_album_artist_name": "A",
                  "spotify_episode_uri": None, "episode_name": None}  # fmt: skip
    (folder / "Streaming_History_Video_2025.json").write_text(json.dumps([track_like]))

    history = read_history(folder)
    report = history.report
    assert report.rows_read == 8 + 2 + 3 + 1
    assert report.plays == 8 and report.by_source == {"basic_export": 8}
    assert report.episodes == 2 and report.videos == 4
    assert report.audiobooks == report.bad_rows == 0 and history.rejected == []
    assert set(history.plays["track_name"]) == {f"Song {i}" for i in range(8)}
    assert not history.plays["play_key"].str.contains("show|ep|video", case=False).any()

    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in folder.iterdir():
            zf.write(file, f"Spotify Account Data/{file.name}")
    zipped = read_history(archive).report
    assert (zipped.plays, zipped.episodes, zipped.videos) == (8, 2, 4)


def test_video_file_must_still_be_a_list(tmp_path):
    path = tmp_path / "Streaming_History_Video_2024.json"
    path.write_text(json.dumps({"videos": []}))
    with pytest.raises(HistoryError, match="expected a JSON list") as caught:
        read_history(path)
    assert path.name in str(caught.value)


# -- connection country ----------------------------------------------------------------------


def _extended(i: int, country: object) -> dict:
    return {
        "ts": f"2024-05-01T12:{i:02d}:00Z",
        "ms_played": 100_000,
        "conn_country": country,
        "master_metadata_track_name": f"Song {i}",
        "master_metadata_album_artist_name": "Band",
        "spotify_track_uri": f"spotify:track:{ID_A}",
    }


def test_conn_country(tmp_path):
    countries = ["US", "se", " DE ", "ZZ", "USA", "", None, 12, "U1"]
    path = tmp_path / "Streaming_History_Audio_2024.json"
    path.write_text(json.dumps([_extended(i, c) for i, c in enumerate(countries)]))
    plays = read_history(path).plays.sort_values("played_at")
    assert list(plays.columns)[-1] == "conn_country"
    assert plays["conn_country"].tolist() == ["US", "SE", "DE"] + [None] * 6

    csv_path = tmp_path / "Streaming_History_Audio_2025.csv"
    rows = [_extended(i, c) for i, c in enumerate(["IN", "ZZ", ""])]
    _write_csv(csv_path, rows, list(rows[0]))
    from_csv = read_history(csv_path).plays.sort_values("played_at")
    assert from_csv["conn_country"].tolist() == ["IN", None, None]

    basic = tmp_path / "StreamingHistory0.json"
    basic.write_text(json.dumps(_basic_music(2)))
    assert read_history(basic).plays["conn_country"].tolist() == [None, None]
