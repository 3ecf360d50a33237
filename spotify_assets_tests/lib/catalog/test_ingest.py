"""Catalog loading against a real Postgres: good files, bad rows, and files that cannot load."""

import json

import pandas as pd
import pytest

from spotify_assets.lib.catalog import CatalogError, load_catalog
from spotify_assets.lib.sample import generate_tracks
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.quarantine import QuarantineRepository
from spotify_assets.lib.store.tracks import TrackRepository


@pytest.fixture
def tracks_csv(tmp_path):
    """A small catalog in the sample layout; returns (path, frame)."""
    frame = generate_tracks(n_tracks=40, seed=11)
    path = tmp_path / "tracks.csv"
    frame.to_csv(path, index=False)
    return path, frame


def table_counts(db) -> tuple[int, int, int]:
    with db.connect() as conn:
        return (
            TrackRepository(conn).count(),
            QuarantineRepository(conn).count(),
            PlaylistRepository(conn).counts()[0],
        )


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_loads_and_reload_is_a_no_op(db, tracks_csv):
    path, frame = tracks_csv
    report = load_catalog(db, path)
    assert (report.format, report.inserted, report.quarantined) == ("sample", len(frame), 0)
    again = load_catalog(db, path)
    assert (again.written, again.unchanged, again.quarantine_new) == (0, len(frame), 0)
    with db.connect() as conn:
        artists = conn.execute(
            "SELECT artists FROM tracks WHERE track_id = %s", (frame.track_id[0],)
        ).fetchone()[0]
    assert artists == json.loads(frame.artists[0])


# Files that cannot be loaded at all: a clear error, and nothing written.
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, f: f.drop(columns=["energy"]).to_csv(p, index=False), r"missing: energy"),
        (lambda p, f: p.write_bytes(b""), r"file is empty"),
        (lambda p, f: f.iloc[:0].to_csv(p, index=False), r"header but no data rows"),
        (lambda p, f: write_lines(p, ["a,b,c", "1,2,3"]), r"unknown catalog format"),
        (lambda p, f: p.with_suffix(".parquet").write_bytes(b"PAR1garbage"), None),
    ],
    ids=[
        "missing-column",
        "empty-file",
        "header-only",
        "unknown-format",
        "truncated-parquet",
    ],
)
def test_unloadable_files_fail_clearly_and_write_nothing(db, tracks_csv, make, message):
    path, frame = tracks_csv
    make(path, frame)
    if message is None:  # parquet case: the broken file is written next to the CSV
        path, message = path.with_suffix(".parquet"), r"cannot read parquet"
    with pytest.raises(CatalogError, match=message):
        load_catalog(db, path)
    assert table_counts(db) == (0, 0, 0)


# Rows broken as rows (a short or long row, raw NUL bytes, a file cut inside quotes): each is
# quarantined with its line, the rest loads; a file a spreadsheet saved as Windows-1252 loads.
def test_broken_rows_are_rows_and_windows_1252_is_read(db, tracks_csv):
    path, frame = tracks_csv
    data = path.read_bytes().decode("utf-8").splitlines(keepends=True)
    data[3] = data[3].rstrip("\n") + ",extra\n"  # line 4: one field too many
    data[6] = ",".join(data[6].split(",")[:5]) + "\n"  # line 7: cut short
    data[9] = data[9].replace(",", ",\x00", 1)  # line 10: a raw NUL byte
    data[12] = data[12].replace(frame.track_name[11], "Café del Mar", 1)
    body = "".join(data).encode("cp1252") + b'X1,"Cut off, mid'
    path.write_bytes(body)
    report = load_catalog(db, path)
    assert report.note and "Windows-1252" in report.note
    assert (report.quarantined, report.inserted) == (4, len(frame) - 3)
    with db.connect() as conn:
        reasons = dict(QuarantineRepository(conn).reasons(report.source_sha256))
        name = conn.execute(
            "SELECT name FROM tracks WHERE track_id = %s", (frame.track_id[11],)
        ).fetchone()[0]
    assert name == "Café del Mar"
    assert set(reasons) == {4, 7, 10, len(data) + 1}
    assert "the header has" in reasons[4] and "the header has" in reasons[7]
    assert "contains a NUL character" in reasons[10] and "the header has" in reasons[len(data) + 1]


# Files with some bad rows: the bad rows are quarantined with a reason, the rest loads.
@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("energy", "loud", "energy: not a number (loud)"),
        ("valence", "1.7", "valence: 1.7 outside [0, 1]"),
        ("tempo", "300", "tempo: 300.0 outside [0, 260]"),
        ("loudness", "-75", "loudness: -75.0 outside [-60, 5]"),
        ("key", "12", "key: 12.0 outside [-1, 11]"),
        ("mode", "0.5", "mode: 0.5 is not an integer"),
        ("danceability", "", "danceability: missing"),
        ("track_id", "", "track_id: missing"),
        ("track_name", "", "track_name: missing"),
    ],
)
def test_bad_rows_are_quarantined_with_reasons(db, tracks_csv, column, value, reason):
    path, frame = tracks_csv
    frame = frame.astype(str)
    frame.loc[[3, 7], column] = value
    frame.to_csv(path, index=False)
    report = load_catalog(db, path)
    assert (report.quarantined, report.inserted) == (2, len(frame) - 2)
    with db.connect() as conn:
        rows = QuarantineRepository(conn).reasons(report.source_sha256)
    assert rows == [(5, reason), (9, reason)]  # header is line 1, row 3 is line 5
    again = load_catalog(db, path)
    assert (again.quarantine_new, again.written) == (0, 0)


# Optional values that cannot be read: null with a note, counted; the row is kept.
def test_optional_values_are_coerced_not_quarantined(db, tracks_csv):
    path, frame = tracks_csv
    frame = frame.astype(str)
    frame.loc[1, "duration_ms"] = "99999.99999999999"  # float noise: rounded, no note
    frame.loc[2, "key"] = "4.0000000001"  # a required integer feature: the same
    frame.loc[3, "explicit"] = "maybe"
    frame.loc[5, "popularity"] = "abc"
    frame.loc[7, "duration_ms"] = "1e400"
    frame.loc[7, "popularity"] = "101"
    frame.loc[9, "duration_ms"] = "215000.6"  # a fraction of a millisecond: rounded, noted
    frame.loc[11, "release_date"] = "0000"  # Spotify's unknown date
    frame.to_csv(path, index=False)
    report = load_catalog(db, path)
    assert (report.quarantined, report.inserted) == (0, len(frame))
    assert report.coerced == 5
    assert report.coerced_fields == {
        "explicit": 1,
        "popularity": 2,
        "duration_ms": 2,
        "release_date": 1,
    }
    assert report.coerced_examples[0] == "line 5: explicit: not a boolean (maybe) → null"
    assert report.coerced_examples[2] == (
        "line 9: popularity: 101.0 outside [0, 100] → null; "
        "duration_ms: 1e400 is not a finite number → null"
    )
    with db.connect() as conn:
        stored = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT track_id, duration_ms, key, explicit, popularity, release_date, "
                "release_year FROM tracks"
            )
        }
    ids = frame.track_id
    assert stored[ids[1]][0] == 100000 and stored[ids[2]][1] == 4
    assert stored[ids[3]][2] is None and stored[ids[5]][3] is None
    assert stored[ids[7]][0] is None and stored[ids[7]][3] is None
    assert stored[ids[9]][0] == 215001
    assert stored[ids[11]][4:] == (None, None)
    assert stored[ids[0]][0] == int(frame.duration_ms[0])  # untouched rows stay as they were
    again = load_catalog(db, path)
    assert (again.written, again.coerced) == (0, 5)


def test_duplicate_ids_collapse_and_are_counted(db, tracks_csv):
    path, frame = tracks_csv
    pd.concat([frame, frame.iloc[:5]]).to_csv(path, index=False)
    report = load_catalog(db, path)
    assert (report.rows_read, report.duplicates, report.inserted) == (45, 5, 40)
    assert table_counts(db)[0] == 40


def test_truncated_last_row_is_quarantined(db, tracks_csv):
    path, frame = tracks_csv
    data = path.read_bytes().rstrip(b"\n")
    path.write_bytes(data[: data.rfind(b",", 0, len(data) - 40)])  # cut the last row short
    report = load_catalog(db, path)
    assert report.quarantined == 1 and report.inserted == len(frame) - 1
    with db.connect() as conn:
        [(line, reason)] = QuarantineRepository(conn).reasons(report.source_sha256)
    assert line == len(frame) + 1 and "missing" in reason


def test_a_failure_mid_write_commits_nothing(db, tracks_csv, monkeypatch):
    path, frame = tracks_csv
    frame.loc[0, "energy"] = 9.0  # one row for the quarantine, written after the tracks
    frame.to_csv(path, index=False)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(QuarantineRepository, "add", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        load_catalog(db, path)
    assert table_counts(db) == (0, 0, 0)


def test_changed_row_updates_and_rehashes(db, tracks_csv):
    path, frame = tracks_csv
    load_catalog(db, path)
    with db.connect() as conn:
        before = dict(conn.execute("SELECT track_id, row_hash FROM tracks"))
    frame.loc[4, "energy"] = 0.0123
    frame.to_csv(path, index=False)
    report = load_catalog(db, path)
    assert (report.updated, report.inserted, report.unchanged) == (1, 0, len(frame) - 1)
    with db.connect() as conn:
        after = dict(conn.execute("SELECT track_id, row_hash FROM tracks"))
        energy = conn.execute(
            "SELECT energy FROM tracks WHERE track_id = %s", (frame.track_id[4],)
        ).fetchone()[0]
    assert energy == 0.0123
    assert {k for k in before if before[k] != after[k]} == {frame.track_id[4]}


@pytest.mark.shared_data
def test_real_tidytuesday_and_kaggle_sample(db, shared_data):
    tidy = load_catalog(db, shared_data / "tidytuesday" / "spotify_songs.parquet")
    assert (tidy.format, tidy.rows_read, tidy.valid_tracks) == ("tidytuesday", 32833, 28356)
    assert tidy.duplicates == 32833 - 28356 and tidy.quarantined == 0
    assert tidy.coerced == 0
    assert tidy.playlists_written == 471
    with db.connect() as conn:
        assert TrackRepository(conn).count() == 28356
        assert conn.execute("SELECT count(DISTINCT genre) FROM tracks").fetchone()[0] == 6
        # a single-genre catalog: each track's list is its one genre
        assert conn.execute(
            "SELECT count(*) FROM tracks WHERE genres IS DISTINCT FROM ARRAY[genre]"
        ).fetchone() == (0,)
    kaggle = load_catalog(db, shared_data / "kaggle_114k" / "sample_music_dataset.csv")
    assert (kaggle.format, kaggle.valid_tracks, kaggle.quarantined) == (
        "kaggle_114k_sample",
        1000,
        0,
    )
    with db.connect() as conn:
        missing_genre = conn.execute(
            "SELECT count(*) FROM tracks WHERE source_format = 'kaggle_114k_sample' AND genre IS NULL"
        ).fetchone()[0]
        loaded = conn.execute(
            "SELECT count(*) FROM tracks WHERE source_format = 'kaggle_114k_sample'"
        ).fetchone()[0]
    assert (loaded, missing_genre) == (1000, 0)


def test_a_spotify_api_dump_loads_with_genre_lists_and_release_years(db, tmp_path):
    rows = [
        ("t1", "One", "A, B", "['rap', 'pop rap']", "2019-05-17", "", "55", "0.61"),
        ("t2", "Two", "['Tyler, The Creator']", "rap;trap", "2017-07", "", "abc", ""),
        ("t3", "Three", "C", "", "", "1999", "101", ""),
        ("", "No id", "D", "pop", "2001", "", "1", ""),
    ]
    columns = ["id", "name", "artists_names", "artist_genres", "album_release_date", "year",
               "popularity", "energy"]  # fmt: skip
    path = tmp_path / "dump.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    report = load_catalog(db, path)
    assert (report.format, report.inserted, report.quarantined) == ("spotify_api", 3, 1)
    assert (report.coerced, report.coerced_fields) == (2, {"popularity": 2})
    with db.connect() as conn:
        stored = conn.execute(
            "SELECT track_id, artists, genre, genres, release_date, release_year, popularity, "
            "energy FROM tracks ORDER BY track_id"
        ).fetchall()
        assert sorted(TrackRepository(conn).genres()) == ["pop rap", "rap", "trap"]
    assert stored == [
        ("t1", ["A", "B"], "rap;pop rap", ["rap", "pop rap"], "2019-05-17", 2019, 55, 0.61),
        ("t2", ["Tyler, The Creator"], "rap;trap", ["rap", "trap"], "2017-07", 2017, None, None),
        ("t3", ["C"], None, [], None, 1999, None, None),
    ]


def test_a_web_api_dump_naming_its_columns_track_id_and_track_name_loads(db, tmp_path):
    rows = [("t1", "One", "A;B", "Album"), ("t2", "Two", "Hank Williams, Jr.", "")]
    path = tmp_path / "dump.csv"
    pd.DataFrame(rows, columns=["track_id", "track_name", "artist_names", "album"]).to_csv(
        path, index=False
    )
    report = load_catalog(db, path, "spotify_api")
    assert (report.format, report.inserted, report.quarantined) == ("spotify_api", 2, 0)
    with db.connect() as conn:
        stored = conn.execute(
            "SELECT track_id, name, artists, album_name FROM tracks ORDER BY track_id"
        ).fetchall()
    assert stored == [("t1", "One", ["A", "B"], "Album"),
                      ("t2", "Two", ["Hank Williams, Jr."], None)]  # fmt: skip


def _float_durations(source, target):
    """The real Kaggle sample with duration_ms written as floats, as a split that went through
    seconds writes it (99999.99999999999): the shape of the 114K split that lost 130 rows."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    exact = pd.to_numeric(frame["duration_ms"])
    frame["duration_ms"] = [repr(float(v)) for v in (exact / 1000) * 1000]
    frame.to_csv(target, index=False)
    return exact, int(((exact / 1000) * 1000 != exact).sum())


@pytest.mark.shared_data
def test_real_kaggle_rows_with_float_noise_durations_are_all_kept(db, shared_data, tmp_path):
    source = shared_data / "kaggle_114k" / "sample_music_dataset.csv"
    exact, noisy = _float_durations(source, tmp_path / "noisy.csv")
    assert noisy > 0  # the file really has noise to round
    report = load_catalog(db, tmp_path / "noisy.csv")
    assert (report.valid_tracks, report.quarantined, report.coerced) == (1000, 0, 0)
    with db.connect() as conn:
        durations = conn.execute("SELECT sum(duration_ms) FROM tracks").fetchone()[0]
    assert durations == exact.sum()


def test_a_new_catalog_format_is_one_entry_in_formats(db, tmp_path, monkeypatch):
    """README "Where to change what": a new catalog layout is one `CatalogFormat` in
    lib/catalog/formats.py; detection, validation, quarantine and loading follow from it."""
    from spotify_assets.lib.catalog.formats import FEATURES, FORMATS, CatalogFormat, detect_format

    shop = CatalogFormat(
        name="record_shop",
        description="a record shop's export (uri, title, performer, style)",
        signature=frozenset({"uri", "performer", "style"}),
        required={"uri": "track_id", "title": "name", "performer": "artists", "style": "genre",
                  **{f: f for f in FEATURES}},
        optional={"issued": "release_date"},
        artists_style="semicolon",
    )
    monkeypatch.setitem(FORMATS, shop.name, shop)
    frame = generate_tracks(n_tracks=30, seed=5).rename(columns={
        "track_id": "uri", "track_name": "title", "artists": "performer", "genre": "style",
        "release_date": "issued"})  # fmt: skip
    frame = frame.drop(columns=["album_name"])
    frame["performer"] = frame["performer"].str.replace(", ", ";")
    frame["danceability"] = frame["danceability"].astype(object)
    frame.loc[3, "danceability"] = "not a number"  # a bad row is still quarantined
    path = tmp_path / "shop.csv"
    frame.to_csv(path, index=False)
    assert detect_format(frame.columns).name == "record_shop"

    report = load_catalog(db, path)
    good = frame.drop(index=3)["uri"].nunique()  # the generator repeats a few ids
    assert report.format == "record_shop" and report.quarantined == 1
    assert report.inserted == report.valid_tracks == good
    with db.connect() as conn:
        stored = TrackRepository(conn).frame()
    assert len(stored) == good
    row = stored.set_index("track_id").loc[frame.loc[0, "uri"]]
    assert row["name"] == frame.loc[0, "title"] and row["genre"] == frame.loc[0, "style"]
    assert list(row["artists"]) == frame.loc[0, "performer"].split(";")
