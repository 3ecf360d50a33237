"""A CLI run killed while it holds the `gpu` pool slot no longer blocks every later GPU step."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import dagster as dg
import pytest
import yaml

from spotify_assets.defs.runs import HOST_TAG, reap_dead_runs, run_tags
from spotify_assets.lib.store.server import forget_dead_handles


def _home(tmp_path, dagster_pg_url):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {
        "storage": {"postgres": {"postgres_url": dagster_pg_url}},
        "concurrency": {"pools": {"default_limit": 1}},
        "telemetry": {"enabled": False},
    }
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


HOLDER = textwrap.dedent(
    """
    import time
    import dagster as dg
    from spotify_assets.defs.runs import run_tags

    @dg.asset(pool="gpu")
    def holds_the_gpu():
        time.sleep(600)

    with dg.DagsterInstance.get() as instance:
        dg.materialize([holds_the_gpu], instance=instance, tags=run_tags())
    """
)


@dg.asset(pool="gpu")
def next_gpu_step() -> int:
    return 1


@pytest.mark.slow
def test_a_killed_run_is_failed_and_its_gpu_slot_freed(tmp_path, dagster_pg_url):
    home = _home(tmp_path, dagster_pg_url)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    child = subprocess.Popen([sys.executable, "-c", HOLDER], env=env)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        deadline = time.monotonic() + 120
        while not storage.get_concurrency_info("gpu").active_run_ids:
            assert child.poll() is None, "the holder exited early"
            assert time.monotonic() < deadline, "the holder never claimed the gpu slot"
            time.sleep(0.5)
        [held] = storage.get_concurrency_info("gpu").active_run_ids
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # the bug: the dead run stays STARTED and keeps the only gpu slot
        assert instance.get_run_by_id(held).status == dg.DagsterRunStatus.STARTED
        assert storage.get_concurrency_info("gpu").active_run_ids == {held}

        [reaped] = reap_dead_runs(instance)
        assert (reaped.run_id, reaped.pid, reaped.pools) == (held, child.pid, ("gpu",))
        assert instance.get_run_by_id(held).status == dg.DagsterRunStatus.FAILURE
        assert not storage.get_concurrency_info("gpu").active_run_ids
        assert reap_dead_runs(instance) == []  # once

        done = {}

        def next_run():
            done["result"] = dg.materialize([next_gpu_step], instance=instance, tags=run_tags())

        worker = threading.Thread(target=next_run, daemon=True)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "the next gpu step is still blocked"
        assert done["result"].success


def test_live_runs_and_other_hosts_are_left_alone(tmp_path, dagster_pg_url):
    home = _home(tmp_path, dagster_pg_url)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        mine = instance.create_run_for_job(
            dg.define_asset_job("j", [next_gpu_step]).resolve(
                asset_graph=dg.Definitions(assets=[next_gpu_step]).resolve_asset_graph()
            ),
            tags=run_tags(),
            status=dg.DagsterRunStatus.STARTED,
        )
        elsewhere = instance.create_run_for_job(
            dg.define_asset_job("k", [next_gpu_step]).resolve(
                asset_graph=dg.Definitions(assets=[next_gpu_step]).resolve_asset_graph()
            ),
            tags={HOST_TAG: "another-host", "spotify_assets/pid": "999999"},
            status=dg.DagsterRunStatus.STARTED,
        )
        assert reap_dead_runs(instance) == []  # this process lives; the other host is not ours
        for run in (mine, elsewhere):
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED


def test_dead_processes_are_dropped_from_the_embedded_servers_handle_list(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([os.getpid(), dead.pid]))
    assert forget_dead_handles(tmp_path) == [dead.pid]
    assert json.loads(handles.read_text()) == [os.getpid()]
