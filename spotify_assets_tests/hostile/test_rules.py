"""The rules behind the hostile matrix, one by one: reasons, the play window, the quarantine's
jsonb safety, the streaming size cap, and the catalog's quarantine ratio checked before the
commit (in the loader and through the Dagster asset)."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime

import dagster as dg
import pytest

from spotify_assets.defs.catalog.assets import QUARANTINE_CHECK, catalog_tracks
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.catalog import CatalogError, QuarantineRatioError, load_catalog
from spotify_assets.lib.catalog.values import check_text, parse_number
from spotify_assets.lib.export import files as export_files
from spotify_assets.lib.export import history as exports
from spotify_assets.lib.export.history import HistoryError, read_history
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.store.quarantine import (
    MAX_RAW_CHARS,
    QuarantineRecord,
    QuarantineRepository,
    safe_raw,
)
from spotify_assets_tests.dagster_helpers import check_outcomes, write_catalog

URI = "spotify:track:" + "a" * 22


def _play(minute: int, **fields) -> dict:
    return {
        "ts": f"2024-01-01T10:{minute:02d}:00Z",
        "ms_played": 60_000,
        "master_metadata_track_name": f"Song {minute}",
        "master_metadata_album_artist_name": "Band",
        "spotify_track_uri": URI,
        **fields,
    }


def _reasons(tmp_path, records: list[dict], **window) -> dict[int, str]:
    path = tmp_path / "Streaming_History_Audio_2024.json"
    path.write_text(json.dumps(records))  # NaN / Infinity as Python writes them
    return {row.line: row.reason for row in read_history(path, **window).rejected}


def test_reasons_name_the_field_and_what_is_wrong(tmp_path):
    reasons = _reasons(
        tmp_path,
        [
            _play(0),
            _play(1, ms_played=math.nan),
            _play(2, ts="2098-01-01T00:00:00Z"),
            _play(3, ts="0001-01-01T00:00:00Z"),
            _play(4, master_metadata_track_name="a\x00b"),
            _play(5, master_metadata_track_name="x" * 1001),
            _play(6, master_metadata_album_artist_name={"name": "Band"}),
            _play(7, ms_played=math.inf),
            _play(8, ts="2008-10-01T00:00:10Z"),  # ends after the launch, started before it
            _play(9, platform={"deep": [[["x"]]]}, offline_timestamp=math.nan),  # not stored
            _play(10, reason_start="click\x07row"),
        ],
    )
    assert reasons == {
        1: "ms_played: NaN is not a finite number",
        2: "ts: 2098-01-01 is after the latest plausible play (" + reasons[2][-11:],
        3: "ts: 0001-01-01 is before the earliest plausible play (2008-10-01, Spotify's launch)",
        4: "master_metadata_track_name: contains a NUL character",
        5: "master_metadata_track_name: 1,001 characters, longer than the 1,000 allowed",
        6: "master_metadata_album_artist_name: expected text, got an object",
        7: "ms_played: infinity is not a finite number",
        8: "ts: the play would start 2008-09-30, before the earliest plausible play "
        "(2008-10-01, Spotify's launch)",
        10: "reason_start: contains a control character (U+0007)",
    }


def test_the_play_window_is_configurable(tmp_path):
    records = [_play(0), _play(1, ts="2015-06-01T00:00:00Z"), _play(2, ts="2030-01-01T00:00:00Z")]
    default = _reasons(tmp_path, records)
    assert set(default) == {2}  # 2015 is plausible by default, 2030 is not (yet)
    narrow = _reasons(
        tmp_path, records, earliest="2020-01-01", latest=datetime(2031, 1, 1, tzinfo=UTC)
    )
    assert set(narrow) == {1}
    assert narrow[1] == "ts: 2015-06-01 is before the earliest plausible play (2020-01-01)"
    with pytest.raises(ValueError, match="empty play window"):
        read_history(tmp_path, earliest="2024-01-01", latest="2023-01-01")


def test_value_rules():
    assert parse_number(" 61000 ") == (61000.0, None)
    assert parse_number(-0.0) == (-0.0, None)
    assert parse_number(10**5000)[1] == "infinity is not a finite number"
    assert parse_number(True)[1] == "expected a number, got true"
    assert parse_number([1])[1] == "expected a number, got a list"
    assert parse_number("")[1] is None and parse_number(None) == (None, None)
    assert check_text("Beyoncé – Ünïcødé ✓") is None
    assert check_text("a\ud800") == "contains an invalid character (an unpaired UTF-16 surrogate)"
    assert check_text(12) == "expected text, got a number"


def test_quarantine_makes_any_raw_storable(db):
    hostile = {
        "nan": math.nan,
        "inf": math.inf,
        "-inf": -math.inf,
        "nul": "a\x00b\x07c",
        "surrogate": "x\ud800y",
        "long": "n" * 5000,
        "deep": [[[[[["bottom"]]]]]],
        "huge": 10**40,
        "bytes": b"\x00\x01",
        "when": datetime(2020, 1, 1, tzinfo=UTC),
        "key\x00": 1,
    }
    records = [
        QuarantineRecord(0, "bad\x00reason", "id\x00", hostile),
        QuarantineRecord(1, "big", None, {f"f{i}": "v" * 900 for i in range(200)}),
    ]
    with db.connect() as conn:
        assert QuarantineRepository(conn).add("test", "file\x01.json", "sha", records) == 2
        rows = conn.execute(
            "SELECT reason, record_id, raw FROM quarantine ORDER BY line"
        ).fetchall()
        assert conn.execute("SELECT source_file FROM quarantine").fetchone()[0] == "file.json"
    (reason, record_id, raw), (_, _, big) = rows
    assert (reason, record_id) == ("badreason", "id")
    assert (raw["nan"], raw["inf"], raw["-inf"]) == ("NaN", "inf", "-inf")
    assert raw["nul"] == "abc" and raw["surrogate"] == "x\ufffdy" and raw["key"] == 1
    assert raw["long"].startswith("n" * 1000) and raw["long"].endswith("[cut: 5,000 characters]")
    assert raw["deep"] == [[["<list nested too deep>"]]]
    assert raw["huge"] == "<integer of 133 bits>" and raw["bytes"] == "<2 bytes>"
    assert raw["when"] == "2020-01-01T00:00:00+00:00"
    assert len(json.dumps(big)) < MAX_RAW_CHARS + 2000 and "_cut" in big


def test_safe_raw_keeps_plain_records_as_they_are():
    record = {"ts": "2024-01-01T10:00:00Z", "ms_played": -5, "shuffle": True, "name": None}
    assert safe_raw(record) == record
    assert safe_raw("not a dict") == {"value": "not a dict"}


class _Endless(io.RawIOBase):
    """A stream that never ends, whatever a header said about its size."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 1 << 20 if size is None or size < 0 else size
        self.served += size
        return (b"[" if self.served == size else b"") + b" " * (size - (self.served == size))


def test_a_member_is_read_in_chunks_and_stopped_at_the_cap():
    stream = _Endless()
    with pytest.raises(HistoryError, match="larger than the 3,145,728-byte limit") as caught:
        export_files._read(
            stream, export_files.ExportFile("x.zip!Streaming_History_Audio_2024.json", "history"),
            3 << 20, exports.HistoryError,
        )  # fmt: skip
    assert "x.zip!Streaming_History_Audio_2024.json" in str(caught.value)
    assert stream.served <= (3 << 20) + export_files._CHUNK  # it stopped, it did not read on


def test_a_too_large_file_in_a_folder_is_refused(tmp_path):
    path = tmp_path / "StreamingHistory0.json"
    path.write_text(json.dumps([{"endTime": "2020-01-01 10:00", "msPlayed": 1}]) + " " * 5000)
    with pytest.raises(HistoryError, match="larger than the 1,000-byte limit"):
        read_history(tmp_path, max_file_bytes=1000)
    assert read_history(tmp_path).report.rows_read == 1


def test_an_escaping_symlink_writes_nothing(db, tmp_path):
    folder, outside = tmp_path / "export", tmp_path / "outside"
    folder.mkdir(), outside.mkdir()
    (folder / "StreamingHistory0.json").write_text(
        json.dumps(
            [{"endTime": "2020-01-01 10:00", "artistName": "A", "trackName": "T", "msPlayed": 1}]
        )
    )
    (outside / "secret.json").write_text("[]")
    (folder / "StreamingHistory1.json").symlink_to(outside / "secret.json")
    with pytest.raises(
        HistoryError, match=r"StreamingHistory1\.json: a symbolic link to .*outside"
    ):
        import_history(db, folder, "me")
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM plays").fetchone()[0] == 0


def _ten_percent_bad(tmp_path):
    path, frame = write_catalog(tmp_path, n_tracks=200, seed=9)
    frame = frame.astype(str)
    frame.loc[::10, "energy"] = "inf"  # 20 of 200 rows
    frame.loc[5, "track_name"] = "a\x00b"  # one more: 21 rows, 10.5%
    frame.to_csv(path, index=False)
    return path


def test_the_ratio_is_checked_before_anything_is_written(db, tmp_path):
    path = _ten_percent_bad(tmp_path)
    with pytest.raises(QuarantineRatioError) as caught:
        load_catalog(db, path, max_quarantine_ratio=0.05)
    message = str(caught.value)
    assert isinstance(caught.value, CatalogError)
    for part in (
        "21 of 200 rows rejected",
        "ratio 10.50%",
        "threshold 5.00%",
        "nothing was written",
    ):
        assert part in message
    assert "line 2: energy: inf is not a finite number" in message
    assert "track_name: contains a NUL character" in message
    assert str(path.name) in message
    assert caught.value.report.quarantined == 21 and caught.value.report.inserted == 0
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
    report = load_catalog(db, path, max_quarantine_ratio=0.11)  # under a looser threshold
    assert (report.inserted, report.quarantined) == (179, 21)


def test_the_asset_refuses_before_the_commit_and_the_check_reports(
    database_url, instance, db, tmp_path
):
    path = _ten_percent_bad(tmp_path)
    result = dg.materialize(
        [catalog_tracks],
        resources={"database": DatabaseResource(url=database_url)},
        instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(path)}}}},
        raise_on_error=False,
    )
    assert not result.success
    assert check_outcomes(result) == {QUARANTINE_CHECK: False}
    [evaluation] = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert "nothing was written" in evaluation.event_specific_data.description
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
