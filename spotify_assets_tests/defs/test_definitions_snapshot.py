"""What the code location defines, as plain text, against a committed snapshot: a change to an
asset's partitions, group or kinds, a check, a job, a schedule's cron or a sensor shows up as a
diff to review instead of slipping through.

Regenerate after an intended change:
    UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest spotify_assets_tests/defs/test_definitions_snapshot.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import dagster as dg

from spotify_assets.definitions import defs

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.txt")
REGENERATE = (
    "UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest "
    "spotify_assets_tests/defs/test_definitions_snapshot.py"
)


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str:
    if partitions_def is None:
        return "-"
    name = getattr(partitions_def, "name", None)
    return name if name else type(partitions_def).__name__


def _status(status) -> str:
    return getattr(status, "value", str(status)).lower()


def snapshot_text(definitions: dg.Definitions) -> str:
    graph = definitions.resolve_asset_graph()
    lines = [f"# spotify_assets.definitions; regenerate: {REGENERATE}", ""]

    lines.append("[assets] key | partitions | group | kinds")
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        kinds = ", ".join(sorted(node.kinds)) or "-"
        lines.append(
            f"{key.to_user_string()} | {_partitions(node.partitions_def)} | {node.group_name} "
            f"| {kinds}"
        )

    lines += ["", "[asset checks] asset:check | blocking"]
    checks = sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name))
    for check in checks:
        spec = graph.get_check_spec(check)
        blocking = "blocking" if spec.blocking else "-"
        lines.append(f"{check.asset_key.to_user_string()}:{check.name} | {blocking}")

    lines += ["", "[jobs] name | partitions | assets"]
    for job in sorted(definitions.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):  # Dagster's implicit asset job
            continue
        keys = sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys)
        lines.append(f"{job.name} | {_partitions(job.partitions_def)} | {', '.join(keys) or '-'}")

    lines += ["", "[schedules] name | cron | timezone | job | default status"]
    for schedule in sorted(definitions.schedules or [], key=lambda s: s.name):
        lines.append(
            f"{schedule.name} | {schedule.cron_schedule} | {schedule.execution_timezone} "
            f"| {schedule.job_name} | {_status(schedule.default_status)}"
        )

    lines += ["", "[sensors] name | jobs | minimum interval (s) | default status"]
    for sensor in sorted(definitions.sensors or [], key=lambda s: s.name):
        jobs = ", ".join(sorted(t.job_name for t in sensor.targets)) or "-"
        lines.append(
            f"{sensor.name} | {jobs} | {sensor.minimum_interval_seconds} "
            f"| {_status(sensor.default_status)}"
        )
    return "\n".join(lines) + "\n"


def test_definitions_match_the_committed_snapshot():
    actual = snapshot_text(defs())
    if os.environ.get("UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(actual)
    expected = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT.name} (committed)",
                tofile="definitions now",
            )
        )
        raise AssertionError(
            f"the Dagster definitions changed against {SNAPSHOT.name}:\n{diff}\n"
            f"If the change is intended, regenerate the snapshot and commit it:\n    {REGENERATE}"
        )
