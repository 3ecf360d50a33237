"""A real-sized listener: 14 mood clusters, almost three years of weekly history, and audio
features for only about a third of the plays. The page is rendered in headless Chromium and the
laid-out text boxes are read back: week labels apart, legends whole and inside their SVGs, 14
distinct colours, the coverage sentence, the model metrics and an honest drift badge."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening import charts
from spotify_assets.lib.listening.dashboard import PLOTS, build_dashboard, render_html
from spotify_assets.lib.listening.drift import INSUFFICIENT, detect_drift
from spotify_assets.lib.listening.moods import fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import FEATURES, SimConfig, stable_history
from spotify_assets_tests.lib.listening._browser import (
    SCREENSHOTS,
    chromium_or_skip,
    console_errors,
    inside,
    measure,
    overlaps,
    run,
)
from spotify_assets_tests.lib.listening._results import results

DAYS = 1000  # ~2.7 years
LONG_REASON = (
    "no model run yet: run `spotify-assets listening retrain --user me` once the history has at "
    "least a few weeks of plays with audio features; until then this panel stays empty, and the "
    "rest of the dashboard still shows what the plays alone can tell"
)
METRICS = {
    "mood": {
        "macro_f1": {
            "model": {"value": 0.412, "lo": 0.388, "hi": 0.437},
            "majority": {"value": 0.021, "lo": 0.019, "hi": 0.024},
            "same_as_previous": {"value": 0.371, "lo": 0.35, "hi": 0.392},
            "last_known_mood": {"value": 0.398, "lo": None, "hi": None},
        },
        "accuracy": {"model": {"value": 0.52, "lo": 0.5, "hi": 0.54},
                     "majority": {"value": 0.11, "lo": 0.1, "hi": 0.12}},
        "roc_auc": {"model": {"value": 0.861, "lo": 0.85, "hi": 0.872},
                    "majority": {"value": 0.5, "lo": 0.5, "hi": 0.5}},
    },
    "session": {
        "pr_auc": {"model": {"value": 0.334, "lo": 0.301, "hi": 0.367},
                   "always_negative": {"value": 0.061, "lo": 0.055, "hi": 0.067},
                   "hour_of_week_prior": {"value": 0.244, "lo": 0.22, "hi": 0.27}},
        "roc_auc": {"model": {"value": 0.793, "lo": 0.78, "hi": 0.806},
                    "always_negative": {"value": 0.5, "lo": 0.5, "hi": 0.5},
                    "hour_of_week_prior": {"value": 0.741, "lo": 0.73, "hi": 0.752}},
        "ece": {"before_calibration": {"value": 0.087, "lo": 0.079, "hi": 0.095},
                "after_calibration": {"value": 0.014, "lo": 0.01, "hi": 0.019},
                "hour_of_week_prior": {"value": 0.019, "lo": 0.015, "hi": 0.024}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def listener():
    history = stable_history(11, days=DAYS, config=SimConfig(unknown_rate=0.66))
    plays = sessionize(history)
    model = fit_moods(plays, seed=0, k_min=14, k_max=14)
    assert model.k == 14
    # Drift on the last three days only: too little for any metric, so all are "insufficient".
    last = plays["played_at"].max()
    drift = detect_drift(plays[plays["played_at"] > last - pd.Timedelta(days=3)]).to_dict()
    assert {m["status"] for m in drift["metrics"]} == {INSUFFICIENT}
    now = last.ceil("h")
    predictions = [
        {"hour_start": now + pd.Timedelta(hours=h), "probability": 0.05 + 0.25 * (h % 8) / 8}
        for h in range(24)
    ]
    document = build_dashboard(
        plays, model, predictions,
        results(METRICS, serves="repeat_last_mood",
                reason="no learned policy beat repeating the last mood"),
        drift, "2026-09-28T12:00:00Z", timezone="America/New_York",
        run={"retrain_id": "2026-09-27-r3", "trained_at": "2026-09-27T02:00:00Z"},
    )  # fmt: skip
    with_features = int(plays[list(FEATURES)].notna().all(axis=1).sum())
    return plays, model, document, with_features


def test_document_of_a_long_fourteen_cluster_history(listener):
    plays, _model, document, with_features = listener
    weeks = document["mood_share_by_week"]["weeks"]
    assert len(weeks) >= 130  # 2.5 years of weekly buckets
    assert len(document["moods"]["labels"]) == 14
    assert document["coverage"]["with_features"] == with_features
    assert 0.3 < with_features / len(plays) < 0.38  # about a third of plays have features
    assert document["drift"]["status"] == "not enough data"
    assert document["reasons"] == {}  # every panel has data


@pytest.fixture(scope="module")
def rendered(listener, tmp_path_factory):
    chromium = chromium_or_skip()
    *_, document, _ = listener
    tmp = tmp_path_factory.mktemp("dashboard14")
    html = render_html(document)
    extra = (
        f'<figure data-plot="long_reason">{charts.empty("An empty panel", LONG_REASON)}</figure>'
    )
    measured = measure(chromium, html.replace("</body>", extra + "</body>"), tmp)

    page = tmp / "dashboard.html"
    page.write_text(html, encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard_14.png"
    shot.unlink(missing_ok=True)
    shot_run = run(chromium, tmp / "profile", f"--screenshot={shot}", page.as_uri(), height=3400)
    assert not console_errors(shot_run.stderr), shot_run.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 50_000, shot_run.stderr[-2000:]
    print(f"\n14-cluster dashboard screenshot: {shot}")
    return measured


@pytest.mark.slow
def test_every_chart_is_on_the_page(rendered):
    assert set(rendered["figures"]) == {*PLOTS, "long_reason"}


@pytest.mark.slow
def test_week_axis_labels_are_apart_and_readable(rendered):
    ticks = rendered["figures"]["mood_share_by_week"]["x_ticks"]
    assert 3 <= len(ticks) <= 12, [t["text"] for t in ticks]
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}|\d{4}|\d{4}-\d{2}(-\d{2})?", t["text"])
               for t in ticks)  # fmt: skip
    for a, b in itertools.pairwise(ticks):
        assert b["box"][0] - a["box"][2] >= 4, f"{a['text']!r} and {b['text']!r} touch"


@pytest.mark.slow
@pytest.mark.parametrize("plot", [*PLOTS, "long_reason"])
def test_no_text_leaves_its_svg_and_no_axis_labels_touch(rendered, plot):
    figure = rendered["figures"][plot]
    outside = [t["text"] for t in figure["texts"] if not inside(t["box"], figure["svg"])]
    assert not outside, f"text cut off at the edge of {plot}: {outside}"
    for a, b in itertools.combinations(figure["x_ticks"], 2):
        assert not overlaps(a["box"], b["box"]), f"{a['text']!r} overlaps {b['text']!r}"


@pytest.mark.slow
@pytest.mark.parametrize("plot", ["mood_clusters", "mood_share_by_week"])
def test_legends_are_whole_apart_and_in_fourteen_colours(rendered, listener, plot):
    _, model, _, _ = listener
    legend = rendered["figures"][plot]["legend"]
    assert [item["text"] for item in legend] == model.labels  # full labels, nothing truncated
    svg = rendered["figures"][plot]["svg"]
    for item in legend:
        assert inside(item["box"], svg), f"legend entry {item['text']!r} is clipped"
    for a, b in itertools.combinations(legend, 2):
        assert not overlaps(a["box"], b["box"]), f"{a['text']!r} overlaps {b['text']!r}"
    fills = [item["fill"] for item in legend]
    assert len(set(fills)) == 14
    other = "mood_share_by_week" if plot == "mood_clusters" else "mood_clusters"
    assert fills == [item["fill"] for item in rendered["figures"][other]["legend"]]


@pytest.mark.slow
def test_a_long_reason_is_shown_whole(rendered):
    figure = rendered["figures"]["long_reason"]
    assert figure["reasons"] == [LONG_REASON]


@pytest.mark.slow
def test_coverage_metrics_and_drift_badge_on_the_page(rendered, listener):
    plays, _, _, with_features = listener
    text = " ".join(rendered["body_text"].split())
    pct = round(100 * with_features / len(plays))
    assert f"Only {pct}% of plays have audio features, so only they have a mood" in text
    assert f"{pct}% of plays have a mood" in text  # the card
    for words in ("ROC-AUC", "PR-AUC", "macro-F1", "ECE", "model before calibration",
                  "model after calibration", "hour-of-week prior", "same as previous",
                  "last known mood", "majority class", "always negative"):  # fmt: skip
        assert words in text, words
    assert "0.087" in text and "0.014" in text  # ECE before and after calibration
    assert "[0.388, 0.437]" in text  # a CI next to the model's macro-F1
    assert "repeat the last mood: no learned policy beat repeating the last mood" in text
    # the next-mood figures labelled "model" are those of the policy served: named so
    assert "served: repeat the last mood" in text
    assert "all times in America/New_York" in text
    badge = rendered["badge"]
    assert badge["text"] == "not enough data"
    red, green = (192, 57, 43), (78, 138, 62)
    rgb = tuple(int(v) for v in re.findall(r"\d+", badge["background"])[:3])
    assert rgb not in (red, green) and len(set(rgb)) == 1  # a neutral grey


def test_colours_are_the_cluster_colours(listener):
    *_, document, _ = listener
    assert len({charts.color(i) for i in range(len(document["moods"]["labels"]))}) == 14
    shares = np.array(list(document["mood_share_by_week"]["shares"].values()), dtype=float)
    assert shares.shape[0] == 14 and np.allclose(shares.sum(axis=0), 1.0, atol=1e-3)
