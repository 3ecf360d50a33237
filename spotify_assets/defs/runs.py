"""Runs whose process died (kill -9, a closed laptop lid, an OOM kill) release what they hold.

A run launched in-process by the CLI (`materialize`, `execute_in_process`) has no run worker
that Dagster's run monitoring could check: killed, it stays STARTED forever and keeps its `gpu`
pool slot, so every later GPU step waits for it. Every run the CLI launches is tagged with this
host and its process id; before launching, the CLI (and `spotify-assets doctor --fix`) marks such
runs whose process is gone as failed and frees their pool slots. Runs launched by the daemon or
the UI carry no such tags and are left to Dagster's run monitoring (dagster.yaml).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import dagster as dg

from spotify_assets.lib.store.server import process_exists

HOST_TAG, PID_TAG = "spotify_assets/host", "spotify_assets/pid"
LIVE_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def run_tags() -> dict[str, str]:
    """Tags for a run launched from this process: where to look for it later."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


@dataclass(frozen=True)
class ReapedRun:
    run_id: str
    job_name: str
    pid: int
    pools: tuple[str, ...]

    def describe(self) -> str:
        held = f", freed pool slot(s) {', '.join(self.pools)}" if self.pools else ""
        return f"run {self.run_id[:8]} ({self.job_name}) of dead process {self.pid} marked failed{held}"


def reap_dead_runs(instance: dg.DagsterInstance) -> list[ReapedRun]:
    """Mark this host's CLI runs whose process is gone as failed and free their pool slots."""
    host = socket.gethostname()
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=LIVE_STATUSES, tags={HOST_TAG: host}))
    reaped = []
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0") or 0)
        if pid <= 0 or pid == os.getpid() or process_exists(pid):
            continue
        pools = tuple(_pools_held(instance, run.run_id))
        instance.report_run_failed(
            run,
            message=f"process {pid} on {host} is gone (killed?): marked failed by spotify-assets "
            "so that what it held is released",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(ReapedRun(run.run_id, run.job_name, pid, pools))
    return reaped


def _pools_held(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    return sorted(
        key
        for key in storage.get_concurrency_keys()
        if run_id in storage.get_concurrency_info(key).active_run_ids
    )
