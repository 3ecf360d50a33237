"""What every command shares: the Dagster instance, launching named jobs from the definitions,
and printing what they did (one line per step) or why they failed (once, no traceback)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spotify_assets.lib.reports import R, Report, read_report
from spotify_assets.settings import home_dir

if TYPE_CHECKING:
    import dagster as dg

REPO_ROOT = Path(__file__).resolve().parents[2]


def dagster_home() -> Path:
    """$SPOTIFY_ASSETS_HOME/dagster_home with the project's dagster.yaml, outside the repo."""
    dagster_home = home_dir() / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    if source.exists():
        shutil.copyfile(source, dagster_home / "dagster.yaml")
    return dagster_home


def dagster_env(env: dict | None = None) -> dict:
    """DAGSTER_HOME and the instance's Postgres (DAGSTER_PG_URL: a `dagster` database on the
    app's server unless set), in `env` (default: this process's environment)."""
    from spotify_assets.lib.store.server import dagster_storage_url

    env = os.environ if env is None else env
    env.setdefault("DAGSTER_HOME", str(dagster_home()))
    env.setdefault("DAGSTER_PG_URL", dagster_storage_url())
    return env


@contextlib.contextmanager
def dagster_instance():
    """The Dagster instance (on the embedded or configured Postgres), after releasing what
    runs of dead CLI processes on this host still hold (their `gpu` pool slot above all)."""
    import dagster as dg

    from spotify_assets.defs.people import adopt_legacy_partitions
    from spotify_assets.defs.runs import reap_dead_runs

    dagster_env()
    with dg.DagsterInstance.get() as instance:
        for reaped in reap_dead_runs(instance):
            print(f"note: {reaped.describe()}", file=sys.stderr)
        adopt_legacy_partitions(instance)  # people an older version kept as `listener` keys
        yield instance


def materializations(result) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): {
            k: getattr(v, "value", v)
            for k, v in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def print_failures(result) -> None:
    """Each failed step once: our own failures as written, anything else as its root cause."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            print(f"error: {event.step_key}: {root_cause(event.event_specific_data.error)}",
                  file=sys.stderr)  # fmt: skip


def root_cause(error) -> str:
    if error is None:
        return "failed"
    while error.cause is not None and error.cls_name != "Failure":
        error = error.cause
    if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
        return "interrupted; what was committed is kept, rerunning the command finishes the rest"
    message = error.message.strip()
    for prefix in ("dagster._core.definitions.events.Failure: ", f"{error.cls_name}: "):
        message = message.removeprefix(prefix)
    return message if error.cls_name == "Failure" else f"{error.cls_name}: {message}"


def expected_failure(exc: Exception) -> bool:
    """Failures a user can act on (a database out of reach, a bad setting), said in one line;
    anything else is a bug and keeps its traceback."""
    import psycopg

    from spotify_assets.lib.artifacts import ArtifactError
    from spotify_assets.lib.listening.timezones import TimezoneError

    names = {cls.__name__ for cls in type(exc).__mro__}
    return isinstance(exc, psycopg.OperationalError | TimezoneError | ArtifactError) or bool(
        names & {"DagsterPostgresException", "OperationalError"}
    )


def explain_failure(exc: Exception) -> str:
    from spotify_assets.lib.artifacts import ArtifactError
    from spotify_assets.lib.listening.timezones import TimezoneError

    if isinstance(exc, TimezoneError | ArtifactError):
        return str(exc)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"the database cannot be reached ({first}). Check DATABASE_URL / DAGSTER_PG_URL, or "
        "that the embedded server can start; work committed before this is kept, so rerunning "
        "the command finishes the rest"
    )


@contextlib.contextmanager
def resources(*keys: str) -> Iterator[Any]:
    """The code location's resources, built as Dagster builds them for a run (settings
    resolved, setup and teardown), for commands that use them outside one. Built from their
    two modules alone: a command that only reads the database does not need the whole code
    location (the components' plugin scan among it): `listening status` 6.9 → 5.8 s."""
    import dagster as dg

    from spotify_assets.defs.artifacts import artifact_run_resources
    from spotify_assets.defs.resources import run_resources

    available = {**run_resources(), **artifact_run_resources()}
    with dg.build_resources({k: available[k] for k in keys}) as built:
        yield built


def app_database():
    """The app's database as the `database` resource resolves it (DATABASE_URL, else the
    embedded server), without Dagster: a read-only command like search starts in a fraction of
    the time (importing Dagster alone takes about a second). One connection serves the command.
    """
    from spotify_assets.lib.store import Database, resolve_database_url

    return Database(resolve_database_url(), keep_open=True)


def query_embedder(bundle):
    """The `compute` resource's embedder for query text, from the same settings, without Dagster
    or (when the numpy encoder applies) torch: see lib/models/backends.py."""
    from spotify_assets.lib.models.backends import make_embedder
    from spotify_assets.settings import settings

    s = settings()
    return make_embedder(bundle.embedding, s.compute_backend, s.device, s.precision, queries=True)


def unknown_format(fmt: str) -> str | None:
    """Why `--format` names no catalog format, or None: said before any job starts."""
    from spotify_assets.lib.catalog.formats import FORMATS

    if fmt == "auto" or fmt in FORMATS:
        return None
    return f"unknown catalog format {fmt!r}; use auto or one of: {', '.join(FORMATS)}"


QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class JobRun:
    """A finished run of a named job: what each step reported, and whether it succeeded."""

    job: str
    result: Any  # dg.ExecuteInProcessResult

    @property
    def success(self) -> bool:
        return self.result.success

    def reports(self, order: Sequence[str]) -> list[tuple[str, Report]]:
        """(asset, its typed report) in `order`, for the steps that materialized in this run;
        a report that lacks a key fails here (lib/reports.py), naming the asset and key."""
        done = materializations(self.result)
        return [(asset, read_report(asset, done[asset])) for asset in order if asset in done]

    def report(self, asset: str, kind: type[R]) -> R | None:
        """`asset`'s report, None when it did not materialize in this run."""
        done = materializations(self.result)
        return read_report(asset, done[asset], kind) if asset in done else None

    def report_failure(self, what: str) -> int:
        print_failures(self.result)
        print(f"{what} failed; run id {self.result.run_id}", file=sys.stderr)
        return 1


CODE_LOCATION = "spotify_assets"  # workspace.yaml's location_name (and [tool.dg.project]'s)


def _job_origin(job: str):
    """The origin a run launched from the UI carries (this code location, its one repository):
    the UI lists a run under its job (the Overview timeline, the job's runs, re-execution) only
    through it, and a run made in this process has none of its own."""
    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    target = LoadableTargetOrigin(
        executable_path=sys.executable, module_name="spotify_assets.definitions",
        working_directory=str(REPO_ROOT),
    )  # fmt: skip
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, CODE_LOCATION)
    return RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME).get_job_origin(job)


def launch(
    job: str,
    instance,
    *,
    partition_key: str | None = None,
    run_config: dg.RunConfig | None = None,
    tags: dict[str, str] | None = None,
    asset_selection: Sequence[str] | None = None,
    log_level: str = "CRITICAL",
) -> JobRun:
    """Run the definitions' job `job` in this process (tagged with host and pid, see
    defs/runs.py), optionally for a subset of its assets; `run_config` comes from
    defs/run_config.py. The run is made as the UI makes one (the job reconstructable from the
    definitions module, this code location as its origin) and executed in this process with
    the in-process executor, step retries off."""
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import create_execution_plan, execute_run
    from dagster._core.execution.execute_in_process import merge_run_tags

    from spotify_assets.defs.runs import run_tags

    recon = ReconstructableRepository.for_module(
        "spotify_assets.definitions", "defs", str(REPO_ROOT)
    ).get_reconstructable_job(job)
    keys = frozenset(dg.AssetKey(a) for a in asset_selection) if asset_selection else None
    if keys:
        recon = recon.get_subset(asset_selection=keys)
    job_def = recon.get_definition()
    config = dict(run_config.to_config_dict()) if run_config else {}
    config["loggers"] = {"console": {"config": {"log_level": log_level}}}
    # No step retries here: Dagster retries a step with a RetryPolicy when it is interrupted
    # too (for a preempted pod), so Ctrl-C restarted the step it stopped. A person at a terminal
    # means stop; what was committed is kept and rerunning the command finishes the rest.
    config["execution"] = {"config": {"in_process": {"retries": {"disabled": {}}}}}
    merged = merge_run_tags(job_def, partition_key, {**run_tags(), **(tags or {})},
                            list(keys) if keys else None, instance, config)  # fmt: skip
    plan = create_execution_plan(recon, run_config=config, instance_ref=instance.get_ref(),
                                 tags=merged)  # fmt: skip
    run = instance.create_run_for_job(
        job_def=job_def, execution_plan=plan, run_config=config, tags=merged,
        asset_selection=keys, remote_job_origin=_job_origin(job),
        job_code_origin=recon.get_python_origin(),
    )  # fmt: skip
    return JobRun(job, execute_run(recon, run, instance))
