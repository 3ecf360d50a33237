"""Commands that look after the installation: dev, doctor, bundles, catalog, forget, sample."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from spotify_assets.cli.reports import step_lines
from spotify_assets.cli.runtime import (
    REPO_ROOT,
    dagster_env,
    dagster_instance,
    launch,
    resources,
    unknown_format,
)


def cmd_bundles(args: argparse.Namespace) -> int:

    from spotify_assets.defs.partitions import ensure_bundle_partition, model_bundles
    from spotify_assets.lib.bundles import load_bundles

    catalog = load_bundles()
    with dagster_instance() as instance:
        if args.action == "add":
            bundle = catalog.by_name(args.name)
            ensure_bundle_partition(instance, bundle.hash)
            print(f"bundle {bundle.name} is partition {bundle.hash}")
            return 0
        known = set(instance.get_dynamic_partitions(model_bundles.name))
        for bundle in catalog.bundles.values():
            flags = ("default " if bundle.name == catalog.default else "") + (
                "registered" if bundle.hash in known else "not registered"
            )
            print(
                f"{bundle.hash}  {bundle.name:<20} {bundle.embedding.model} ({bundle.embedding.dims}d) [{flags}]"
            )
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Hold the embedded database open for the session and run `dagster dev` against it."""
    from spotify_assets.lib.store.server import describe_url, resolve_database_url

    env = dict(os.environ)
    # dagster dev starts its webserver and daemon as commands: find them next to this Python
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DATABASE_URL"] = resolve_database_url()  # this process keeps the server running
    dagster_env(env)
    workspace = REPO_ROOT / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.exists() else ["-m", "spotify_assets.definitions"]
    dev = ["dagster", "dev", *target, "--host", args.host, "--port", str(args.port)]
    # `dagster dev`, not `dg dev`: dg would start the project's environment itself (uv); this
    # one is already the project's, so its "use dg dev instead" notice is left out
    quiet = f"ignore:Function `dev_command` is superseded:{FutureWarning.__name__}"
    command = [sys.executable, "-W", quiet, "-m", *dev]
    print(
        f"database: {describe_url(env['DATABASE_URL'])}\n"
        f"Dagster instance: {describe_url(env['DAGSTER_PG_URL'])} (DAGSTER_HOME {env['DAGSTER_HOME']})"
    )
    print(" ".join(dev))
    # started in DAGSTER_HOME, whose dagster.yaml is the one in use: from the checkout, Dagster
    # warned that the checkout's own dagster.yaml (the template copied there) is not used
    return _run_forwarding_signals(command, env, Path(env["DAGSTER_HOME"]))


def _run_forwarding_signals(command: list[str], env: dict, cwd: Path | None) -> int:
    """Run `command` in its own process group and pass SIGINT / SIGTERM on to the whole group
    (webserver, daemon, code server), so stopping this process leaves none of them behind;
    then exit normally, which lets the embedded server stop with its last person."""
    import signal

    child = subprocess.Popen(
        command, env=env, cwd=cwd, start_new_session=True, preexec_fn=_default_stop_signals
    )
    received: list[int] = []

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = _wait_escalating(child, received)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group
            os.killpg(child.pid, signal.SIGTERM)
            time.sleep(3)
            os.killpg(child.pid, signal.SIGKILL)
    return 0 if received else code


def _default_stop_signals() -> None:
    """In the child, before exec: SIGINT and SIGTERM back to their defaults. An ignored signal
    stays ignored across exec, and a process started in the background (`nohup … &`, some
    service managers) ignores both: `dagster dev` then slept through every stop signal (and
    Python does not turn an ignored SIGINT into KeyboardInterrupt)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


RESEND_AFTER_S = 10.0  # a stop signal `dagster dev` missed (it can, while starting) is sent again
KILL_AFTER_S = 40.0  # then the group is killed


def _wait_escalating(child: subprocess.Popen, received: list[int]) -> int:
    """Wait for `child`; once a stop signal was forwarded, send it again after RESEND_AFTER_S
    and kill the group after KILL_AFTER_S, so that a child that does not stop on it cannot
    keep this process (and the embedded server it holds) waiting forever."""
    import signal

    first = resent = None
    while True:
        try:
            return child.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        if not received:
            continue
        now = time.monotonic()
        first = first or now
        with contextlib.suppress(ProcessLookupError):
            if now - first > KILL_AFTER_S:
                os.killpg(child.pid, signal.SIGKILL)
            elif now - first > RESEND_AFTER_S and resent is None:
                resent = now
                os.killpg(child.pid, received[-1])


def cmd_catalog(args: argparse.Namespace) -> int:
    """Load a catalog file (tracks, their features and playlists) and describe its tracks,
    without embedding it: the `load_catalog` job."""
    if not Path(args.path).exists():
        print(f"error: {args.path}: no such file", file=sys.stderr)
        return 2
    if why := unknown_format(args.format):
        print(f"error: {why}", file=sys.stderr)
        return 2
    from spotify_assets.defs import run_config

    config = run_config.catalog(str(Path(args.path).resolve()), args.format)
    with dagster_instance() as instance:
        run = launch("load_catalog", instance, run_config=config)
    if not run.success:
        return run.report_failure(f"loading {args.path}")
    for line in step_lines(run.reports(["catalog_tracks", "track_analyses"])):
        print(line)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    """Delete one person's data everywhere: their rows (shared songs others use are kept),
    their artifacts, their runs and partition."""
    from spotify_assets.defs.artifacts import document_key
    from spotify_assets.defs.people import forget_in_dagster
    from spotify_assets.lib.listening.ingest import join_unjoined
    from spotify_assets.lib.people import PersonNameError, check_person
    from spotify_assets.lib.store.matching import MatchRepository
    from spotify_assets.lib.store.people import PersonRepository
    from spotify_assets.lib.store.personal import forget

    try:
        check_person(args.person)
    except PersonNameError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.yes:
        print(
            f"this deletes everything of {args.person!r}: their plays, playlists, liked songs, "
            "settings, quarantined rows, retrains, models, suggestions, dashboards and runs. "
            "Songs other people also have are kept. Rerun with --yes to do it.",
            file=sys.stderr,
        )
        return 2
    with resources("database", "artifacts") as r:
        db = r.database.get()
        with db.connect() as conn:
            known = PersonRepository(conn).exists(args.person)
            contexts = MatchRepository(conn).contexts_of(args.person)
        join_unjoined(db)  # which songs the others play must be on record before cleaning
        with db.connect() as conn:
            report = forget(conn, args.person)
        store = r.artifacts.get()
        keys = store.list(f"listening/{args.person}/")
        keys += [k for b, c in contexts for k in store.list(f"matching/{b}/{c}/")]
        keys += [
            key for asset in _person_assets()
            if store.exists(key := document_key(asset, args.person))
        ]  # fmt: skip
        for key in keys:
            store.delete(key)
    with dagster_instance() as instance:
        runs = forget_in_dagster(instance, args.person)
    if not known and not runs and not keys:
        print(f"nothing stored for {args.person!r}")
        return 0
    print(f"forgot {args.person!r}:")
    for line in report.lines():
        print(f"  {line}")
    print(f"  artifacts {len(keys)}; Dagster runs {runs} (with their logs) and the partition")
    return 0


def _person_assets() -> list[str]:
    """Assets partitioned by person: each keeps one document per person."""
    from spotify_assets.definitions import defs
    from spotify_assets.defs.partitions import people

    return [
        spec.key.to_user_string()
        for spec in defs().resolve_all_asset_specs()
        if spec.partitions_def == people
    ]


def cmd_doctor(args: argparse.Namespace) -> int:
    from spotify_assets.doctor import diagnose, format_report, required_ok

    if args.fix:
        with dagster_instance() as instance:  # reaps and reports dead CLI runs on the way in
            stuck = [r.run_id for r in instance.get_runs(filters=_live_runs_here())]
        print(f"fix: {len(stuck)} run(s) of this host still running, all with a live process")
    checks = diagnose()
    print(format_report(checks))
    return 0 if required_ok(checks) else 1


def _live_runs_here():
    import socket

    import dagster as dg

    from spotify_assets.defs.runs import HOST_TAG, LIVE_STATUSES

    return dg.RunsFilter(statuses=LIVE_STATUSES, tags={HOST_TAG: socket.gethostname()})


def cmd_sample(args: argparse.Namespace) -> int:
    from spotify_assets.lib.sample import write_sample

    world = write_sample(Path(args.out), n_tracks=args.tracks, seed=args.seed)
    print(f"wrote {world.root} (generated sample data)")
    return 0
