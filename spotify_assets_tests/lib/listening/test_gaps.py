"""A year missing from an export is a gap in the data, not a year of silence: the retrain says
so and keeps its hours out of every fold, the dashboard says so and draws the weekly chart with
a visible gap."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening.gaps import GAP_DAYS, find_gaps, in_gaps
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import START, stable_history

BEFORE, MISSING, AFTER = 70, 365, 40  # days with plays, the missing year, days with plays


def history_with_a_missing_year(seed: int = 3, person: str = "gap") -> pd.DataFrame:
    """70 days of plays, a year without any, then 40 more days: sessionized like load_sessions."""
    plays = stable_history(seed, days=BEFORE + MISSING + AFTER, person=person)
    day = (plays["played_at"] - START) / pd.Timedelta(days=1)
    plays = plays[(day < BEFORE) | (day >= BEFORE + MISSING)].reset_index(drop=True)
    plays = sessionize(plays)
    plays["has_features"] = plays["valence"].notna()
    plays["play_key"] = plays["track_id"].fillna("unknown")
    return plays


@pytest.fixture(scope="module")
def plays() -> pd.DataFrame:
    return history_with_a_missing_year()


def test_a_month_without_plays_is_a_gap_and_a_holiday_is_not():
    t = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-15", "2024-02-12", "2024-03-20"], utc=True))
    gaps = find_gaps(t)  # 14 days of silence, then exactly 28, then 37
    assert [(g.last_before.day, g.first_after.day, g.weeks) for g in gaps] == [(15, 12, 4), (12, 20, 5)]
    assert GAP_DAYS == 28
    hours = pd.Series(pd.date_range("2024-01-15", "2024-02-13", freq="h", tz="UTC"))
    inside = in_gaps(hours, gaps, pd.Timedelta(hours=1))
    # the hours holding the plays on either side are data, every hour between them is not
    assert not inside[0] and inside[1] and inside[-26] and not inside[-25]
    assert find_gaps(t.iloc[:1]) == [] and find_gaps(t.iloc[:2]) == []


def test_the_retrain_names_the_gap_and_keeps_its_hours_out_of_every_fold(plays):
    from spotify_assets.lib.listening.models import time_boundaries
    from spotify_assets.lib.listening.retrain import Clustering, retrain

    b1, b2 = time_boundaries(plays["played_at"])  # the retrain's split, as mood_clusters finds it
    clustering = Clustering((b1, b2), None, "moods are not what this test is about")
    first_after = plays["played_at"][plays["played_at"] >= START + pd.Timedelta(days=BEFORE + 1)].min()
    assert b1 < first_after < b2  # the validation weeks span the missing year
    run = retrain(plays, clustering, "gap", n_boot=50)

    [gap] = run.summary["gaps"]
    assert gap["weeks"] == (MISSING - 1) // 7 or gap["weeks"] == MISSING // 7
    folds = run.summary["folds"]
    # validation: a few days before the gap and a few weeks after it, never the year between
    validation = folds["validation"]
    assert validation["weeks_with_plays"] < 12
    assert validation["session_hours"] <= 7 * 24 * validation["weeks_with_plays"]
    total = sum(f["session_hours"] for f in folds.values())
    assert total == run.summary["session_hours"] < (BEFORE + AFTER + 2) * 24
    # the line the listening_models asset logs and keeps as its summary says so
    assert re.search(r"no plays from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(5\d weeks\)",
                     run.describe())  # fmt: skip


def test_the_dashboard_says_the_year_is_missing_and_draws_no_area_across_it(plays):
    from spotify_assets.lib.listening.dashboard import build_dashboard, plot_svgs, render_html
    from spotify_assets.lib.listening.moods import fit_moods

    model = fit_moods(plays, seed=0, k_max=4)
    document = build_dashboard(plays, model, None, None, None, "2025-06-01T00:00:00Z")
    [gap] = document["gaps"]
    assert gap["weeks"] >= 51
    page = render_html(document)
    assert re.search(r'class="note gaps">No plays from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d', page)

    svg = plot_svgs(document)["mood_share_by_week"]
    weeks = [pd.Timestamp(w) for w in document["mood_share_by_week"]["weeks"]]
    assert len(weeks) < 20 + 1  # only weeks with plays: no empty week is a data point
    # where the gap lies on the chart's x axis: the shaded "no plays" band
    band = re.search(r'<rect class="gap" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    assert band, svg[:2000]
    left, right = float(band.group(1)), float(band.group(1)) + float(band.group(2))
    assert right - left > 300  # a year of a ~2-year axis
    for points in re.findall(r'<polygon points="([^"]+)"', svg):
        xs = np.array([float(p.split(",")[0]) for p in points.split()])
        # no area is interpolated across the missing weeks
        assert not (xs.min() < left + 1 and xs.max() > right - 1), (xs.min(), xs.max(), left, right)
    assert "no plays" in svg
