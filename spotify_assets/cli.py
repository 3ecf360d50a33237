"""`spotify-assets`: run the demo, start the UI on the embedded database, write the sample."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _dagster_home() -> Path:
    """$SPOTIFY_ASSETS_HOME/dagster_home with the project's dagster.yaml, outside the repo."""
    from spotify_assets.lib.store.server import home_dir

    dagster_home = home_dir() / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    source = REPO_ROOT / "dagster.yaml"
    if source.exists():
        shutil.copyfile(source, dagster_home / "dagster.yaml")
    return dagster_home


def cmd_demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from spotify_assets.defs.analyses.assets import track_analyses
    from spotify_assets.defs.analyses.checks import every_track_described
    from spotify_assets.defs.catalog.assets import catalog_tracks
    from spotify_assets.defs.catalog.checks import no_duplicate_track_ids
    from spotify_assets.defs.resources import database_resource
    from spotify_assets.lib.sample import LABEL, ensure_sample
    from spotify_assets.lib.store.analyses import AnalysisRepository
    from spotify_assets.lib.store.playlists import PlaylistRepository
    from spotify_assets.lib.store.quarantine import QuarantineRepository
    from spotify_assets.lib.store.server import home_dir
    from spotify_assets.lib.store.tracks import TrackRepository

    home = home_dir()
    source = args.catalog or str(ensure_sample(home).tracks_csv)
    database = database_resource()
    db = database.get()
    print(f"spotify_assets demo\n  data home: {home}\n  database:  {database.where()}")
    print(f"  catalog:   {source}" + ("" if args.catalog else f"\n             ({LABEL})"))

    os.environ.setdefault("DAGSTER_HOME", str(_dagster_home()))
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [catalog_tracks, track_analyses, no_duplicate_track_ids, every_track_described],
            resources={"database": database},
            instance=instance,
            run_config={
                "ops": {"catalog_tracks": {"config": {"path": source}}},
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
            },
            raise_on_error=False,
        )
        metadata = {
            event.asset_key.to_user_string(): event.step_materialization_data.materialization.metadata
            for event in result.get_asset_materialization_events()
        }
    if not result.success:
        print("\nthe demo run failed; see the log above", file=sys.stderr)
        return 1

    with db.connect() as conn:
        tracks = TrackRepository(conn).count()
        playlists, memberships = PlaylistRepository(conn).counts()
        quarantined = QuarantineRepository(conn).count()
        analyses = AnalysisRepository(conn)
        described, examples = analyses.count(), analyses.descriptions(2)

    def meta(asset: str, key: str) -> object:
        value = metadata.get(asset, {}).get(key)
        return getattr(value, "value", value)

    print("\nmaterialized (this run):")
    print(
        f"  catalog_tracks   loaded {meta('catalog_tracks', 'loaded')}, "
        f"unchanged {meta('catalog_tracks', 'unchanged')}, "
        f"duplicates {meta('catalog_tracks', 'duplicates')}, "
        f"quarantined {meta('catalog_tracks', 'quarantined')}"
    )
    print(
        f"  track_analyses   written {meta('track_analyses', 'written')}, "
        f"unchanged {meta('track_analyses', 'unchanged')}"
    )
    print("in the database:")
    print(
        f"  tracks {tracks}, track_analyses {described}, playlists {playlists} "
        f"({memberships} memberships), quarantined rows {quarantined}"
    )
    for track_id, description in examples:
        print(f"  e.g. {track_id}: {description}")
    print(
        f"\nrun history: {os.environ['DAGSTER_HOME']}\n"
        "open the UI: `.venv/bin/spotify-assets dev`, then http://127.0.0.1:3000"
    )
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """Hold the embedded database open for the session and run `dagster dev` against it."""
    from spotify_assets.lib.store.server import describe_url, resolve_database_url

    env = dict(os.environ)
    env["DATABASE_URL"] = resolve_database_url()  # this process keeps the server running
    env.setdefault("DAGSTER_HOME", str(_dagster_home()))
    workspace = REPO_ROOT / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.exists() else ["-m", "spotify_assets.definitions"]
    command = ["dagster", "dev", *target, "--host", args.host, "--port", str(args.port)]
    print(f"database: {describe_url(env['DATABASE_URL'])}\nDAGSTER_HOME: {env['DAGSTER_HOME']}")
    print(" ".join(command))
    try:
        return subprocess.call(command, env=env, cwd=REPO_ROOT if workspace.exists() else None)
    except KeyboardInterrupt:
        return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from spotify_assets.lib.sample import write_sample

    world = write_sample(Path(args.out), n_tracks=args.tracks, seed=args.seed)
    print(f"wrote {world.root} (generated sample data)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spotify-assets", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="materialize the pipeline on the generated sample")
    demo.add_argument("--catalog", help="load this catalog file instead of the sample")
    demo.set_defaults(func=cmd_demo)

    dev = sub.add_parser("dev", help="start the embedded database and the Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)

    sample = sub.add_parser("sample", help="write the generated sample world to a folder")
    sample.add_argument("out")
    sample.add_argument("--tracks", type=int, default=5000)
    sample.add_argument("--seed", type=int, default=42)
    sample.set_defaults(func=cmd_sample)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
