"""The listening dashboard: a JSON document whose counts match the plays, a self-contained HTML
page with six escaped SVG charts, and that page rendered by headless Chromium without errors."""

from __future__ import annotations

import html
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening import charts
from spotify_assets.lib.listening.dashboard import (
    PLOTS,
    build_dashboard,
    plot_svgs,
    render_html,
    to_json,
)
from spotify_assets.lib.listening.drift import detect_drift
from spotify_assets.lib.listening.moods import assign, fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history
from spotify_assets_tests.lib.listening._browser import (
    SCREENSHOTS,
    chromium_or_skip,
    console_errors,
    run,
)
from spotify_assets_tests.lib.listening._results import result, results

GENERATED_AT = "2024-03-01T00:00:00Z"
EVIL = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def inputs():
    plays = sessionize(stable_history(7, days=45))
    model = fit_moods(plays, seed=0, k_max=6)
    now = plays["played_at"].max().ceil("h")
    predictions = [
        {"hour_start": now + pd.Timedelta(hours=h), "probability": 0.05 + 0.3 * (h % 12) / 12}
        for h in range(24)
    ]
    metrics = {
        "mood": {
            "macro_f1": {
                "model": {"value": 0.41, "lo": 0.38, "hi": 0.44, "n": 30},
                # as a retrain document before schema 3 spelled it: read all the same
                "majority": {"value": 0.12, "low": 0.10, "high": 0.14},
                "same_as_previous": 0.36,
            },
            "roc_auc": {"model": {"value": 0.8, "lo": None, "hi": None}},
        },
        "session": {
            "pr_auc": {"model": {"value": 0.3, "lo": 0.25, "hi": 0.35}},
            "ece": {"before_calibration": 0.09, "after_calibration": {"value": float("nan")}},
        },
    }
    drift = detect_drift(plays).to_dict()
    return plays, model, predictions, results(metrics), drift


@pytest.fixture(scope="module")
def document(inputs):
    return build_dashboard(*inputs, generated_at=GENERATED_AT)


def test_document_round_trips_and_counts_match_the_plays(inputs, document):
    plays, model, *_ = inputs
    assert json.loads(json.dumps(document)) == document
    assert json.loads(to_json(document)) == document
    s = document["summary"]
    assert s["plays"] == len(plays)
    assert s["sessions"] == plays["session_id"].nunique()
    assert s["hours_listened"] == pytest.approx(plays["ms_played"].sum() / 3.6e6, abs=1e-3)
    assert s["days_covered"] == plays["played_at"].dt.date.nunique()

    heat = np.array(document["listening_by_hour"]["plays"])
    assert heat.shape == (7, 24) and heat.sum() == len(plays)
    mondays_9 = ((plays["played_at"].dt.day_of_week == 0) & (plays["played_at"].dt.hour == 9)).sum()
    assert heat[0, 9] == mondays_9

    cluster = assign(model, plays)
    top = document["moods"]["top"]
    assert sum(t["plays"] for t in top) == (cluster >= 0).sum()
    assert document["moods"]["unassigned_plays"] == (cluster < 0).sum()
    assert [t["plays"] for t in top] == sorted((t["plays"] for t in top), reverse=True)
    assert sum(t["share"] for t in top) == pytest.approx(1.0, abs=1e-3)

    weekly = document["mood_share_by_week"]
    for i in range(len(weekly["weeks"])):
        assert sum(v[i] for v in weekly["shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert len(document["next_24h"]) == 24
    mood, session = (m["metrics"] for m in document["models"])
    # one spelling out, whatever came in
    assert mood["macro_f1"]["same_as_previous"] == {"value": 0.36, "lo": None, "hi": None}
    assert mood["macro_f1"]["majority"] == {"value": 0.12, "lo": 0.10, "hi": 0.14}
    assert mood["macro_f1"]["model"] == {"value": 0.41, "lo": 0.38, "hi": 0.44}
    ece = session["ece"]
    assert ece["after_calibration"] == {"value": None, "lo": None, "hi": None}  # NaN -> null
    assert document["drift"]["drifted_metrics"] == sorted(inputs[4]["drifted_metrics"])


def test_output_is_deterministic(inputs, document):
    again = build_dashboard(*inputs, generated_at=GENERATED_AT)
    assert to_json(again) == to_json(document)
    assert render_html(again) == render_html(document)


def test_html_is_self_contained_with_six_charts(document):
    html = render_html(document)
    assert html.count("<svg") == len(PLOTS) == 6
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower()
    assert list(plot_svgs(document)) == list(PLOTS)
    for svg in plot_svgs(document).values():  # standalone SVGs keep their namespace
        assert svg.startswith(f"<svg {charts.SVG_NS}") and svg.endswith("</svg>")
        assert "empty-reason" not in svg
    assert document["reasons"] == {}  # every panel has data, so none needs a reason


def test_labels_are_escaped(inputs):
    plays, model, predictions, _metrics, drift = inputs
    evil_model = replace(model, labels=[EVIL, *model.labels[1:]])
    html = render_html(
        build_dashboard(
            plays, evil_model, predictions, [result("mood", {EVIL: {EVIL: 0.5}}, serves=EVIL,
                                                    reason=EVIL)], drift, GENERATED_AT,
            reasons={"session_model_vs_baselines": EVIL, "drift": EVIL}, run={"retrain_id": EVIL},
        )
    )  # fmt: skip
    assert "<script" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert f"<td>{escaped}</td>" in html  # metric and system names in the model table
    assert f"retrain {escaped}" in html and f"served by <b>{escaped}</b>: {escaped}" in html
    assert f'<p class="reason">{escaped}</p>' not in html  # drift has data: no reason shown
    assert html.count('class="empty-reason"') == 1  # the session panel, showing the evil reason


def test_empty_inputs_render_a_reason_in_every_chart():
    plays = sessionize(stable_history(1, days=2)).iloc[0:0]
    document = build_dashboard(plays, None, None, None, None, GENERATED_AT)
    assert json.loads(to_json(document)) == document
    assert document["summary"]["plays"] == 0
    assert set(document["reasons"]) == {*PLOTS, "drift"}
    assert all(len(reason) > 10 for reason in document["reasons"].values())
    html = render_html(document)
    assert html.count("<svg") == 6 and html.count('class="empty-reason"') == 6
    assert ">no data<" not in html  # never a bare "no data"
    for reason in document["reasons"].values():
        assert reason.split()[0] in html


@pytest.mark.slow
def test_dashboard_in_headless_chromium(document, tmp_path):
    chromium = chromium_or_skip()
    page = tmp_path / "dashboard.html"
    page.write_text(render_html(document), encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard.png"
    shot.unlink(missing_ok=True)
    url = page.as_uri()
    shot_run = run(chromium, tmp_path / "profile", f"--screenshot={shot}", url)
    dom_run = run(chromium, tmp_path / "profile", "--dump-dom", url)
    errors = console_errors(shot_run.stderr, dom_run.stderr)
    assert not errors, "\n".join(errors)
    assert dom_run.stdout.count("<svg") == 6, dom_run.stderr[-2000:]
    assert "Listening dashboard" in dom_run.stdout
    assert shot.exists() and shot.stat().st_size > 20_000, shot_run.stderr[-2000:]
    print(f"\ndashboard screenshot: {shot}")


@pytest.mark.parametrize(
    ("source", "said"),
    [("setting", "your setting"), ("country IN", "from the plays' country, IN"),
     ("default", "the default: SPOTIFY_ASSETS_TIMEZONE, else UTC")],
)  # fmt: skip
def test_the_header_says_where_the_time_zone_came_from_and_how_to_change_it(inputs, source, said):
    document = build_dashboard(*inputs, generated_at=GENERATED_AT, timezone="Asia/Kolkata",
                               timezone_source=source)  # fmt: skip
    header = html.unescape(render_html(document).split("<h2", 1)[0])
    assert "all times in Asia/Kolkata (" + said in header
    assert "listening retrain --person NAME --timezone ZONE" in header
    unknown = build_dashboard(*inputs, generated_at=GENERATED_AT, timezone="Asia/Kolkata")
    assert "--timezone" not in render_html(unknown).split("<h2", 1)[0]
