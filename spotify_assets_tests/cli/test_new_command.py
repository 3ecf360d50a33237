"""The README's "Where to change what: a new CLI command", done: a command registered the way
the built-in ones are (a subparser with its handler as `func`), launching a named job with run
config from defs/run_config.py and printing the assets' typed reports (lib/reports.py)."""

import os
import subprocess
import sys

from spotify_assets.lib.sample import generate_tracks

SCRIPT = '''
import sys

from spotify_assets.cli import main
from spotify_assets.cli.reports import step_lines
from spotify_assets.cli.runtime import dagster_instance, launch


def cmd_load_twice(args):
    """Load a catalog file twice: the second load writes nothing, and says so."""
    from spotify_assets.defs import run_config

    with dagster_instance() as instance:
        for _ in range(2):
            run = launch("load_catalog", instance, run_config=run_config.catalog(args.path))
            if not run.success:
                return run.report_failure("loading the catalog")
            print("\\n".join(step_lines(run.reports(["catalog_tracks", "track_analyses"]))))
    return 0


def register(sub):
    command = sub.add_parser("load-twice", help="load a catalog file twice")
    command.add_argument("path")
    command.set_defaults(func=cmd_load_twice)


sys.exit(main(sys.argv[1:], extra=[register]))
'''


def run(env, *args):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_a_new_command_registers_launches_with_built_config_and_prints_typed_reports(
    tmp_path, database_url, dagster_pg_url
):
    catalog = tmp_path / "tracks.csv"
    generate_tracks(n_tracks=20, seed=3).to_csv(catalog, index=False)
    env = {**os.environ, "DATABASE_URL": database_url, "DAGSTER_PG_URL": dagster_pg_url,
           "SPOTIFY_ASSETS_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    env.pop("DAGSTER_HOME", None)

    listed = run(env, "--help")
    assert listed.returncode == 0 and "load-twice" in listed.stdout and "demo" in listed.stdout

    loaded = run(env, "load-twice", str(catalog))
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.splitlines() == [
        "  catalog_tracks    loaded 20, unchanged 0, duplicates 0, quarantined 0",
        "  track_analyses    written 20, unchanged 0",
        "  catalog_tracks    loaded 0, unchanged 20, duplicates 0, quarantined 0",
        "  track_analyses    written 0, unchanged 20",
    ]
