"""What `spotify-assets listening status` shows: a person's data and their last retrain."""

from __future__ import annotations

from typing import Any

from spotify_assets.lib.listening.ingest import load_sessions, person_zone_of
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
            "mood_policy_reason": last.summary.get("mood_policy_reason", ""),
            "models": {r["model"]: r for r in runs},
        }
    if drift is not None:
        status["drift"] = drift
    return status


def _ci(entry: dict | None, spec: str = ".3f") -> str:
    """`value [lo, hi]` of an estimate; a difference (signed spec) names its baseline."""
    if not entry or entry.get("value") is None:
        return "–"
    lo, hi = entry.get("lo"), entry.get("hi")
    tail = "" if lo is None or hi is None else f" [{lo:{spec}}, {hi:{spec}}]"
    versus = f" vs {entry['baseline']}" if "baseline" in entry else ""
    return f"{entry['value']:{spec}}{tail}{versus}"


def _diff(entry: dict | None) -> str:
    return _ci(entry, "+.3f")


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
        mood = retrain["models"].get("mood")
        if mood:
            m = mood["metrics"]["macro_f1"]
            lines.append(
                f"  next mood    {retrain['mood_policy']}: macro-F1 {_ci(m['model'])}, "
                f"difference {_diff(m['difference'])}"
            )
        lines.append(f"               {retrain['mood_policy_reason']}")
        session = retrain["models"].get("session")
        if session:
            m = session["metrics"]
            lines.append(
                f"  session      PR-AUC {_ci(m['pr_auc']['model'])}, difference "
                f"{_diff(m['pr_auc']['difference'])}; ROC-AUC {_ci(m['roc_auc']['model'])}; "
                f"ECE {_ci(m['ece_before'])} → {_ci(m['ece_after'])} after calibration"
            )
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
