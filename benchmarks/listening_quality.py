"""Listening models on every real listener in ../shared/data, each beside its baselines.

For each listener: a fresh database holding the TidyTuesday catalog, the listener's export
imported through the same code as `spotify-assets listening import`, plays joined to the
catalog, one clustering on the training weeks, then the next-mood policy and the session-start
model with day-blocked bootstrap CIs on the test weeks. Nothing is tuned here: every figure is
what a retrain of that listener reports.

    .venv/bin/python benchmarks/listening_quality.py [--bootstrap 500] [--only listener_e] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from pathlib import Path

import psycopg

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.listening.ingest import (
    import_history,
    load_sessions,
    person_zone_of,
    refresh_joins,
)
from spotify_assets.lib.listening.mood_policy import REPEAT
from spotify_assets.lib.listening.retrain import cluster_training_weeks, retrain
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.server import with_database

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LISTENERS = {
    "listener_b": "histories/listener_b_basic_export",  # basic JSON (StreamingHistory0..3)
    "listener_b_csv": "histories/listener_b_basic_export/final.csv",  # its CSV conversion + features
    "listener_d": "histories/listener_d_extended_export",  # extended JSON + CSV, India
    "listener_e": "exports/listener_e_full_export",  # whole export, basic history
    "listener_f": "exports/listener_f_full_export",  # whole export, 2025 layout
}
TEMPLATE = "bench_listening_template"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _fresh(server: str, name: str, template: str | None = None) -> str:
    admin = with_database(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return with_database(server, name)


def _ci(e: dict, signed: bool = False) -> str:
    if e["value"] is None or e["value"] != e["value"]:
        return "–"
    f = "+.3f" if signed else ".3f"
    return f"{e['value']:{f}} [{e['lo']:{f}}, {e['hi']:{f}}]"


def evaluate(user: str, path: Path, url: str, n_boot: int) -> dict:
    started = time.perf_counter()
    db = Database(url)
    imported = import_history(db, path, user)
    coverage = refresh_joins(db, user)
    plays = load_sessions(db, user)
    zone = person_zone_of(db, user)
    clustering = cluster_training_weeks(plays)
    run = retrain(plays, clustering, user, zone.name, n_boot=n_boot)
    row = {
        "listener": user,
        "plays": imported.plays,
        "with_features": coverage.with_features,
        "coverage": coverage.share,
        "sessions": run.summary["sessions"],
        "k": run.summary["k"],
        "timezone": zone.describe(),
        "policy": run.policy.kind,
        "policy_reason": run.policy.reason,
        # each evaluation as its document keeps it: scores are metric → system → interval
        "mood": mood.evaluation.to_dict() if (mood := run.model("mood")) and mood.evaluation else None,
        "session": run.model("session").evaluation.to_dict(),
        "seconds": time.perf_counter() - started,
    }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=500)
    parser.add_argument("--only", action="append", help="listener name (repeatable)")
    parser.add_argument("--json", help="also write every result here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is absent: this benchmark needs the real data")

    print(f"CPU: {_cpu()}, {os.cpu_count()} cores; bootstrap {args.bootstrap} day-block resamples")
    total = time.perf_counter()
    server = resolve_database_url(dbname="postgres")
    template = _fresh(server, TEMPLATE)
    report = load_catalog(Database(template), SHARED / "tidytuesday/spotify_songs.parquet")
    print(f"catalog: TidyTuesday, {report.valid_tracks:,} tracks")
    rows = []
    for user, relative in LISTENERS.items():
        if args.only and user not in args.only:
            continue
        url = _fresh(server, f"bench_{user}", TEMPLATE)
        rows.append(evaluate(user, SHARED / relative, url, args.bootstrap))
        r = rows[-1]
        print(f"  {user}: {r['plays']:,} plays in {r['seconds']:.1f} s", flush=True)

    print("\nlistener        plays   features  sessions  K   time zone")
    for r in rows:
        print(f"{r['listener']:<15} {r['plays']:>6,} {r['coverage']:>8.0%} {r['sessions']:>9,} "
              f"{r['k']:>3}  {r['timezone']}")  # fmt: skip

    print("\nnext mood, macro-F1 on the test weeks (95% CI, day-blocked)")
    print(
        "listener        served             model                majority  same as previous     "
        "last known mood      model − same as previous  model − last known mood"
    )
    for r in rows:
        m = r["mood"]
        if not m:
            print(f"{r['listener']:<15} {r['policy']:<18} no moods: {r['policy_reason']}")
            continue
        s, each = m["scores"]["macro_f1"], m["details"]["macro_f1_vs_each"]
        print(
            f"{r['listener']:<15} {r['policy']:<18} {_ci(s['model']):<20} "
            f"{s['majority']['value']:.3f}     "
            f"{_ci(s['same_as_previous']):<20} {_ci(s['last_known_mood']):<20} "
            f"{_ci(each['same_as_previous'], True):<25} {_ci(each['last_known_mood'], True)}"
        )
    for r in rows:
        if r["mood"] and r["policy"] == REPEAT:
            print(f"  {r['listener']}: {r['policy_reason']}")

    print("\nsession start per hour on the test weeks (95% CI)")
    print(
        "listener        PR-AUC model         prior                PR-AUC model − best   ROC-AUC model        prior   ECE before → after   (prior)"
    )
    for r in rows:
        s = r["session"]
        sc = s["scores"]
        d = s["differences"]["pr_auc"]
        ece = sc["ece"]
        print(
            f"{r['listener']:<15} {_ci(sc['pr_auc']['model']):<20} "
            f"{_ci(sc['pr_auc']['hour_of_week_prior']):<20} {_ci(d, True):<21} "
            f"{_ci(sc['roc_auc']['model']):<20} {sc['roc_auc']['hour_of_week_prior']['value']:.3f}   "
            f"{ece['before_calibration']['value']:.3f} → {ece['after_calibration']['value']:.3f}        "
            f"({ece['hour_of_week_prior']['value']:.3f})"
        )
    print(f"\ntotal {time.perf_counter() - total:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(to_jsonable(rows), indent=1))


if __name__ == "__main__":
    main()
