"""The listening dashboard: one JSON document for a website, and one static HTML page from it.

The document is the contract (a site can render it its own way); the HTML page is a faithful,
self-contained rendering: inline CSS and SVG, no JavaScript, no external URL, so it can be
attached to a run, mailed, or opened offline. Times are UTC. Floats are rounded and serialised
with sorted keys, so the same inputs give byte-identical output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from spotify_assets.lib.listening import charts
from spotify_assets.lib.listening.moods import MoodModel, assign

SCHEMA_VERSION = 1
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
X_FEATURE, Y_FEATURE = "energy", "valence"
MAX_POINTS = 600  # scatter points kept in the document: enough to see clusters, small to embed
PLOTS = (
    "listening_by_hour",
    "mood_clusters",
    "mood_share_by_week",
    "next_24h_session_start",
    "model_vs_baseline",
)


def _num(value: Any, digits: int = 6) -> float | None:
    """A JSON-safe float: rounded for stable output, None for missing or non-finite."""
    if value is None:
        return None
    v = float(value)
    return round(v, digits) if math.isfinite(v) else None


def _iso(value: Any) -> str:
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat()


# --- document -----------------------------------------------------------------------------------


def _summary(plays: pd.DataFrame, played: pd.Series) -> dict[str, Any]:
    ms = pd.to_numeric(plays["ms_played"], errors="coerce").fillna(0)
    return {
        "plays": len(plays),
        "sessions": int(plays["session_id"].nunique()),
        "users": int(plays["user_id"].nunique()) if "user_id" in plays.columns else None,
        "hours_listened": _num(ms.sum() / 3_600_000, 3),
        "days_covered": int(played.dt.date.nunique()),  # UTC dates with at least one play
        "first_play": _iso(played.min()) if len(played) else None,
        "last_play": _iso(played.max()) if len(played) else None,
    }


def _hour_matrix(played: pd.Series) -> list[list[int]]:
    """Plays per (UTC weekday, hour): rows Monday..Sunday, columns 0..23."""
    cell = played.dt.day_of_week.to_numpy(np.int64) * 24 + played.dt.hour.to_numpy(np.int64)
    return np.bincount(cell, minlength=168).reshape(7, 24).tolist()


def _moods(model: MoodModel | None, plays: pd.DataFrame, played: pd.Series) -> dict[str, Any]:
    if model is None or plays.empty:
        return {"k": 0, "labels": [], "top": [], "unassigned_plays": len(plays), "centroids": [],
                "points": {"x": X_FEATURE, "y": Y_FEATURE, "rows": []},
                "share_by_week": {"weeks": [], "shares": {}}}  # fmt: skip
    cluster = assign(model, plays)
    known = cluster >= 0
    counts = np.bincount(cluster[known], minlength=model.k)
    total = max(int(known.sum()), 1)
    top = sorted(range(model.k), key=lambda c: (-counts[c], c))
    xi, yi = model.features.index(X_FEATURE), model.features.index(Y_FEATURE)

    rows = np.flatnonzero(known)
    if len(rows) > MAX_POINTS:  # evenly spaced in time: deterministic and unbiased
        rows = rows[np.unique(np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(int))]
    x = pd.to_numeric(plays[X_FEATURE], errors="coerce").to_numpy(float)
    y = pd.to_numeric(plays[Y_FEATURE], errors="coerce").to_numpy(float)
    points = [[_num(x[i], 4), _num(y[i], 4), int(cluster[i])] for i in rows]

    week = (played.dt.normalize() - pd.to_timedelta(played.dt.day_of_week, unit="D")).dt.strftime(
        "%Y-%m-%d"
    )
    by_week = pd.crosstab(week.to_numpy()[known], cluster[known]).reindex(
        columns=range(model.k), fill_value=0
    )
    by_week = by_week.div(by_week.sum(axis=1), axis=0).sort_index()
    return {
        "k": model.k,
        "labels": list(model.labels),
        "top": [
            {
                "cluster": c,
                "label": model.labels[c],
                "plays": int(counts[c]),
                "share": _num(counts[c] / total, 4),
            }
            for c in top
        ],
        "unassigned_plays": int((~known).sum()),
        "centroids": [
            {
                "cluster": c,
                "label": model.labels[c],
                X_FEATURE: _num(row[xi], 4),
                Y_FEATURE: _num(row[yi], 4),
            }
            for c, row in enumerate(model.centroids_raw)
        ],
        "points": {"x": X_FEATURE, "y": Y_FEATURE, "rows": points},
        "share_by_week": {
            "weeks": [str(w) for w in by_week.index],
            "shares": {
                model.labels[c]: [_num(v, 4) for v in by_week[c].tolist()] for c in range(model.k)
            },
        },
    }


def _predictions(items: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """`[{"hour_start": time, "probability": p}]`, sorted by time."""
    out = []
    for item in items or ():
        if "hour_start" not in item or "probability" not in item:
            raise ValueError(f"a prediction needs 'hour_start' and 'probability', got {item!r}")
        out.append(
            {"hour_start": _iso(item["hour_start"]), "probability": _num(item["probability"])}
        )
    return sorted(out, key=lambda p: p["hour_start"])


def _metrics(metrics: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """`{metric: {system: value | {"value", "low", "high"}}}` with every entry made explicit."""
    out: dict[str, Any] = {}
    for name, systems in (metrics or {}).items():
        out[str(name)] = {}
        for system, v in systems.items():
            entry = v if isinstance(v, Mapping) else {"value": v}
            out[str(name)][str(system)] = {
                "value": _num(entry.get("value")),
                "low": _num(entry.get("low")),
                "high": _num(entry.get("high")),
            }
    return out


def _drift(drift: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Flags from `DriftReport.to_dict()`: enough to show what changed, not the raw summaries."""
    if drift is None:
        return None
    return {
        "now": drift.get("now"),
        "recent_start": drift.get("recent_start"),
        "baseline_start": drift.get("baseline_start"),
        "drifted": bool(drift.get("drifted", False)),
        "drifted_metrics": sorted(drift.get("drifted_metrics", [])),
        "metrics": [
            {
                "name": m["name"],
                "status": m.get("status"),
                "drifted": bool(m.get("drifted")),
                "p_value": _num(m.get("p_value")),
                "effect": _num(m.get("effect")),
                "effect_floor": _num(m.get("effect_floor")),
            }
            for m in drift.get("metrics", [])
        ],
    }


def build_dashboard(
    plays_sessionized: pd.DataFrame,
    mood_model: MoodModel | None,
    predictions_24h: list[dict] | None,
    metrics: dict | None,
    drift: dict | None,
    generated_at: str | datetime | pd.Timestamp,
) -> dict[str, Any]:
    """The dashboard document (JSON-serialisable; see `to_json`).

    `plays_sessionized` is `sessionize` output with audio features; `predictions_24h` is
    `[{"hour_start", "probability"}]`; `metrics` is `{metric: {system: value or
    {"value", "low", "high"}}}` (e.g. systems "model" and "baseline"); `drift` is
    `DriftReport.to_dict()`. Missing parts become empty sections, never errors.
    """
    if "session_id" not in plays_sessionized.columns:
        raise ValueError("plays must be sessionized first (no 'session_id' column)")
    played = pd.to_datetime(plays_sessionized["played_at"], utc=True)
    moods = _moods(mood_model, plays_sessionized, played)
    share_by_week = moods.pop("share_by_week")
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(generated_at),
        "timezone": "UTC",
        "summary": _summary(plays_sessionized, played),
        "moods": moods,
        "listening_by_hour": {
            "rows": list(WEEKDAYS),
            "cols": list(range(24)),
            "plays": _hour_matrix(played),
        },
        "mood_share_by_week": share_by_week,
        "next_24h": _predictions(predictions_24h),
        "metrics": _metrics(metrics),
        "drift": _drift(drift),
    }


def to_json(document: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, no NaN, so equal documents are equal bytes."""
    return json.dumps(document, sort_keys=True, allow_nan=False, ensure_ascii=False)


# --- plots and page -----------------------------------------------------------------------------


def plot_svgs(document: Mapping[str, Any]) -> dict[str, str]:
    """Each plot as a standalone SVG, keyed by name in `PLOTS` order (for materialization
    metadata or separate files)."""
    moods = document["moods"]
    pts = moods["points"]["rows"]
    heat = document["listening_by_hour"]
    weekly = document["mood_share_by_week"]
    preds = document["next_24h"]
    bars: list[tuple[str, float, float | None, float | None, str]] = [
        (f"{name} · {system}", e["value"], e["low"], e["high"], system)
        for name, systems in sorted(document["metrics"].items())
        for system, e in sorted(systems.items())
        if e["value"] is not None
    ]
    systems = sorted({b[4] for b in bars})
    return {
        "listening_by_hour": charts.heatmap(
            heat["plays"], heat["rows"], [f"{h:02d}" for h in heat["cols"]],
            "Plays by weekday and hour (UTC)",
        ),
        "mood_clusters": charts.scatter(
            [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], moods["labels"],
            X_FEATURE, Y_FEATURE, f"Mood clusters: {X_FEATURE} × {Y_FEATURE}",
            centers=[(c[X_FEATURE], c[Y_FEATURE]) for c in moods["centroids"]],
        ),
        "mood_share_by_week": charts.stacked_area(
            weekly["weeks"], weekly["shares"], "Mood share per week (week starting)"
        ),
        "next_24h_session_start": charts.line(
            [pd.Timestamp(p["hour_start"]).strftime("%a %H:00") for p in preds],
            [p["probability"] for p in preds],
            "Session-start probability, next 24 hours (UTC)", "P(session starts)",
        ),
        "model_vs_baseline": charts.bars_with_errors(
            [b[0] for b in bars], [b[1] for b in bars], [b[2] for b in bars],
            [b[3] for b in bars], "Model vs baseline (95% CI where given)",
            groups=[systems.index(b[4]) for b in bars], group_labels=systems,
        ),
    }  # fmt: skip


_CSS = """
body{font-family:sans-serif;margin:24px;color:#222;background:#f6f6f6}
h1{margin:0 0 4px}h2{margin:24px 0 8px;font-size:18px}.muted{color:#666}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border-radius:6px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(740px,1fr));gap:16px}
figure{background:#fff;border-radius:6px;margin:0;padding:8px}svg{max-width:100%;height:auto}
table{border-collapse:collapse;background:#fff}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:left}.flag{color:#fff;background:#c0392b;border-radius:3px;padding:1px 6px}
.ok{color:#fff;background:#4e8a3e;border-radius:3px;padding:1px 6px}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(iso: str | None) -> str:
    """A readable UTC minute for the page; the document keeps full precision."""
    return "–" if iso is None else pd.Timestamp(iso).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")


def _fmt(value: Any, spec: str = ".3g") -> str:
    return "–" if value is None else format(value, spec)


def _cards(summary: Mapping[str, Any]) -> str:
    items = [
        ("plays", summary["plays"]),
        ("sessions", summary["sessions"]),
        ("hours listened", _fmt(summary["hours_listened"], ".1f")),
        ("days covered", summary["days_covered"]),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{_e(v)}</b><span class="muted">{_e(k)}</span></div>'
            for k, v in items
        )
        + "</div>"
    )


def _top_moods(moods: Mapping[str, Any]) -> str:
    if not moods["top"]:
        return '<p class="muted">no moods</p>'
    rows = "".join(
        f"<tr><td>{_e(t['label'])}</td><td>{t['plays']}</td><td>{t['share']:.1%}</td></tr>"
        for t in moods["top"]
    )
    return f"<table><tr><th>mood</th><th>plays</th><th>share</th></tr>{rows}</table>"


def _drift_table(drift: Mapping[str, Any] | None) -> str:
    if drift is None:
        return '<p class="muted">no drift report</p>'
    head = (
        f'<p><span class="{"flag" if drift["drifted"] else "ok"}">'
        f"{'drift detected' if drift['drifted'] else 'no drift'}</span> "
        f'<span class="muted">last 7 days from {_e(_when(drift["recent_start"]))} vs the 30 days '
        f"before</span></p>"
    )
    rows = "".join(
        f"<tr><td>{_e(m['name'])}</td><td>"
        f'<span class="{"flag" if m["drifted"] else "muted"}">{_e(m["status"])}</span></td>'
        f"<td>{_fmt(m['p_value'])}</td><td>{_fmt(m['effect'])}</td></tr>"
        for m in drift["metrics"]
    )
    table = "<table><tr><th>metric</th><th>status</th><th>p</th><th>effect</th></tr>"
    return head + table + rows + "</table>"


def render_html(document: Mapping[str, Any]) -> str:
    """The whole dashboard as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    svgs = plot_svgs(document)
    figures = "".join(
        # Inline SVG needs no namespace declaration; dropping it keeps the page free of URLs.
        f"<figure>{svg.replace(' ' + charts.SVG_NS, '', 1)}</figure>"
        for svg in svgs.values()
    )
    s = document["summary"]
    period = (
        f"{_when(s['first_play'])} to {_when(s['last_play'])}" if s["first_play"] else "no plays"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Listening dashboard</title>'
        f"<style>{_CSS}</style></head><body>"
        f'<h1>Listening dashboard</h1><p class="muted">{period} · generated '
        f"{_when(document['generated_at'])} · times in {_e(document['timezone'])}</p>"
        f"{_cards(s)}<h2>Top moods</h2>{_top_moods(document['moods'])}"
        f'<h2>Charts</h2><div class="charts">{figures}</div>'
        f"<h2>Drift</h2>{_drift_table(document['drift'])}</body></html>\n"
    )
