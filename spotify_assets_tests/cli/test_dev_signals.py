"""`spotify-assets dev`'s supervisor: a stop signal reaches the whole group, is sent again when
the child missed it, and the group is killed when even that is ignored."""

import os
import signal
import sys
import threading
import time

import pytest

from spotify_assets.cli import admin

# a child that ignores the first SIGTERM (as `dagster dev` can while it starts) and exits on
# the second; with IGNORE_ALL it ignores every SIGTERM
CHILD = """
import signal, sys, time
seen = []
def on_term(signum, frame):
    seen.append(signum)
    if len(seen) >= 2 and not {ignore_all}:
        sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.1)
"""


def _stop_self_after(seconds: float) -> None:
    threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()


@pytest.mark.parametrize("ignore_all", [False, True], ids=["missed once", "ignores all"])
def test_a_missed_stop_signal_is_sent_again_then_the_group_is_killed(monkeypatch, ignore_all):
    monkeypatch.setattr(admin, "RESEND_AFTER_S", 1.0)
    monkeypatch.setattr(admin, "KILL_AFTER_S", 3.0)
    command = [sys.executable, "-c", CHILD.format(ignore_all=ignore_all)]
    _stop_self_after(1.0)  # as a user's Ctrl-C / a service manager's SIGTERM to the wrapper
    started = time.monotonic()
    code = admin._run_forwarding_signals(command, dict(os.environ), None)
    elapsed = time.monotonic() - started
    assert code == 0  # stopped on request
    if ignore_all:
        assert 4.0 <= elapsed < 10.0  # killed after KILL_AFTER_S
    else:
        assert 2.0 <= elapsed < 4.0  # the second SIGTERM, after RESEND_AFTER_S


def test_the_child_stops_on_sigterm_even_when_this_process_was_started_ignoring_it(monkeypatch):
    """Started in the background (`nohup … &`), a process ignores SIGINT and SIGTERM and its
    children inherit that; the supervisor gives its child the defaults back, so the forwarded
    SIGTERM stops it at once instead of after the resend and the kill."""
    monkeypatch.setattr(admin, "RESEND_AFTER_S", 3.0)
    monkeypatch.setattr(admin, "KILL_AFTER_S", 6.0)
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        command = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
        _stop_self_after(1.0)
        started = time.monotonic()
        assert admin._run_forwarding_signals(command, dict(os.environ), None) == 0
        assert time.monotonic() - started < 2.9  # the first SIGTERM stopped it
    finally:
        signal.signal(signal.SIGTERM, previous)
