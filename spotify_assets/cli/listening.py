"""`spotify-assets listening import|retrain|update|status` and `import-history`: one listener
(the `listener` partition named by --user) at a time, through the listening jobs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spotify_assets.cli.runtime import dagster_instance, launch, resources

LISTENING_JOBS = ("import_history", "update", "full_retrain")


LISTENING_ORDER = (
    "listening_history", "play_features", "mood_clusters", "listening_models",
    "listening_predictions", "drift_report", "listening_dashboard",
)  # fmt: skip


def listeners_with_plays() -> set[str]:
    from spotify_assets.lib.store.listening import ListenerRepository

    with resources("database") as r, r.database.get().connect() as conn:
        return set(ListenerRepository(conn).with_plays())


def known_listeners(instance) -> set[str]:
    """Listener partitions, after adding any listener the database has plays for (a database
    from before partitions, or one filled by another instance)."""
    from spotify_assets.defs.partitions import listeners

    known = set(instance.get_dynamic_partitions(listeners.name))
    stored = listeners_with_plays()
    if missing := sorted(stored - known):
        instance.add_dynamic_partitions(listeners.name, missing)
    return known | stored


def listening_job(
    job: str, user: str, run_config: dict, add: bool = False, indent: str = ""
) -> int:
    """Launch a listening job from the definitions for one listener (the partition); print one
    summary line per step, or the failure once, without a stack trace. With `add`, a listener
    new to this instance becomes a partition, removed again if the run stored nothing."""
    from spotify_assets.defs.partitions import listeners

    with dagster_instance() as instance:
        known = known_listeners(instance)
        new = user not in known
        if new and not add:
            print(
                f"error: no listener {user!r} yet (known: {', '.join(sorted(known)) or 'none'})"
                f": import a history first: spotify-assets listening import PATH --user {user}",
                file=sys.stderr,
            )
            return 2
        if new:
            instance.add_dynamic_partitions(listeners.name, [user])
        print(f"{indent}{job} for {user} …", flush=True)
        run = launch(job, instance, partition_key=user, run_config=run_config)
        if new and not run.success and user not in listeners_with_plays():
            instance.delete_dynamic_partition(listeners.name, user)  # nothing was stored
    for asset, line in run.summaries(LISTENING_ORDER):
        print(f"{indent}  {asset:<22}{line}")
    if not run.success:
        return run.report_failure(f"{job} for {user}")
    return 0


def check_person(user: str, timezone: str | None) -> str | None:
    """What is wrong with a `--user` name (a partition key) or a `--timezone`, if anything."""
    from spotify_assets.defs.listening.automation import ListenerNameError, check_listener
    from spotify_assets.lib.listening.timezones import TimezoneError, validate

    try:
        check_listener(user)
        if timezone:
            validate(timezone)
    except (ListenerNameError, TimezoneError) as exc:
        return str(exc)
    return None


def check_listening_args(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, before anything is started or stored."""
    from spotify_assets.defs.listening.automation import api_listener

    if problem := check_person(args.user, args.timezone):
        return problem
    if args.action == "import" and not args.path:
        return "listening import needs a PATH (file, folder or zip)"
    if args.action == "import" and not Path(args.path).exists():
        return f"{args.path}: no such file or folder"
    if args.action == "retrain" and args.bootstrap < 50:
        return f"--bootstrap {args.bootstrap}: use at least 50 resamples for a CI"
    if args.action == "update" and args.source == "api" and args.user != api_listener():
        return (
            f"--source api reads the Spotify account of listener {api_listener()!r} "
            f"($SPOTIFY_ASSETS_API_LISTENER), not {args.user!r}"
        )
    return None


def store_timezone(user: str, timezone: str | None) -> None:
    if timezone:
        from spotify_assets.lib.store.listening import ListenerRepository

        with resources("database") as r, r.database.get().connect() as conn:
            ListenerRepository(conn).ensure(user, timezone)


def cmd_listening(args: argparse.Namespace) -> int:
    """import | retrain | update | status for one listener (`--user`, the partition key)."""
    if problem := check_listening_args(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.action == "status":
        return listening_status(args.user)
    if args.action == "import":
        config = {"source": str(Path(args.path).resolve()), "timezone": args.timezone or ""}
        run_config = {"ops": {"listening_history": {"config": config}}}
        return listening_job("import_history", args.user, run_config, add=True)
    if args.action == "retrain":
        job = "full_retrain"
        run_config = {"ops": {"listening_models": {"config": {"bootstrap": args.bootstrap}}}}
    else:
        job = "update"
        source = args.source or "none"
        if source not in ("none", "api", "sample"):
            source = str(Path(source).resolve())
        run_config = {"ops": {"listening_history": {"config": {"source": source}}}}
    if args.timezone:  # stored only for a listener that exists
        with dagster_instance() as instance:
            known = args.user in known_listeners(instance)
        if known:
            store_timezone(args.user, args.timezone)
    return listening_job(job, args.user, run_config)


def listening_status(user: str) -> int:
    from spotify_assets.defs.artifacts import document_key
    from spotify_assets.lib.artifacts import ArtifactNotFound
    from spotify_assets.lib.listening.status import format_status, listener_status

    with resources("database", "artifacts") as r:
        try:
            drift = r.artifacts.get().get_json(document_key("drift_report", user))
        except ArtifactNotFound:
            drift = None
        print(format_status(listener_status(r.database.get(), user, drift)))
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """`import-history PATH`: the same as `listening import PATH`."""
    args.action = "import"
    return cmd_listening(args)
