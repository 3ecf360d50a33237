"""Validation without a database: how odd release dates and years are read."""

from datetime import date

import pandas as pd

from spotify_assets.lib.catalog import detect_format
from spotify_assets.lib.catalog.reader import RawTable
from spotify_assets.lib.catalog.validate import validate


def test_release_dates_are_read_or_nulled_with_a_note():
    dates = ["2019", "2019-05", "2019-05-17", "2019/5/1", "2019-05-17T00:00:00Z", "2019.0",
             "2019-13-01", "0000", "12/31/1999", "", "", str(date.today().year + 2)]  # fmt: skip
    years = ["", "", "", "", "", "", "", "1999", "", "1987", "19.5", ""]
    frame = pd.DataFrame(
        {
            "id": [f"t{i}" for i in range(len(dates))],
            "name": "x",
            "artists_names": "A",
            "album_release_date": dates,
            "year": years,
        }
    )
    checked = validate(RawTable(frame, "csv", "/x.csv"), detect_format(frame.columns), "-")
    tracks = checked.tracks.set_index("track_id")
    assert tracks["release_date"].tolist() == [
        "2019", "2019-05", "2019-05-17", "2019-05-01", "2019-05-17", "2019",
        None, None, None, None, None, None,
    ]  # fmt: skip
    assert [None if pd.isna(y) else y for y in tracks["release_year"]] == [
        2019, 2019, 2019, 2019, 2019, 2019, None, 1999, None, 1987, None, None,
    ]  # fmt: skip
    assert checked.quarantine == []
    assert (checked.coerced, checked.coerced_fields) == (5, {"release_date": 4, "release_year": 1})
    assert (
        checked.coerced_examples[0]
        == "line 8: release_date: 2019-13-01 is not a calendar date → null"
    )
