"""Real layouts in ../shared/data: a notebook's final.csv with audio features (listener B) and
a 2025 export with StreamingHistory_music_N.json (listener F); counts checked against the raw
files read with csv/json only."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from spotify_assets.lib.export.history import read_history
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.listening.ingest import import_history
from spotify_assets.lib.names import identity_key

pytestmark = pytest.mark.shared_data


def _final_csv(shared: Path) -> Path:
    return shared / "histories/listener_b_basic_export/final.csv"


def _listener_f(shared: Path) -> Path:
    return shared / "exports/listener_f_full_export"


def _count(conn, person: str) -> int:
    return conn.execute("SELECT count(*) FROM plays WHERE person = %s", (person,)).fetchone()[0]


def test_final_csv_plays_and_features(db, shared_data):
    with _final_csv(shared_data).open(encoding="utf-8", newline="") as handle:
        raw = list(csv.DictReader(handle))
    assert len(raw) == 9_977  # as the data README states
    assert all(r["uri"] == f"spotify:track:{r['id']}" for r in raw)
    # A play is (artist + title, start), as in the basic export it was converted from; start =
    # end - msPlayed. (The notebook looked ids up by title: 113 ids stand for several songs.)
    distinct = {
        (identity_key(r["artistName"], r["trackName"]), r["endTime"], r["msPlayed"]) for r in raw
    }

    history = read_history(_final_csv(shared_data))
    report = history.report
    print("final.csv:", report)
    assert report.rows_read == 9_977 and report.bad_rows == 0
    assert report.plays == len(distinct) and report.duplicates == len(raw) - len(distinct)
    assert report.by_source == {"csv": len(distinct)}
    assert report.feature_values_dropped == 0  # every value of this file is in range
    plays = history.plays
    assert plays["track_id"].notna().all() and plays["play_key"].str.startswith("name:").all()
    assert plays["ended_at"].dt.second.eq(0).all()  # endTime has minute precision

    # features for every play, one row per play key, equal to the file's values
    features = history.features.set_index("track_key")
    assert features.index.is_unique
    assert set(features.index) == set(plays["play_key"])
    assert features[list(AUDIO_FEATURES)].notna().all().all()
    first_by_key: dict[str, dict] = {}
    for r in raw:
        first_by_key.setdefault("name:" + identity_key(r["artistName"], r["trackName"]), r)
    for key, r in list(first_by_key.items())[:200]:
        for column in AUDIO_FEATURES:
            assert math.isclose(features.at[key, column], float(r[column]), rel_tol=1e-12)

    stored = import_history(db, _final_csv(shared_data), person="listener_b_csv")
    assert stored.plays == stored.inserted == len(distinct)
    with db.connect() as conn:
        assert _count(conn, "listener_b_csv") == len(distinct)
    assert import_history(db, _final_csv(shared_data), person="listener_b_csv").inserted == 0


def test_listener_f_music_files(db, shared_data):
    folder = _listener_f(shared_data)
    files = sorted(folder.glob("StreamingHistory_music_*.json"))
    assert [f.name for f in files] == [
        "StreamingHistory_music_0.json",
        "StreamingHistory_music_1.json",
    ]
    raw = [r for f in files for r in json.loads(f.read_text(encoding="utf-8"))]
    assert len(raw) == 15_704
    exact = {json.dumps(r, sort_keys=True) for r in raw}  # the ground truth: distinct rows
    assert len(exact) == len(raw)

    report = import_history(db, folder, person="listener_f")
    print("listener F:", report)
    assert report.files == [str(f) for f in files]  # Playlist1.json, YourLibrary.json skipped
    assert report.rows_read == len(raw)
    # every row is a play: none lost to a name key (":)" by The Japanese House included)
    assert report.bad_rows == report.quarantined == report.duplicates == 0
    assert report.plays == report.inserted == len(raw)
    assert report.episodes == report.audiobooks == report.videos == 0
    assert report.by_source == {"basic_export": len(raw)}
    with db.connect() as conn:
        assert _count(conn, "listener_f") == len(raw)
        smiley = conn.execute(
            "SELECT play_key FROM plays WHERE track_name = ':)' AND person = 'listener_f'"
        ).fetchall()
    assert smiley == [("name:the japanese house|:)",)]
