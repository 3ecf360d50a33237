"""`spotify-assets listening import|retrain|update|status` and `import-history`: one person
(the `person` partition named by --person) at a time, through the listening jobs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from spotify_assets.cli.runtime import dagster_instance, launch, resources

if TYPE_CHECKING:
    import dagster as dg

LISTENING_JOBS = ("import_history", "update", "full_retrain")


LISTENING_ORDER = (
    "listening_history", "play_features", "mood_clusters", "listening_models",
    "listening_predictions", "drift_report", "listening_dashboard",
)  # fmt: skip


def people_with_plays() -> set[str]:
    from spotify_assets.lib.store.people import PersonRepository

    with resources("database") as r, r.database.get().connect() as conn:
        return set(PersonRepository(conn).with_plays())


def known_people(instance) -> set[str]:
    """Person partitions, after adding any person the database has plays for (a database
    from before partitions, or one filled by another instance)."""
    from spotify_assets.defs.partitions import people

    known = set(instance.get_dynamic_partitions(people.name))
    stored = people_with_plays()
    if missing := sorted(stored - known):
        instance.add_dynamic_partitions(people.name, missing)
    return known | stored


def listening_job(
    job: str, person: str, run_config: dg.RunConfig | None, add: bool = False, indent: str = ""
) -> int:
    """Launch a listening job from the definitions for one person (the partition); print one
    summary line per step, or the failure once, without a stack trace. With `add`, a person
    new to this instance becomes a partition, removed again if the run stored nothing."""
    from spotify_assets.cli.reports import file_accounts
    from spotify_assets.defs.partitions import people

    with dagster_instance() as instance:
        known = known_people(instance)
        new = person not in known
        if new and not add:
            print(
                f"error: no person {person!r} yet (known: {', '.join(sorted(known)) or 'none'})"
                f": import a history first: spotify-assets listening import PATH --person {person}",
                file=sys.stderr,
            )
            return 2
        if new:
            instance.add_dynamic_partitions(people.name, [person])
        print(f"{indent}{job} for {person} …", flush=True)
        run = launch(job, instance, partition_key=person, run_config=run_config)
        if new and not run.success and person not in people_with_plays():
            instance.delete_dynamic_partition(people.name, person)  # nothing was stored
    reports = run.reports(LISTENING_ORDER)
    for asset, report in reports:
        print(f"{indent}  {asset:<22}{report.line()}")
    for account in file_accounts(reports):
        print(f"{indent}    {account.line()}")
    if not run.success:
        return run.report_failure(f"{job} for {person}")
    return 0


def check_person_args(person: str, timezone: str | None) -> str | None:
    """What is wrong with a `--person` name (a partition key) or a `--timezone`, if anything."""
    from spotify_assets.lib.listening.timezones import TimezoneError, validate
    from spotify_assets.lib.people import PersonNameError, check_person

    try:
        check_person(person)
        if timezone:
            validate(timezone)
    except (PersonNameError, TimezoneError) as exc:
        return str(exc)
    return None


def check_listening_args(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, before anything is started or stored."""
    from spotify_assets.defs.listening.common import api_person

    if problem := check_person_args(args.person, args.timezone):
        return problem
    if args.action == "import" and not args.path:
        return "listening import needs a PATH (file, folder or zip)"
    if args.action == "import" and not Path(args.path).exists():
        return f"{args.path}: no such file or folder"
    if args.action == "retrain" and args.bootstrap < 50:
        return f"--bootstrap {args.bootstrap}: use at least 50 resamples for a CI"
    if args.action == "update" and args.source == "api" and args.person != api_person():
        return (
            f"--source api reads the Spotify account of person {api_person()!r} "
            f"($SPOTIFY_ASSETS_API_PERSON), not {args.person!r}"
        )
    return None


def store_timezone(person: str, timezone: str | None) -> None:
    if timezone:
        from spotify_assets.lib.store.people import PersonRepository

        with resources("database") as r, r.database.get().connect() as conn:
            PersonRepository(conn).ensure(person, timezone)


def cmd_listening(args: argparse.Namespace) -> int:
    """import | retrain | update | status for one person (`--person`, the partition key)."""
    if problem := check_listening_args(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.action == "status":
        return listening_status(args.person)
    from spotify_assets.defs import run_config

    if args.action == "import":
        path = str(Path(args.path).resolve())
        config = run_config.history(path, args.timezone or "")
        return listening_job("import_history", args.person, config, add=True)
    if args.action == "retrain":
        job = "full_retrain"
        config = run_config.retrain(args.bootstrap)
    else:
        job = "update"
        source = args.source or "none"
        if source not in ("none", "api", "sample"):
            source = str(Path(source).resolve())
        config = run_config.history(source)
    if args.timezone:  # stored only for a person that exists
        with dagster_instance() as instance:
            known = args.person in known_people(instance)
        if known:
            store_timezone(args.person, args.timezone)
    return listening_job(job, args.person, config)


def listening_status(person: str) -> int:
    from spotify_assets.defs.artifacts import document_key
    from spotify_assets.lib.artifacts import ArtifactNotFound
    from spotify_assets.lib.listening.status import format_status, person_status

    with resources("database", "artifacts") as r:
        try:
            drift = r.artifacts.get().get_json(document_key("drift_report", person))
        except ArtifactNotFound:
            drift = None
        print(format_status(person_status(r.database.get(), person, drift)))
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """`import-history PATH`: the same as `listening import PATH`."""
    args.action = "import"
    return cmd_listening(args)
