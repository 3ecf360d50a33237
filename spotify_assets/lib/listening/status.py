"""What `spotify-assets listening status` shows: a person's data and their last retrain."""

from __future__ import annotations

from typing import Any

from spotify_assets.lib.bootstrap import Interval
from spotify_assets.lib.listening.ingest import load_sessions, person_zone_of
from spotify_assets.lib.listening.results import MODEL, ModelResult
from spotify_assets.lib.listening.words import METRIC_NAMES, SYSTEM_NAMES, words_for
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.listening import RetrainRepository


def person_status(db: Database, person: str, drift: dict[str, Any] | None = None) -> dict:
    """Plays, feature coverage (as last joined), sessions, time zone, the last retrain's K,
    policy and metrics against baselines, and the last drift report when given."""
    plays = load_sessions(db, person)
    zone = person_zone_of(db, person)
    with db.connect() as conn:
        repo = RetrainRepository(conn)
        last = repo.latest(person)
        runs = repo.model_runs(last.retrain_id) if last else []
    status: dict[str, Any] = {"person": person, "plays": len(plays), "timezone": zone.describe()}
    if len(plays):
        status["first_play"] = plays["played_at"].min().isoformat()
        status["last_play"] = plays["played_at"].max().isoformat()
        status["with_features"] = int(plays["has_features"].sum())
        status["sessions"] = int(plays["session_id"].nunique())
    if last:
        status["retrain"] = {
            "retrain_id": last.retrain_id,
            "trained_at": last.trained_at.isoformat(),
            "k": (last.moods or {}).get("k", 0),
            "labels": (last.moods or {}).get("labels", []),
            "mood_policy": last.mood_policy,
            "models": {r["model"]: r for r in runs},
        }
    if drift is not None:
        status["drift"] = drift
    return status


def _ci(entry: Interval | None, spec: str = ".3f") -> str:
    """`value [lo, hi]` of an interval (its bounds when known)."""
    if entry is None or entry.value != entry.value:
        return "–"
    known = entry.lo == entry.lo and entry.hi == entry.hi
    return f"{entry.value:{spec}}" + (f" [{entry.lo:{spec}}, {entry.hi:{spec}}]" if known else "")


def model_lines(row: dict[str, Any]) -> list[str]:
    """One model of the last retrain (its `model_runs` row): what serves, the deciding metric
    against the best baseline, and why a rule serves or nothing was measured."""
    name, metrics = row["model"], row["metrics"] or {}
    if "evaluation" not in metrics:  # written before results were typed
        return [f"  {name:<12} measured by an older retrain: retrain to see it here"]
    result = ModelResult.from_dict(metrics)
    names = {**METRIC_NAMES, **SYSTEM_NAMES, **result.labels}
    head = f"  {name:<12} "
    if result.serves != MODEL:
        head += f"{words_for(result.serves)}: "
    d = result.headline
    if result.evaluation is None or d is None:
        return [head + f"not evaluated: {result.reason}"]
    line = (
        f"{head}{names.get(result.decides, result.decides)} {_ci(result.score(result.decides))}, "
        f"difference {_ci(d.interval, '+.3f')} vs {names.get(d.baseline, d.baseline)}"
    )
    for metric in result.shown:
        if metric == result.decides:
            continue
        if (model := result.score(metric)) is not None:
            line += f"; {names.get(metric, metric)} {_ci(model)}"
        before, after = (result.score(metric, s) for s in ("before_calibration", "after_calibration"))
        if before is not None and after is not None:
            line += f"; {metric.upper()} {_ci(before)} → {_ci(after)} after calibration"
    lines = [line]
    if result.serves != MODEL and result.reason:
        lines.append(f"               {result.reason}")
    return lines


def format_status(status: dict) -> str:
    lines = [f"person {status['person']}: {status['plays']:,} plays"]
    if not status["plays"]:
        lines.append(
            f"  nothing imported yet: spotify-assets listening import PATH --person {status['person']}"
        )
        return "\n".join(lines)
    share = status["with_features"] / status["plays"]
    lines += [
        f"  period       {status['first_play'][:10]} to {status['last_play'][:10]}, "
        f"{status['sessions']:,} sessions; times in {status['timezone']}",
        f"  features     {status['with_features']:,} plays ({share:.0%}) have audio features "
        "(as joined at the last retrain or update)",
    ]
    retrain = status.get("retrain")
    if retrain is None:
        lines.append(
            f"  models       no retrain yet: spotify-assets listening retrain --person {status['person']}"
        )
    else:
        lines.append(
            f"  retrain      {retrain['retrain_id']} at {retrain['trained_at'][:16]}, "
            f"K={retrain['k']} moods"
        )
        for row in retrain["models"].values():
            lines += model_lines(row)
    drift = status.get("drift")
    if drift is not None:
        tested = [m for m in drift.get("metrics", []) if m.get("status") != "insufficient data"]
        verdict = (
            "not enough data for any metric"
            if not tested
            else f"drifted: {', '.join(drift.get('drifted_metrics') or []) or 'nothing'} "
            f"({len(tested)} of {len(drift.get('metrics', []))} metrics tested)"
        )
        lines.append(f"  drift        {verdict}")
    return "\n".join(lines)
