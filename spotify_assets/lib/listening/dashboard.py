"""The listening dashboard: one JSON document for a website, and one static HTML page from it.

The document is the contract (a site can render it its own way); the HTML page is a faithful,
self-contained rendering: inline CSS and SVG, no JavaScript, no external URL, so it can be
attached to a run, mailed, or opened offline. Every time in the document and on the page is in
the person's zone (`timezone`, an IANA name), and so are the hour × weekday matrix, the week
buckets and the 24-hour chart. Floats are rounded and serialised with sorted keys, so the same
inputs give byte-identical output.

A panel with nothing to show says why (`reasons`): the caller's reason when it gave one, else a
default worked out from the inputs (no model yet, no plays with audio features, …).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from spotify_assets.lib.bootstrap import Interval
from spotify_assets.lib.listening import charts
from spotify_assets.lib.listening.drift import INSUFFICIENT
from spotify_assets.lib.listening.gaps import GAP_DAYS, find_gaps
from spotify_assets.lib.listening.moods import MOOD_FEATURES, MoodModel, assign, mood_matrix
from spotify_assets.lib.listening.registry import MODELS
from spotify_assets.lib.listening.results import MODEL, ModelResult
from spotify_assets.lib.listening.words import (
    METRIC_NAMES,
    SYSTEM_NAMES,
    SYSTEM_ORDER,
    WORDS,
    words_for,
)

__all__ = ["METRIC_NAMES", "SYSTEM_NAMES", "WORDS", "build_dashboard", "render_html", "words_for"]

# 3: `models` (a section per listening model) instead of `metrics`; intervals spelled
# value/lo/hi (lib/bootstrap's Interval); `gaps`
SCHEMA_VERSION = 3
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
X_FEATURE, Y_FEATURE = "energy", "valence"
MAX_POINTS = 600  # scatter points kept in the document: enough to see clusters, small to embed
LOW_COVERAGE = 0.8  # below this share of plays with a mood, the page says so in words
DATA_PLOTS = (
    "listening_by_hour",
    "mood_clusters",
    "mood_share_by_week",
    "next_24h_session_start",
)


def model_plot(name: str) -> str:
    """The panel of one listening model (its results next to its baselines)."""
    return f"{name}_model_vs_baselines"


# Every plot of a dashboard with the registered models (a result of another model adds its own)
PLOTS = (*DATA_PLOTS, *(model_plot(m.name) for m in MODELS))
PANELS = (*PLOTS, "drift")  # keys of `reasons`

GAP_WEEKS = GAP_DAYS // 7
DRIFT_DETECTED, NO_DRIFT, NOT_ENOUGH_DATA = "drift detected", "no drift", "not enough data"



def artifact_folder(person: str) -> str:
    """Where the person's dashboard (index.html, dashboard.json) is kept in the artifact store."""
    return f"listening/{person}/dashboard"


# Per-metric system order where it differs from SYSTEM_ORDER (ECE reads before → after → prior).
_METRIC_SYSTEM_ORDER = {"ece": ("before_calibration", "after_calibration", "hour_of_week_prior")}
_RAW_FEATURES = (*MOOD_FEATURES[:-1], "tempo")  # columns `mood_matrix` reads


def _num(value: Any, digits: int = 6) -> float | None:
    """A JSON-safe float: rounded for stable output, None for missing or non-finite."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return round(v, digits) if math.isfinite(v) else None


def _iso(value: Any, tz: str) -> str:
    """ISO 8601 in the person's zone (with its UTC offset, so still one exact instant)."""
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(tz).isoformat()


def _check_zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(
            f"unknown time zone {tz!r}: use an IANA name such as Europe/Berlin"
        ) from exc
    return tz


# --- document -----------------------------------------------------------------------------------


def _summary(plays: pd.DataFrame, played: pd.Series, local: pd.Series, tz: str) -> dict[str, Any]:
    ms = pd.to_numeric(plays["ms_played"], errors="coerce").fillna(0)
    return {
        "plays": len(plays),
        "sessions": int(plays["session_id"].nunique()),
        "users": int(plays["person"].nunique()) if "person" in plays.columns else None,
        "hours_listened": _num(ms.sum() / 3_600_000, 3),
        "days_covered": int(local.dt.date.nunique()),  # local dates with at least one play
        "first_play": _iso(played.min(), tz) if len(played) else None,
        "last_play": _iso(played.max(), tz) if len(played) else None,
    }


def _hour_matrix(local: pd.Series) -> list[list[int]]:
    """Plays per (local weekday, local hour): rows Monday..Sunday, columns 0..23."""
    cell = local.dt.day_of_week.to_numpy(np.int64) * 24 + local.dt.hour.to_numpy(np.int64)
    return np.bincount(cell, minlength=168).reshape(7, 24).tolist()


def _clusters(model: MoodModel, plays: pd.DataFrame) -> np.ndarray:
    """Each play's mood: the `cluster` column when the plays carry one, else assigned now."""
    if "cluster" not in plays.columns:
        if not all(f in plays.columns for f in _RAW_FEATURES):
            return np.full(len(plays), -1, dtype=np.int64)  # no audio features at all
        return assign(model, plays)
    cluster = pd.to_numeric(plays["cluster"], errors="coerce").fillna(-1).to_numpy(np.int64)
    cluster = np.where(cluster < 0, -1, cluster)
    if (cluster >= model.k).any():
        raise ValueError(
            f"the plays' cluster column has moods up to {int(cluster.max())} but the mood model "
            f"has K={model.k}: pass the mood model of the same retrain as the clusters"
        )
    return cluster


def _empty_moods() -> dict[str, Any]:
    return {"k": 0, "labels": [], "top": [], "unassigned_plays": 0, "centroids": [],
            "points": {"x": X_FEATURE, "y": Y_FEATURE, "rows": []},
            "share_by_week": {"weeks": [], "shares": {}}}  # fmt: skip


def _moods(model: MoodModel | None, plays: pd.DataFrame, local: pd.Series) -> dict[str, Any]:
    if model is None:
        return {**_empty_moods(), "unassigned_plays": len(plays)}
    cluster = _clusters(model, plays)
    known = cluster >= 0
    counts = np.bincount(cluster[known], minlength=model.k)
    total = max(int(known.sum()), 1)
    top = sorted(range(model.k), key=lambda c: (-counts[c], c))

    rows = np.flatnonzero(known)
    if len(rows) > MAX_POINTS:  # evenly spaced in time: deterministic and unbiased
        rows = rows[np.unique(np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(int))]

    def feature(name: str) -> np.ndarray:
        if name not in plays.columns:
            return np.full(len(plays), np.nan)
        return pd.to_numeric(plays[name], errors="coerce").to_numpy(float)

    x, y = feature(X_FEATURE), feature(Y_FEATURE)
    points = [
        [_num(x[i], 4), _num(y[i], 4), int(cluster[i])]
        for i in rows
        if math.isfinite(x[i]) and math.isfinite(y[i])
    ]
    xi, yi = model.features.index(X_FEATURE), model.features.index(Y_FEATURE)

    day = local.dt.normalize()  # local wall-clock midnight (naive), so DST cannot shift a week
    week = (day - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    by_week = pd.crosstab(week.to_numpy()[known], cluster[known]).reindex(
        columns=range(model.k), fill_value=0
    )
    by_week = by_week.div(by_week.sum(axis=1), axis=0).sort_index()
    return {
        "k": model.k,
        "labels": list(model.labels),
        "top": [
            {
                "cluster": int(c),
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


def _coverage(coverage: Mapping[str, Any] | None, plays: pd.DataFrame) -> dict[str, Any]:
    """Share of plays with audio features (so with a mood): the caller's counts, else counted
    from the plays (their `cluster` column, else complete mood features)."""
    if coverage is not None:
        n, known, source = int(coverage["plays"]), int(coverage["with_features"]), "given"
    else:
        n, source = len(plays), "plays"
        if "cluster" in plays.columns:
            known = int((pd.to_numeric(plays["cluster"], errors="coerce").fillna(-1) >= 0).sum())
        elif all(f in plays.columns for f in _RAW_FEATURES):
            known = int(mood_matrix(plays)[1].sum())
        else:
            known = 0
    share = _num(known / n, 4) if n else None
    note = None
    if share is not None and share < LOW_COVERAGE:
        note = (
            f"Only {_pct(share)} of plays have audio features, so only they have a mood "
            f"({known:,} of {n:,}). That is normal for a real listening history: Spotify has no "
            "audio features for many tracks, so mood charts describe the plays that have them."
        )
    return {"plays": n, "with_features": known, "share": share, "source": source, "note": note}


def _pct(share: float) -> str:
    if 0 < share < 0.01:
        return "under 1%"
    return f"{share:.0%}"


def _predictions(items: Sequence[Mapping[str, Any]] | None, tz: str) -> list[dict[str, Any]]:
    """`[{"hour_start": time, "probability": p}]`, sorted by time, times in the local zone."""
    out = []
    for item in items or ():
        if "hour_start" not in item or "probability" not in item:
            raise ValueError(f"a prediction needs 'hour_start' and 'probability', got {item!r}")
        ts = pd.Timestamp(item["hour_start"])
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        out.append((ts, {"hour_start": _iso(ts, tz), "probability": _num(item["probability"])}))
    return [p for _, p in sorted(out, key=lambda tp: tp[0])]


def _entry(v: Any) -> dict[str, float | None]:
    """An `Interval` (or its dict, or a bare value) as `{"value", "lo", "hi"}`, every bound
    explicit (None when unknown)."""
    e = v if isinstance(v, Interval) else Interval.from_dict(v)
    return {"value": _num(e.value), "lo": _num(e.lo), "hi": _num(e.hi)}


def _ordered(names: Sequence[str], preferred: Sequence[str]) -> list[str]:
    known = [n for n in preferred if n in names]
    return known + sorted(n for n in names if n not in preferred)


def _model_section(result: ModelResult) -> dict[str, Any]:
    """One model's panel: what serves and why, and its shown metrics for every system."""
    metrics = None
    if result.evaluation is not None:
        metrics = {
            metric: {s: _entry(iv) for s, iv in result.evaluation.scores[metric].items()}
            for metric in result.shown
            if metric in result.evaluation.scores
        } or None
    return {
        "name": result.name,
        "title": result.title,
        "serves": result.serves,
        "reason": result.reason or None,
        "beats_baselines": result.beats_baselines,
        "decides": result.decides,
        "metrics": metrics,
        "labels": dict(result.labels),
    }


def _models(results: Sequence[ModelResult] | None) -> list[dict[str, Any]]:
    """A section per result, and one (empty) per registered model without a result, so every
    model the retrain fits has its panel and an empty one says why."""
    given = [_model_section(r) for r in results or ()]
    names = {m["name"] for m in given}
    missing = [
        {"name": m.name, "title": m.title, "serves": MODEL, "reason": None,
         "beats_baselines": False, "decides": "", "metrics": None, "labels": {}}
        for m in MODELS if m.name not in names
    ]  # fmt: skip
    return given + missing


def drift_status(metrics: Sequence[Mapping[str, Any]]) -> str:
    """The drift badge: `DRIFT_DETECTED` when any metric drifted; `NO_DRIFT` only when at least
    one metric was actually tested (status not "insufficient data") and none drifted; else
    `NOT_ENOUGH_DATA`."""
    if any(m.get("drifted") or m.get("status") == "drifted" for m in metrics):
        return DRIFT_DETECTED
    if any(m.get("status") and m.get("status") != INSUFFICIENT for m in metrics):
        return NO_DRIFT
    return NOT_ENOUGH_DATA


def _drift(drift: Mapping[str, Any] | None, tz: str) -> dict[str, Any] | None:
    """Flags from `DriftReport.to_dict()`: enough to show what changed, not the raw summaries."""
    if drift is None:
        return None
    metrics = [
        {
            "name": m["name"],
            "status": m.get("status"),
            "drifted": bool(m.get("drifted")),
            "p_value": _num(m.get("p_value")),
            "effect": _num(m.get("effect")),
            "effect_floor": _num(m.get("effect_floor")),
        }
        for m in drift.get("metrics", [])
    ]

    def when(key: str) -> str | None:
        return _iso(drift[key], tz) if drift.get(key) else None

    return {
        "now": when("now"),
        "recent_start": when("recent_start"),
        "baseline_start": when("baseline_start"),
        "status": drift_status(metrics),
        "tested": sum(1 for m in metrics if m["status"] and m["status"] != INSUFFICIENT),
        "drifted": any(m["drifted"] for m in metrics),
        "drifted_metrics": sorted(m["name"] for m in metrics if m["drifted"]),
        "metrics": metrics,
    }


def _run(run: Mapping[str, Any] | None, tz: str) -> dict[str, Any] | None:
    if not run:
        return None
    out = {}
    for key in ("retrain_id", "trained_at"):
        v = run.get(key)
        out[key] = None if v is None else str(v)
    if out["trained_at"]:
        with contextlib.suppress(ValueError):  # not a time: shown as given
            out["trained_at"] = _iso(out["trained_at"], tz)
    return out


def _has_values(section: Mapping[str, Any] | None) -> bool:
    return bool(section) and any(
        e["value"] is not None for systems in section.values() for e in systems.values()
    )


def _default_reasons(
    document: Mapping[str, Any], mood_model: MoodModel | None, predictions: Any, models: Any
) -> dict[str, str]:
    """Why each panel that has nothing to show is empty, worked out from the inputs."""
    s, moods, cov = document["summary"], document["moods"], document["coverage"]
    reasons: dict[str, str] = {}
    if not s["plays"]:
        reasons["listening_by_hour"] = "no plays yet: import a listening history first"
    if mood_model is None:
        no_moods = "no mood model yet: fit the mood clusters (retrain) first"
    elif not s["plays"]:
        no_moods = "no plays yet, so no moods"
    elif not sum(t["plays"] for t in moods["top"]):
        no_moods = (
            (
                "the one play has no audio features, so it has no mood"
                if s["plays"] == 1
                else f"none of the {s['plays']:,} plays has audio features, so none has a mood"
            )
            if not cov["with_features"]
            else "no play has a mood from the current mood model: run the mood assignment"
        )
    else:
        no_moods = f"no play with a mood has both {X_FEATURE} and {Y_FEATURE}"
    if not moods["points"]["rows"]:
        reasons["mood_clusters"] = no_moods
    if not document["mood_share_by_week"]["weeks"]:
        reasons["mood_share_by_week"] = no_moods
    if not document["next_24h"]:
        reasons["next_24h_session_start"] = (
            "no session-start predictions yet: the session model has not run"
            if predictions is None
            else "the latest prediction run returned no hours"
        )
    for model in document["models"]:
        if not _has_values(model["metrics"]):
            title = model["title"].lower()
            reasons[model_plot(model["name"])] = (
                "no model metrics yet: the models have not been trained and evaluated"
                if models is None
                else model["reason"] or f"the latest retrain has no {title} evaluation"
                if model["metrics"] is None
                else f"every {title} metric is missing (too few test weeks to score)"
            )
    if document["drift"] is None:
        reasons["drift"] = "no drift report yet"
    return reasons


def build_dashboard(
    plays_sessionized: pd.DataFrame,
    mood_model: MoodModel | None,
    predictions_24h: list[dict] | None,
    models: Sequence[ModelResult] | None,
    drift: dict | None,
    generated_at: str | datetime | pd.Timestamp,
    *,
    timezone: str = "UTC",
    timezone_source: str | None = None,
    coverage: dict | None = None,
    reasons: dict[str, str] | None = None,
    run: dict | None = None,
) -> dict[str, Any]:
    """The dashboard document (JSON-serialisable; see `to_json`). Pure: no I/O.

    - `plays_sessionized`: `sessionize` output with audio-feature columns; a `cluster` column
      (int, -1 = no mood) is used as each play's mood, else moods are assigned with `mood_model`.
    - `mood_model`: the clustering of the latest retrain (labels, centroids); None leaves the
      mood panels empty with a reason.
    - `predictions_24h`: `[{"hour_start", "probability"}]` or None.
    - `models`: the latest retrain's `ModelResult`s (`Retrain.models`), or None before any; a
      registered model without a result gets an empty panel that says why.
    - `drift`: `DriftReport.to_dict()` or None.
    - `timezone`: IANA zone for every time, the hour × weekday matrix and the week buckets.
    - `timezone_source`: where the zone came from (`LocalZone.source`: "setting", "country XX",
      "default"); the header says it and how to set another.
    - `coverage`: `{"plays", "with_features"}`; counted from the plays when None.
    - `reasons`: panel (see `PANELS`) → why it is empty, shown instead of a default reason.
    - `run`: `{"retrain_id", "trained_at"}`.
    """
    if "session_id" not in plays_sessionized.columns:
        raise ValueError("plays must be sessionized first (no 'session_id' column)")
    tz = _check_zone(timezone)
    played = pd.to_datetime(plays_sessionized["played_at"], utc=True)
    local = played.dt.tz_convert(tz).dt.tz_localize(None)  # local wall-clock time
    moods = _moods(mood_model, plays_sessionized, local)
    share_by_week = moods.pop("share_by_week")
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(generated_at, tz),
        "timezone": tz,
        "timezone_source": timezone_source,
        "run": _run(run, tz),
        "summary": _summary(plays_sessionized, played, local, tz),
        "coverage": _coverage(coverage, plays_sessionized),
        "moods": moods,
        "listening_by_hour": {
            "rows": list(WEEKDAYS),
            "cols": list(range(24)),
            "plays": _hour_matrix(local),
        },
        "mood_share_by_week": share_by_week,
        # stretches missing from the export: said on the page, a hole in the weekly chart
        "gaps": [
            {"last_before": _iso(g.last_before, tz), "first_after": _iso(g.first_after, tz),
             "weeks": g.weeks}
            for g in find_gaps(played)
        ],
        "next_24h": _predictions(predictions_24h, tz),
        "models": _models(models),
        "drift": _drift(drift, tz),
    }
    empty = _default_reasons(document, mood_model, predictions_24h, models)
    given = {str(name): str(text) for name, text in (reasons or {}).items()}
    document["reasons"] = {
        panel: given.get(panel, default) for panel, default in sorted(empty.items())
    }
    return document


def to_json(document: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, no NaN, so equal documents are equal bytes."""
    return json.dumps(document, sort_keys=True, allow_nan=False, ensure_ascii=False)


# --- plots and page -----------------------------------------------------------------------------


def _systems(metric: str, by_system: Mapping[str, Any]) -> list[str]:
    return _ordered(list(by_system), _METRIC_SYSTEM_ORDER.get(metric, SYSTEM_ORDER))


def system_names(model: Mapping[str, Any]) -> dict[str, str]:
    """Metric and system names in words for one model's panel: its own labels first. Where a
    rule serves instead of the model (repeating the last mood, most often), the figures
    labelled "model" are that rule's, so it is named as served."""
    names = {**METRIC_NAMES, **SYSTEM_NAMES, **model.get("labels", {})}
    if model.get("serves") and model["serves"] != MODEL:
        names[MODEL] = f"served: {words_for(model['serves'])}"
    return names


def _metric_bars(section: Mapping[str, Any] | None, names: Mapping[str, str]) -> tuple[list, list[str]]:
    """Bars (name, value, lo, hi, system index) and the systems legend for one section."""
    if not section:
        return [], []
    systems = _ordered(sorted({s for v in section.values() for s in v}), SYSTEM_ORDER)
    bars = []
    for metric, by_system in section.items():
        for system in _systems(metric, by_system):
            e = by_system[system]
            if e["value"] is not None:
                name = f"{names.get(metric, metric)} · {names.get(system, system)}"
                bars.append((name, e["value"], e["lo"], e["hi"], systems.index(system)))
    return bars, [names.get(s, s) for s in systems]


def plot_svgs(document: Mapping[str, Any]) -> dict[str, str]:
    """Each plot as a standalone SVG, keyed by name: the data plots, then one per model in the
    document's order (for materialization metadata or separate files); an empty plot shows its
    reason."""
    tz = document["timezone"]
    why = document.get("reasons", {})
    moods = document["moods"]
    pts = moods["points"]["rows"]
    heat = document["listening_by_hour"]
    weekly = document["mood_share_by_week"]
    preds = document["next_24h"]
    svgs = {
        "listening_by_hour": charts.heatmap(
            heat["plays"], heat["rows"], [f"{h:02d}" for h in heat["cols"]],
            f"Plays by weekday and hour ({tz})", reason=why.get("listening_by_hour", "no data"),
        ),
        "mood_clusters": charts.scatter(
            [p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], moods["labels"],
            X_FEATURE, Y_FEATURE, f"Mood clusters: {X_FEATURE} × {Y_FEATURE}",
            centers=[(c[X_FEATURE], c[Y_FEATURE]) for c in moods["centroids"]],
            reason=why.get("mood_clusters", "no data"),
        ),
        "mood_share_by_week": charts.stacked_area(
            weekly["weeks"], weekly["shares"], f"Mood share per week (weeks from Monday, {tz})",
            reason=why.get("mood_share_by_week", "no data"), y_label="share of plays with a mood",
            gaps=[(_monday(g["last_before"]), _monday(g["first_after"]))
                  for g in document.get("gaps", [])],
        ),
        "next_24h_session_start": charts.line(
            [pd.Timestamp(p["hour_start"]).strftime("%a %H:%M") for p in preds],
            [p["probability"] for p in preds],
            # the 24 hours after the last play: for an old export that is years ago, so say when
            f"Session-start probability, 24 hours from {_when(preds[0]['hour_start'], tz)} ({tz})"
            if preds else f"Session-start probability, next 24 hours ({tz})",
            "P(session starts)",
            reason=why.get("next_24h_session_start", "no data"),
        ),
    }  # fmt: skip
    for model in document["models"]:
        name = model_plot(model["name"])
        bars, systems = _metric_bars(model["metrics"], system_names(model))
        svgs[name] = charts.bars_with_errors(
            [b[0] for b in bars], [b[1] for b in bars], [b[2] for b in bars],
            [b[3] for b in bars], f"{model['title']}: model vs baselines (test weeks, 95% CI)",
            groups=[b[4] for b in bars], group_labels=systems, reason=why.get(name, "no data"),
        )  # fmt: skip
    return svgs


_CSS = """
body{font-family:sans-serif;margin:24px;color:#222;background:#f6f6f6}
h1{margin:0 0 4px}h2{margin:24px 0 8px;font-size:18px}h3{margin:16px 0 6px;font-size:15px}
.muted{color:#666}.note{background:#fff8e1;border-left:4px solid #e0b000;padding:8px 12px;
max-width:900px}.reason{color:#666;font-style:italic}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border-radius:6px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(740px,1fr));gap:16px}
.model{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{background:#fff;border-radius:6px;margin:0;padding:8px}svg{max-width:100%;height:auto}
table{border-collapse:collapse;background:#fff}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.flag,.ok,.neutral{color:#fff;border-radius:3px;padding:1px 6px}.flag{background:#c0392b}
.ok{background:#4e8a3e}.neutral{background:#777}
"""


def _monday(iso: str) -> str:
    """The Monday starting the local week of a local ISO time (the weekly chart's buckets)."""
    day = pd.Timestamp(iso).tz_localize(None).normalize()
    return (day - pd.Timedelta(days=day.day_of_week)).strftime("%Y-%m-%d")


def _gaps_note(gaps: Sequence[Mapping[str, Any]]) -> str:
    """Stretches missing from the history, in words: not silence, so not in the models."""
    if not gaps:
        return ""
    stretches = "; ".join(
        f"from {g['last_before'][:10]} to {g['first_after'][:10]} ({g['weeks']} weeks)"
        for g in gaps
    )
    text = (
        f"No plays {stretches}. A stretch of {GAP_WEEKS} weeks or more without a single play is "
        "read as missing from the export, not as silence: it is left out of the session "
        "model's training and test weeks, and the weekly chart shows it as a gap."
    )
    return f'<p class="note gaps">{_e(text)}</p>'


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(iso: str | None, tz: str) -> str:
    """A readable local minute for the page; the document keeps full precision."""
    if iso is None:
        return "–"
    ts = pd.Timestamp(iso)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _fmt(value: Any, spec: str = ".3g") -> str:
    return "–" if value is None else format(value, spec)


def _cards(summary: Mapping[str, Any], coverage: Mapping[str, Any]) -> str:
    items = [
        ("plays", f"{summary['plays']:,}"),
        ("sessions", f"{summary['sessions']:,}"),
        ("hours listened", _fmt(summary["hours_listened"], ".1f")),
        ("days covered", f"{summary['days_covered']:,}"),
        (
            "of plays have a mood (audio features)",
            "–" if coverage["share"] is None else _pct(coverage["share"]),
        ),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{_e(v)}</b><span class="muted">{_e(k)}</span></div>'
            for k, v in items
        )
        + "</div>"
    )


def _top_moods(moods: Mapping[str, Any], reason: str | None) -> str:
    if not any(t["plays"] for t in moods["top"]):
        return f'<p class="reason">{_e(reason or "no moods")}</p>'
    rows = "".join(
        f'<tr><td><span style="color:{charts.color(t["cluster"])}">■</span> {_e(t["label"])}</td>'
        f'<td class="n">{t["plays"]:,}</td><td class="n">{t["share"]:.1%}</td></tr>'
        for t in moods["top"]
    )
    return (
        "<table><tr><th>mood</th><th>plays</th><th>share of plays with a mood</th></tr>"
        f"{rows}</table>"
    )


def _ci(e: Mapping[str, Any]) -> str:
    if e["lo"] is None or e["hi"] is None:
        return "–"
    return f"[{e['lo']:.3f}, {e['hi']:.3f}]"


def _metric_table(section: Mapping[str, Any] | None, names: Mapping[str, str]) -> str:
    if not section:
        return ""
    rows = []
    for metric, by_system in section.items():
        for i, system in enumerate(_systems(metric, by_system)):
            e = by_system[system]
            name = names.get(system, system)
            cell = f"<b>{_e(name)}</b>" if system == "model" else _e(name)
            rows.append(
                f"<tr><td>{_e(names.get(metric, metric)) if i == 0 else ''}</td>"
                f'<td>{cell}</td><td class="n">{_fmt(e["value"], ".3f")}</td>'
                f'<td class="n">{_ci(e)}</td></tr>'
            )
    return (
        "<table><tr><th>metric</th><th>system</th><th>value</th><th>95% CI</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def zone_origin(source: str | None) -> str:
    """Where the zone came from and how to choose another, in words (" (…)"; "" unknown)."""
    if not source:
        return ""
    change = "set another with `spotify-assets listening retrain --person NAME --timezone ZONE`"
    if source == "setting":
        return f" (your setting; {change})"
    if source.startswith("country "):
        return f" (from the plays' country, {source.removeprefix('country ')}; {change})"
    return f" (the default: SPOTIFY_ASSETS_TIMEZONE, else UTC; {change})"


def _run_line(run: Mapping[str, Any] | None, models: Sequence[Mapping[str, Any]], tz: str) -> str:
    """The retrain, and for every model a rule serves instead of, which one and why."""
    bits = []
    if run and run.get("retrain_id"):
        bits.append(f"retrain {_e(run['retrain_id'])}")
    if run and run.get("trained_at"):
        bits.append(f"trained {_e(_when(run['trained_at'], tz))}")
    for model in models:
        if model["serves"] == MODEL and not model["metrics"]:
            continue  # nothing served, nothing to say beyond the panel's reason
        what = f"{_e(model['title'].lower())} served by <b>{_e(words_for(model['serves']))}</b>"
        if model["serves"] != MODEL and model.get("reason"):
            what += f": {_e(model['reason'])}"
        bits.append(what)
    return f'<p class="muted run">{" · ".join(bits)}</p>' if bits else ""


def _drift_table(drift: Mapping[str, Any] | None, tz: str, reason: str | None) -> str:
    if drift is None:
        return f'<p class="reason">{_e(reason or "no drift report")}</p>'
    status = drift.get("status") or drift_status(drift["metrics"])
    badge = {DRIFT_DETECTED: "flag", NO_DRIFT: "ok"}.get(status, "neutral")
    explain = (
        " (every metric needs at least a few days with plays in both windows; none had enough,"
        " so nothing was tested)"
        if status == NOT_ENOUGH_DATA
        else ""
    )
    head = (
        f'<p><span class="drift-badge {badge}">{_e(status)}</span> '
        f'<span class="muted">last 7 days from {_e(_when(drift["recent_start"], tz))} vs the 30 '
        f"days before{_e(explain)}</span></p>"
    )
    rows = "".join(
        f"<tr><td>{_e(words_for(m['name']))}</td><td>"
        f'<span class="{"flag" if m["drifted"] else "muted"}">{_e(m["status"])}</span></td>'
        f'<td class="n">{_fmt(m["p_value"])}</td><td class="n">{_fmt(m["effect"])}</td></tr>'
        for m in drift["metrics"]
    )
    table = "<table><tr><th>metric</th><th>status</th><th>p</th><th>effect</th></tr>"
    return head + table + rows + "</table>"


def _figure(name: str, svg: str) -> str:
    # Inline SVG needs no namespace declaration; dropping it keeps the page free of URLs.
    return f'<figure data-plot="{name}">{svg.replace(" " + charts.SVG_NS, "", 1)}</figure>'


def render_html(document: Mapping[str, Any]) -> str:
    """The whole dashboard as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    tz = document["timezone"]
    why = document.get("reasons", {})
    svgs = plot_svgs(document)
    charts_html = "".join(_figure(n, svgs[n]) for n in DATA_PLOTS)
    s, cov = document["summary"], document["coverage"]
    period = (
        f"{_when(s['first_play'], tz)} to {_when(s['last_play'], tz)}"
        if s["first_play"]
        else "no plays"
    )
    note = f'<p class="note coverage">{_e(cov["note"])}</p>' if cov.get("note") else ""
    note += _gaps_note(document.get("gaps", []))
    models = "".join(
        f"<h3>{_e(model['title'])}</h3>"
        f'<div class="model">{_figure(model_plot(model["name"]), svgs[model_plot(model["name"])])}'
        f"{_metric_table(model['metrics'], system_names(model))}</div>"
        for model in document["models"]
    )
    run_line = _run_line(document.get("run"), document["models"], tz)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Listening dashboard</title>'
        f"<style>{_CSS}</style></head><body>"
        f'<h1>Listening dashboard</h1><p class="muted">{period} · generated '
        f"{_when(document['generated_at'], tz)} · all times in {_e(tz)}"
        f"{_e(zone_origin(document.get('timezone_source')))}</p>"
        f"{run_line}"
        f"{_cards(s, cov)}{note}"
        f"<h2>Top moods</h2>{_top_moods(document['moods'], why.get('mood_clusters'))}"
        f'<h2>Charts</h2><div class="charts">{charts_html}</div>'
        f"<h2>Models</h2>{run_line}{models}"
        f"<h2>Drift</h2>{_drift_table(document['drift'], tz, why.get('drift'))}"
        "</body></html>\n"
    )
