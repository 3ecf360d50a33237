"""Export import on generated data: counts, start times, bad files, zip/folder equivalence."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.export.history import HistoryError, read_history
from spotify_assets.lib.listening.ingest import import_history, refresh_joins
from spotify_assets.lib.sample import write_sample
from spotify_assets.lib.store.listening import PlayRepository


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return write_sample(tmp_path_factory.mktemp("sample") / "world", n_tracks=1000)


def _records(sample) -> list[dict]:
    return json.loads((sample.history_dir / "Streaming_History_Audio_2026.json").read_text())


def _split(sample, folder: Path) -> list[Path]:
    """The sample history as two extended-export files."""
    records = _records(sample)
    folder.mkdir()
    half = len(records) // 2
    paths = [
        folder / "Streaming_History_Audio_2026_0.json",
        folder / "Streaming_History_Audio_2026_1.json",
    ]
    for path, part in zip(paths, (records[:half], records[half:]), strict=True):
        path.write_text(json.dumps(part))
    return paths


def _stored(db, person: str) -> set[tuple]:
    with db.connect() as conn:
        return set(
            conn.execute(
                "SELECT play_key, played_at, ended_at, ms_played FROM plays WHERE person = %s",
                (person,),
            ).fetchall()
        )


def test_sample_history_counts_and_start_times(db, sample):
    records = _records(sample)
    episodes = [r for r in records if r["spotify_episode_uri"]]
    assert episodes  # the generator mixes in podcast episodes
    load_catalog(db, sample.tracks_csv)

    report = import_history(db, sample.history_dir)
    assert report.rows_read == len(records)
    assert report.episodes == len(episodes) and report.audiobooks == 0
    assert report.plays == report.inserted == len(records) - len(episodes)
    assert report.bad_rows == 0 and report.by_source == {"extended_export": report.plays}
    # every sample play is of a catalog track with features
    coverage = refresh_joins(db, "me")
    assert coverage.by_id == coverage.with_features == coverage.plays == report.plays

    with db.connect() as conn:
        plays = PlayRepository(conn).load("me")
    rows = list(zip(plays["played_at"], plays["ended_at"], plays["ms_played"], strict=True))
    assert len(rows) == report.plays
    assert all(end - start == timedelta(milliseconds=int(ms)) for start, end, ms in rows)
    assert set(plays["join_method"]) == {"id"} and plays["has_features"].all()
    ends = {
        datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        for r in records
        if not r["spotify_episode_uri"]
    }
    assert {end for _, end, *_ in rows} == ends
    assert import_history(db, sample.history_dir).inserted == 0


def test_plays_without_catalog_are_kept_and_marked(db, sample):
    report = import_history(db, sample.history_dir)
    coverage = refresh_joins(db, "me")
    assert coverage.by_id + coverage.by_name == 0  # no catalog: every play is a library track
    assert coverage.library == report.plays and coverage.none == 0
    with db.connect() as conn:
        assert PlayRepository(conn).count("me") == report.plays
        assert not PlayRepository(conn).load("me")["has_features"].any()


def test_zip_folder_and_files_import_the_same(db, sample, tmp_path):
    paths = _split(sample, tmp_path / "export")
    archive = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in paths:
            zf.write(path, f"Spotify Extended Streaming History/{path.name}")
        zf.writestr("Spotify Extended Streaming History/ReadMeFirst.pdf", b"%PDF")

    from_folder = import_history(db, tmp_path / "export", person="folder")
    from_zip = import_history(db, archive, person="zip")
    from_files = [import_history(db, p, person="files") for p in paths]
    assert from_folder.plays == from_zip.plays == sum(r.plays for r in from_files)
    assert from_folder.episodes == from_zip.episodes == sum(r.episodes for r in from_files)
    assert _stored(db, "folder") == _stored(db, "zip") == _stored(db, "files")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda text: text[: len(text) // 2], "truncated JSON"),
        (lambda text: text.replace('"ts"', '"ts" ::', 1), "invalid JSON at line 1"),  # garbled
        (lambda text: json.dumps({"items": []}), "expected a JSON list"),
        (lambda text: json.dumps([{"playlist": "x"}]), "not a streaming history"),
    ],
)
def test_unreadable_file_names_it_and_writes_nothing(db, sample, tmp_path, content, message):
    _good, bad = _split(sample, tmp_path / "export")
    bad.write_text(content(bad.read_text()))
    with pytest.raises(HistoryError, match=message) as caught:
        import_history(db, tmp_path / "export")
    assert bad.name in str(caught.value)
    with db.connect() as conn:
        assert PlayRepository(conn).count() == 0


def test_wrong_kind_of_file(tmp_path):
    csv_file = tmp_path / "Streaming_History_Audio_2024.csv"
    csv_file.write_text("track_id,name\n1,a\n")
    with pytest.raises(HistoryError, match="lacks ts/ms_played") as caught:
        read_history(csv_file)
    assert str(csv_file) in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(HistoryError, match="no Spotify streaming history files"):
        read_history(tmp_path / "empty")
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(HistoryError, match="not a readable zip"):
        read_history(tmp_path / "x.zip")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(HistoryError, match=r"expected \.json, \.csv or \.zip"):
        read_history(tmp_path / "notes.txt")


def test_bad_rows_are_counted_and_quarantined(db, tmp_path):
    def play(**fields) -> dict:
        base = {
            "ts": "2024-01-01T10:00:00Z",
            "ms_played": 60_000,
            "master_metadata_track_name": "Song",
            "master_metadata_album_artist_name": "Band",
            "spotify_track_uri": "spotify:track:" + "a" * 22,
        }
        return {**base, **fields}

    records = [
        play(),
        play(ts="yesterday"),
        play(ms_played=-5),
        play(spotify_track_uri=None, master_metadata_track_name=None),
        play(spotify_track_uri="spotify:local:x"),
        play(spotify_track_uri=None, spotify_episode_uri="spotify:episode:" + "b" * 22),
        play(spotify_track_uri=None, audiobook_uri="spotify:audiobook:" + "c" * 22),
        play(spotify_track_uri=None, ts="2024-01-01T11:00:00Z"),  # joins by name only
    ]
    path = tmp_path / "endsong_0.json"
    path.write_text(json.dumps(records))
    report = import_history(db, path)
    assert (report.plays, report.bad_rows, report.episodes, report.audiobooks) == (2, 4, 1, 1)
    assert report.quarantined == 4
    with db.connect() as conn:
        reasons = dict(
            conn.execute(
                "SELECT line, reason FROM quarantine WHERE stage = 'listening_history'"
            ).fetchall()
        )
        keys = {r[0] for r in conn.execute("SELECT play_key FROM plays").fetchall()}
    assert set(reasons) == {1, 2, 3, 4}
    assert "end time" in reasons[1] and "ms_played" in reasons[2] and "URI" in reasons[4]
    assert keys == {"a" * 22, "name:band|song"}
    assert import_history(db, path).quarantined == 0  # idempotent


def test_basic_export_start_is_end_minus_ms(tmp_path):
    path = tmp_path / "StreamingHistory0.json"
    path.write_text(
        json.dumps(
            [
                {
                    "endTime": "2020-01-01 10:00",
                    "artistName": "A",
                    "trackName": "T",
                    "msPlayed": 90_500,
                },
                {
                    "endTime": "2020-01-01 10:00",
                    "artistName": "A",
                    "trackName": "T",
                    "msPlayed": 90_500,
                },
            ]
        )
    )
    history = read_history(path)
    assert history.report.duplicates == 1 and history.report.plays == 1
    row = history.plays.iloc[0]
    assert row["ended_at"] == datetime(2020, 1, 1, 10, 0, tzinfo=UTC)
    assert row["played_at"] == datetime(2020, 1, 1, 9, 58, 29, 500_000, tzinfo=UTC)
    assert row["play_key"] == "name:a|t" and row["source"] == "basic_export"
