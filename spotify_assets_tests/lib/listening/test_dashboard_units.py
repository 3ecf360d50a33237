"""Dashboard pieces on small, hand-made inputs: the drift badge, the listener's time zone, the
reasons shown by empty panels, the plays' own mood column, coverage, colours and time ticks."""

from __future__ import annotations

import itertools
import math
import re
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.listening import charts
from spotify_assets.lib.listening.dashboard import (
    DRIFT_DETECTED,
    NO_DRIFT,
    NOT_ENOUGH_DATA,
    PLOTS,
    build_dashboard,
    drift_status,
    plot_svgs,
    render_html,
)
from spotify_assets.lib.listening.drift import INSUFFICIENT, detect_drift
from spotify_assets.lib.listening.moods import fit_moods
from spotify_assets.lib.listening.sessions import sessionize
from spotify_assets.lib.listening.simulate import stable_history
from spotify_assets_tests.lib.listening._results import result

GENERATED_AT = "2024-03-01T00:00:00Z"
FEATURES = {"valence": 0.7, "energy": 0.8, "danceability": 0.6, "acousticness": 0.1,
            "instrumentalness": 0.0, "tempo": 120.0}  # fmt: skip


@pytest.fixture(scope="module")
def model():
    return fit_moods(sessionize(stable_history(7, days=30)), seed=0, k_min=4, k_max=4)


def _plays(times: list[str], features: bool = True, **columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "person": "u",
            "played_at": pd.to_datetime(times, utc=True),
            "ms_played": 200_000,
            **({k: v for k, v in FEATURES.items()} if features else {}),
            **columns,
        }
    )
    return sessionize(frame)


def _drift(*statuses: str) -> dict:
    return {
        "now": "2024-03-01T00:00:00+00:00",
        "recent_start": "2024-02-23T00:00:00+00:00",
        "baseline_start": "2024-01-24T00:00:00+00:00",
        "metrics": [
            {"name": f"m{i}", "status": s, "drifted": s == "drifted"}
            for i, s in enumerate(statuses)
        ],
    }


def _badge(html: str) -> tuple[str, str]:
    found = re.search(r'<span class="drift-badge (\w+)">([^<]*)</span>', html)
    assert found, "no drift badge on the page"
    return found.group(1), found.group(2)


# --- drift badge --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "status", "css"),
    [
        ((INSUFFICIENT,) * 9, NOT_ENOUGH_DATA, "neutral"),
        ((), NOT_ENOUGH_DATA, "neutral"),
        ((INSUFFICIENT, "no drift", INSUFFICIENT), NO_DRIFT, "ok"),
        (("no drift", "drifted", INSUFFICIENT), DRIFT_DETECTED, "flag"),
        ((INSUFFICIENT, "drifted"), DRIFT_DETECTED, "flag"),
    ],
)
def test_drift_badge(statuses, status, css):
    report = _drift(*statuses)
    assert drift_status(report["metrics"]) == status
    plays = _plays(["2024-02-28T10:00:00Z"])
    document = build_dashboard(plays, None, None, None, report, GENERATED_AT)
    assert document["drift"]["status"] == status
    assert document["drift"]["tested"] == sum(s != INSUFFICIENT for s in statuses)
    assert _badge(render_html(document)) == (css, status)


def test_drift_badge_on_a_real_report_with_too_little_data():
    plays = sessionize(stable_history(3, days=3))  # 3 days: every metric is short of data
    report = detect_drift(plays).to_dict()
    assert {m["status"] for m in report["metrics"]} == {INSUFFICIENT}
    document = build_dashboard(plays, None, None, None, report, GENERATED_AT)
    css, text = _badge(render_html(document))
    assert (css, text) == ("neutral", "not enough data")
    assert "no drift" not in render_html(document).split("<h2>Drift</h2>")[1].split("<table")[0]
    drift_table = render_html(document).split("<h2>Drift</h2>")[1]
    assert "how spread over the day sessions start" in drift_table and ">tempo<" in drift_table
    assert "start_hour_entropy" not in drift_table and "tempo_norm" not in drift_table


# --- time zone ----------------------------------------------------------------------------------


def test_sunday_late_utc_is_monday_morning_in_tokyo(model):
    plays = _plays(["2024-01-07T23:30:00Z"])  # a Sunday in UTC
    predictions = [{"hour_start": "2024-01-07T23:00:00Z", "probability": 0.4}]
    tokyo = build_dashboard(
        plays, model, predictions, None, None, GENERATED_AT, timezone="Asia/Tokyo"
    )
    heat = np.array(tokyo["listening_by_hour"]["plays"])
    assert heat.sum() == 1 and heat[0, 8] == 1  # Monday row, hour 8
    assert tokyo["mood_share_by_week"]["weeks"] == ["2024-01-08"]  # the Monday it falls on
    assert tokyo["summary"]["first_play"] == "2024-01-08T08:30:00+09:00"
    assert tokyo["next_24h"][0]["hour_start"] == "2024-01-08T08:00:00+09:00"
    assert tokyo["timezone"] == "Asia/Tokyo"
    svgs = plot_svgs(tokyo)
    assert "Mon 08:00" in svgs["next_24h_session_start"]
    # the 24 hours follow the last play, which may be long ago: the title says from when
    assert "24 hours from 2024-01-08 08:00 (Asia/Tokyo)" in svgs["next_24h_session_start"]
    assert "(Asia/Tokyo)" in svgs["listening_by_hour"]
    assert "all times in Asia/Tokyo" in render_html(tokyo)

    utc = build_dashboard(plays, model, predictions, None, None, GENERATED_AT)
    heat = np.array(utc["listening_by_hour"]["plays"])
    assert heat[6, 23] == 1  # Sunday 23:00 in UTC
    assert utc["mood_share_by_week"]["weeks"] == ["2024-01-01"]
    assert "Sun 23:00" in plot_svgs(utc)["next_24h_session_start"]


def test_half_hour_zones_keep_their_minutes(model):
    """India is UTC+05:30: an hour starting 00:00 UTC is labelled 05:30, not 05:00."""
    plays = _plays(["2024-01-08T00:10:00Z"])
    predictions = [{"hour_start": "2024-01-08T00:00:00Z", "probability": 0.4}]
    india = build_dashboard(plays, model, predictions, None, None, GENERATED_AT,
                            timezone="Asia/Kolkata")  # fmt: skip
    label = plot_svgs(india)["next_24h_session_start"]
    assert "Mon 05:30" in label and "Mon 05:00" not in label


def test_unknown_time_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="Mars/Olympus"):
        build_dashboard(_plays(["2024-01-07T23:30:00Z"]), None, None, None, None, GENERATED_AT,
                        timezone="Mars/Olympus")  # fmt: skip


# --- reasons ------------------------------------------------------------------------------------


def _reason_text(svg: str) -> str:
    found = re.search(r'<text[^>]*class="empty-reason"[^>]*>(.*?)</text>', svg, re.S)
    assert found, "the panel shows no reason"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_given_reasons_are_shown_on_empty_panels_only(model):
    plays = _plays(["2024-01-07T23:30:00Z", "2024-01-08T10:00:00Z"])
    why = "no model run yet: run `spotify-assets listening retrain --user me`"
    document = build_dashboard(
        plays, model, None, [result("mood", {"macro_f1": {"model": 0.4}})], None, GENERATED_AT,
        reasons={"next_24h_session_start": why, "mood_clusters": "never shown: it has data"},
    )  # fmt: skip
    svgs = plot_svgs(document)
    assert _reason_text(svgs["next_24h_session_start"]) == why.replace("&", "&amp;")
    assert "empty-reason" not in svgs["mood_clusters"]
    assert "never shown" not in render_html(document)
    assert "empty-reason" not in svgs["mood_model_vs_baselines"]
    # The session section is missing: its panel says so rather than "no data".
    assert "no session start per hour evaluation" in _reason_text(svgs["session_model_vs_baselines"])
    assert set(document["reasons"]) == {"next_24h_session_start", "session_model_vs_baselines",
                                        "drift"}  # fmt: skip


def test_default_reasons_say_what_is_missing(model):
    no_features = _plays(["2024-01-07T23:30:00Z"], features=False)
    document = build_dashboard(no_features, model, [], None, None, GENERATED_AT)
    svgs = plot_svgs(document)
    assert "audio features" in _reason_text(svgs["mood_clusters"])
    assert "audio features" in _reason_text(svgs["mood_share_by_week"])
    assert "no hours" in _reason_text(svgs["next_24h_session_start"])  # [] is not None
    for name in ("mood_model_vs_baselines", "session_model_vs_baselines"):
        assert "not been trained" in _reason_text(svgs[name])
    assert "no drift report" in render_html(document)

    no_model = build_dashboard(_plays(["2024-01-07T23:30:00Z"]), None, None, None, None,
                               GENERATED_AT)  # fmt: skip
    assert "mood model" in no_model["reasons"]["mood_clusters"]
    assert "not run" in no_model["reasons"]["next_24h_session_start"]
    assert set(PLOTS) - {"listening_by_hour"} <= set(no_model["reasons"])


def test_a_long_reason_wraps_inside_the_svg():
    reason = " ".join(["the session model has not been trained because"] * 8)
    svg = charts.empty("Some panel", reason)
    width = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    height = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(2))
    spans = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert len(spans) >= 3
    assert " ".join(spans) == reason  # nothing dropped
    # DejaVu Sans, a wide default sans-serif, averages ~0.51 em per character on this text:
    # 0.6 em per character at 13 px is a safe upper bound for each line's rendered width.
    assert all(len(s) * 13 * 0.6 <= width - 20 for s in spans)
    baselines = [float(y) for y in re.findall(r'y="([\d.]+)"', svg.split("empty-reason")[1])[:1]]
    assert baselines and baselines[0] + 18 * (len(spans) - 1) < height


# --- moods --------------------------------------------------------------------------------------


def test_the_plays_cluster_column_is_used_not_reassigned(model):
    plays = _plays(["2024-01-01T10:00:00Z", "2024-01-01T10:05:00Z", "2024-01-09T10:00:00Z"],
                   cluster=[2, -1, 3])  # fmt: skip
    document = build_dashboard(plays, model, None, None, None, GENERATED_AT)
    by_cluster = {t["cluster"]: t["plays"] for t in document["moods"]["top"]}
    assert by_cluster[2] == 1 and by_cluster[3] == 1 and sum(by_cluster.values()) == 2
    assert document["moods"]["unassigned_plays"] == 1
    assert document["coverage"]["with_features"] == 2  # counted from the cluster column
    shares = document["mood_share_by_week"]["shares"]
    assert shares[model.labels[2]] == [1.0, 0.0] and shares[model.labels[3]] == [0.0, 1.0]
    with pytest.raises(ValueError, match="K=4"):
        build_dashboard(_plays(["2024-01-01T10:00:00Z"], cluster=[9]), model, None, None, None,
                        GENERATED_AT)  # fmt: skip


def test_coverage_sentence_only_when_low():
    plays = _plays(["2024-01-01T10:00:00Z"])
    low = build_dashboard(plays, None, None, None, None, GENERATED_AT,
                          coverage={"plays": 1000, "with_features": 340})  # fmt: skip
    assert low["coverage"]["share"] == pytest.approx(0.34)
    html = render_html(low)
    assert "only 34% of plays have audio features, so only they have a mood" in html.lower()
    assert "<b>34%</b>" in html  # the card
    high = build_dashboard(plays, None, None, None, None, GENERATED_AT,
                           coverage={"plays": 1000, "with_features": 950})  # fmt: skip
    assert high["coverage"]["note"] is None
    assert "only they have a mood" not in render_html(high)
    assert "<b>95%</b>" in render_html(high)


def test_run_info_is_shown():
    run = {"retrain_id": "r-42", "trained_at": "2024-02-29T23:00:00Z"}
    mood = result("mood", {"macro_f1": {"model": 0.3}}, serves="repeat_last_mood",
                  reason="the model did not beat it")  # fmt: skip
    document = build_dashboard(_plays(["2024-01-01T10:00:00Z"]), None, None, [mood], None,
                               GENERATED_AT, timezone="Europe/Berlin", run=run)  # fmt: skip
    html = render_html(document)
    assert "retrain r-42" in html and "trained 2024-03-01 00:00" in html  # Berlin is UTC+1
    assert "<b>repeat the last mood</b>: the model did not beat it" in html
    assert "repeat_last_mood" not in html  # the identifier is not shown


def _lab(hex_color: str) -> tuple[float, float, float]:
    """sRGB hex to CIE L*a*b* (D65), written out here independently of the code under test."""
    rgb = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_fifteen_clusters_get_clearly_different_colours():
    colours = [charts.color(i) for i in range(15)]
    assert len(set(colours)) == 15
    closest = min(math.dist(_lab(a), _lab(b)) for a, b in itertools.combinations(colours, 2))
    assert closest >= 20, f"two cluster colours are only ΔE {closest:.1f} apart"
    assert all(_lab(c)[0] < 90 for c in colours)  # none washes out on the white background


def test_week_axis_of_a_long_history_has_few_calendar_labels():
    weeks = pd.date_range("2022-01-03", "2024-09-30", freq="7D").strftime("%Y-%m-%d").tolist()
    shares = {"a": [0.5] * len(weeks), "b": [0.5] * len(weeks)}
    svg = charts.stacked_area(weeks, shares, "Mood share per week")
    ticks = re.findall(r'<text class="x-tick"[^>]*>([^<]*)</text>', svg)
    assert 3 <= len(ticks) <= 10, ticks
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}|\d{4}", t) for t in ticks), ticks
    xs = [float(x) for x in re.findall(r'<text class="x-tick" x="([\d.]+)"', svg)]
    assert xs == sorted(xs) and min(np.diff(xs)) >= 60  # well apart, in time order
    # A time scale: equal calendar steps are equal distances.
    days = [datetime.strptime(t, "%b %Y" if len(t) > 4 else "%Y").date() for t in ticks]
    per_day = [
        (b - a) / (db - da).days for a, b, da, db in zip(xs, xs[1:], days, days[1:], strict=False)
    ]
    assert max(per_day) - min(per_day) < 0.01


def test_legend_wraps_and_grows_instead_of_cutting_labels():
    labels = [
        f"high energy, positive, electronic, danceable, variant number {i}" for i in range(14)
    ]
    shares = {label: [1 / 14, 1 / 14] for label in labels}
    svg = charts.stacked_area(["2024-01-01", "2024-01-08"], shares, "t")
    texts = re.findall(r'<g class="legend-item">.*?</g>', svg)
    assert len(texts) == 14
    for label, item in zip(labels, texts, strict=True):
        shown = " ".join(
            re.sub(r"<[^>]+>", " ", item.split("<text", 1)[1].split(">", 1)[1]).split()
        )
        assert shown == label
    height = int(re.search(r'height="(\d+)"', svg).group(1))
    assert height > charts.HEIGHT  # grew to hold 14 entries
    fills = re.findall(r'<g class="legend-item"><rect [^>]*fill="(#[0-9a-f]{6})"', svg)
    assert fills == [charts.color(i) for i in range(14)]
