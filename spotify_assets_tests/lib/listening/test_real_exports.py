"""The real privacy exports in ../shared/data/histories: counts checked against the raw files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.listening.ingest import import_history, refresh_joins
from spotify_assets.lib.names import identity_key
from spotify_assets.lib.store.listening import PlayRepository

pytestmark = pytest.mark.shared_data


def _basic_dir(shared: Path) -> Path:
    return shared / "histories/listener_b_basic_export"


def _extended_dir(shared: Path) -> Path:
    return shared / "histories/listener_d_extended_export"


def _raw_rows(folder: Path) -> list[dict]:
    """Every record of the history files, read with json/csv only."""
    rows: list[dict] = []
    for file in sorted(folder.iterdir()):
        if file.name.startswith("StreamingHistory") or file.name.startswith("Streaming_History"):
            if file.suffix == ".json":
                rows += json.loads(file.read_text(encoding="utf-8"))
            else:
                with file.open(encoding="utf-8", newline="") as handle:
                    rows += list(csv.DictReader(handle))
    return rows


def test_basic_export_counts_and_reimport(db, shared_data):
    raw = _raw_rows(_basic_dir(shared_data))
    assert len(raw) == 33_773  # as the data README states
    distinct = {
        (identity_key(r["artistName"], r["trackName"]), r["endTime"], r["msPlayed"]) for r in raw
    }

    report = import_history(db, _basic_dir(shared_data), person="listener_b")
    assert report.rows_read == len(raw)
    assert report.plays == report.inserted == len(distinct)
    assert report.duplicates == len(raw) - len(distinct)
    assert report.episodes == report.audiobooks == report.bad_rows == 0
    assert report.by_source == {"basic_export": len(distinct)}
    joined = refresh_joins(db, "listener_b")
    assert joined.by_id == joined.by_name == 0  # empty catalog: every named play is a library
    assert joined.library == len(distinct) and joined.none == 0  # track

    again = import_history(db, _basic_dir(shared_data), person="listener_b")
    assert again.inserted == 0
    with db.connect() as conn:
        assert PlayRepository(conn).count("listener_b") == len(distinct)


def test_extended_export_counts(db, shared_data):
    raw = _raw_rows(_extended_dir(shared_data))
    assert len(raw) == 31_778
    episodes = [r for r in raw if r.get("spotify_episode_uri") or r.get("episode_name")]
    audiobooks = [r for r in raw if r.get("audiobook_uri") or r.get("audiobook_title")]
    music = [r for r in raw if r not in episodes and r not in audiobooks]
    first_source: dict[tuple, str] = {}  # the importer keeps a repeated play's first file
    for r in music:
        source = "extended_export" if isinstance(r["ms_played"], int) else "csv"  # csv: text
        first_source.setdefault((r["spotify_track_uri"], r["ts"], int(r["ms_played"])), source)
    distinct = set(first_source)

    report = import_history(db, _extended_dir(shared_data), person="listener_d")
    assert report.rows_read == len(raw)
    assert report.episodes == len(episodes) and report.audiobooks == len(audiobooks)
    assert report.bad_rows == 0
    assert report.plays == report.inserted == len(distinct)
    assert report.duplicates == len(music) - len(distinct)
    by_source = {s: list(first_source.values()).count(s) for s in ("extended_export", "csv")}
    assert report.by_source == by_source
    assert refresh_joins(db, "listener_d").plays == len(distinct)
    assert import_history(db, _extended_dir(shared_data), person="listener_d").inserted == 0


@pytest.mark.slow
def test_join_rates_against_tidytuesday(db, shared_data):
    load_catalog(db, shared_data / "tidytuesday/spotify_songs.parquet")
    rates = {}
    for user, folder in (("b", _basic_dir(shared_data)), ("d", _extended_dir(shared_data))):
        import_history(db, folder, person=user)
        rates[user] = refresh_joins(db, user).as_dict()
        print(f"listener {user.upper()} vs TidyTuesday:", rates[user])
    assert rates["b"]["by_id"] == 0  # basic exports carry no track ids
    assert rates["b"]["by_name"] > 0
    assert rates["d"]["by_id"] + rates["d"]["by_name"] > 0
    for join in rates.values():
        assert join["by_id"] + join["by_name"] + join["library"] + join["none"] == join["plays"]
    with db.connect() as conn:
        # a play has features only through a catalog track or a library song linked to the
        # catalog's recording of it ('name' link: its empty fields filled, `filled_from` set)
        featured_sources = dict(
            conn.execute(
                """SELECT t.source_format = 'library' AND t.filled_from IS NOT NULL, count(*)
                   FROM plays p JOIN play_joins j USING (play_key)
                   JOIN tracks t ON t.track_id = j.catalog_track_id
                   WHERE t.valence IS NOT NULL AND t.energy IS NOT NULL
                     AND (t.source_format <> 'library' OR t.filled_from IS NOT NULL)
                   GROUP BY 1"""
            ).fetchall()
        )
        unexplained = conn.execute(
            """SELECT count(*) FROM tracks
               WHERE source_format = 'library' AND filled_from IS NULL AND valence IS NOT NULL"""
        ).fetchone()[0]
    assert unexplained == 0
    assert sum(featured_sources.values()) == sum(r["with_features"] for r in rates.values())
    print("plays with features via catalog / via a linked recording:", featured_sources)
    with db.connect() as conn:
        stored = dict(
            conn.execute(
                """SELECT j.join_method, count(*) FROM plays p JOIN play_joins j USING (play_key)
                   GROUP BY 1"""
            ).fetchall()
        )
    assert stored.get("name", 0) == rates["b"]["by_name"] + rates["d"]["by_name"]
