"""Personal fields of an export never reach the database: not in plays, not in quarantine.

Distinctive values are planted in the personal fields (and in a field nobody knows) of good and
bad rows of every layout; after the import, every column of every table in `public` is
searched for them. A canary planted in an allowed field must be found by the same search, so
the search cannot pass by looking in the wrong place.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import psycopg
from psycopg import sql

from spotify_assets.lib.export.history import QUARANTINE_FIELDS, read_history
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.listening.ingest import import_history

TRACK_ID = "4uLU6hMCjMI75M1A2tKUQC"
SECRETS = {
    "ip_addr": "203.0.113.77",
    "ip_addr_decrypted": "198.51.100.99",
    "user_agent_decrypted": "PlantedAgent/9.9 (zz-secret-agent)",
    "user_agent": "PlantedUA/7.7 (zz-secret-ua)",
    "username": "planted_username_q7x",
    "offline_timestamp": "1699999999123456",
    "zz_unknown_field_k9": "planted-mystery-4242",
    "platform": "Android OS 10 API 29 (planted-maker, SM-PLANT99)",  # a device fingerprint
}
# field names alone must not leak either (a quarantine `raw` is keyed by them)
SECRET_NAMES = ("zz_unknown_field_k9", "ip_addr", "user_agent", "username", "offline_timestamp")
CANARY_GOOD = "Canary Song Kept"  # a good row's track name: must be in plays
CANARY_BAD = "Canary Song Quarantined"  # a bad row's track name: must be in quarantine.raw


def _extended(i: int, **fields) -> dict:
    return {
        "ts": f"2024-02-01T10:{i:02d}:00Z",
        "ms_played": 120_000,
        "conn_country": "FR",
        "master_metadata_track_name": CANARY_GOOD,
        "master_metadata_album_artist_name": "Band",
        "master_metadata_album_album_name": "Album",
        "spotify_track_uri": f"spotify:track:{TRACK_ID}",
        "episode_name": None,
        "episode_show_name": None,
        "spotify_episode_uri": None,
        "reason_start": "trackdone",
        "reason_end": "trackdone",
        "shuffle": False,
        "skipped": False,
        "offline": False,
        "incognito_mode": False,
        **SECRETS,
        **fields,
    }


def _basic(i: int, **fields) -> dict:
    return {
        "endTime": f"2023-03-01 08:{i:02d}",
        "artistName": "Band",
        "trackName": CANARY_GOOD,
        "msPlayed": 90_000,
        **SECRETS,
        **fields,
    }


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _export(folder: Path) -> Path:
    """A folder with every layout; 2 good and 1 bad row per readable file."""
    folder.mkdir()
    bad = {"master_metadata_track_name": CANARY_BAD}
    (folder / "Streaming_History_Audio_2024_0.json").write_text(
        json.dumps([_extended(0), _extended(1), _extended(2, ms_played=-5, **bad)])
    )
    _write_csv(
        folder / "Streaming_History_Audio_2024_1.csv",
        [_extended(10), _extended(11), _extended(12, ms_played="lots", **bad)],
    )
    (folder / "StreamingHistory_music_0.json").write_text(
        json.dumps([_basic(0), _basic(1), _basic(2, msPlayed="x", trackName=CANARY_BAD)])
    )
    (folder / "StreamingHistory_podcast_0.json").write_text(
        json.dumps([_basic(5, podcastName="Show", episodeName="Ep", trackName=None)])
    )
    (folder / "Streaming_History_Video_2024.json").write_text(
        json.dumps([_extended(20, spotify_track_uri=None, spotify_episode_uri="spotify:episode:x")])
    )
    (folder / "endsong_0.json").write_text(  # older extended export: a bad end time
        json.dumps([_extended(30), _extended(31, ts="not a time", **bad)])
    )
    return folder


def _conversion(path: Path) -> Path:
    """A notebook's final.csv that kept personal columns."""
    features = dict.fromkeys(AUDIO_FEATURES, 0.5)
    rows = [
        {"": 0, **_basic(40), "id": TRACK_ID, "uri": f"spotify:track:{TRACK_ID}", **features},
        {"": 1, **_basic(41), "id": TRACK_ID, **features},
        {"": 2, **_basic(42, msPlayed="-3", trackName=CANARY_BAD), "id": TRACK_ID, **features},
    ]
    _write_csv(path, rows)
    return path


def _found(conn: psycopg.Connection, needle: str) -> list[str]:
    """`table.column` of every column in `public` whose text holds `needle`."""
    columns = conn.execute(
        """SELECT c.table_name, c.column_name, c.data_type
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           ORDER BY 1, 2"""
    ).fetchall()
    assert {"plays", "quarantine"} <= {table for table, *_ in columns}
    textual = {"text", "character varying", "character", "json", "jsonb", "ARRAY"}
    assert any(kind in textual for *_, kind in columns)
    hits = []
    for table, column, _kind in columns:  # every column, text or not, read as text
        query = sql.SQL("SELECT count(*) FROM {} WHERE strpos({}::text, %s) > 0").format(
            sql.Identifier(table), sql.Identifier(column)
        )
        if conn.execute(query, (needle,)).fetchone()[0]:
            hits.append(f"{table}.{column}")
    return hits


def test_quarantine_keeps_only_allowed_fields(tmp_path):
    history = read_history(_export(tmp_path / "export"))
    assert len(history.rejected) == 4
    for row in history.rejected:
        assert row.raw and set(row.raw) <= QUARANTINE_FIELDS
        assert not set(row.raw) & set(SECRETS)
        assert row.raw.get("master_metadata_track_name", row.raw.get("trackName")) == CANARY_BAD
    assert not {"platform", "incognito_mode", "offline"} & QUARANTINE_FIELDS


def test_personal_fields_are_stored_nowhere(db, tmp_path):
    folder = _export(tmp_path / "export")
    report = import_history(db, folder, "someone")
    assert report.plays == 2 + 2 + 2 + 1  # per file: JSON, CSV, basic, endsong
    assert (report.bad_rows, report.quarantined) == (4, 4)
    assert report.episodes == 1 and report.videos == 1

    conversion = import_history(db, _conversion(tmp_path / "final.csv"), "someone")
    assert conversion.plays == 2 and conversion.quarantined == 1

    with db.connect() as conn:
        quarantined = conn.execute(
            "SELECT source_file, reason, raw FROM quarantine ORDER BY source_file, line"
        ).fetchall()
        assert len(quarantined) == 5  # the bad rows were quarantined: nothing vacuous here
        assert all(raw and set(raw) <= QUARANTINE_FIELDS for _, _, raw in quarantined)
        assert {Path(name).name for name, _, _ in quarantined} == {
            "Streaming_History_Audio_2024_0.json",
            "Streaming_History_Audio_2024_1.csv",
            "StreamingHistory_music_0.json",
            "endsong_0.json",
            "final.csv",
        }
        # the search does see plays and quarantine.raw
        assert "plays.track_name" in _found(conn, CANARY_GOOD)
        assert "quarantine.raw" in _found(conn, CANARY_BAD)
        assert "quarantine.raw" in _found(conn, '"ms_played"')
        for field, value in SECRETS.items():
            assert _found(conn, value) == [], f"{field} value stored"
        for name in SECRET_NAMES:
            assert _found(conn, f'"{name}') == [], f"{name} stored as a key"
