"""`spotify-assets import PATH --user NAME`: a person's whole privacy export, as Spotify ships
it (zip or folder): playlists, liked songs and streaming history, through the Dagster jobs;
then the songs no catalog file has are described and embedded, and coverage is printed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from spotify_assets.cli.listening import check_person_args, listening_job
from spotify_assets.cli.reports import step_lines
from spotify_assets.cli.runtime import dagster_instance, launch, resources


def check_import_args(args: argparse.Namespace) -> str | None:
    from spotify_assets.lib.listening.exports import ACCEPTED_NAMES
    from spotify_assets.lib.playlists.sources import export_parts

    if problem := check_person_args(args.person, args.timezone):
        return problem
    path = Path(args.path)
    if not path.exists():
        return f"{args.path}: no such file or folder"
    if export_parts(path).empty:
        return (
            f"{args.path}: no file of a Spotify privacy export here; import reads Playlist1.json "
            f"(Playlist2.json, …), YourLibrary.json and {ACCEPTED_NAMES}"
        )
    return None


def import_export(path: Path, person: str, bundle, timezone: str | None = None) -> int:
    """Launch the jobs that load each part the export has, then embed its new songs."""
    from spotify_assets.defs.partitions import (
        ensure_bundle_partition,
        ensure_person_partition,
        people,
    )
    from spotify_assets.lib.playlists.sources import export_parts

    parts = export_parts(path)
    print(
        f"importing {path} for {person}: {len(parts.playlists)} playlist file(s), "
        f"{'YourLibrary.json' if parts.library else 'no YourLibrary.json'}, "
        f"{len(parts.history)} streaming-history file(s)"
    )
    started = time.perf_counter()
    loads = []
    if parts.playlists:
        config = {"source": "export", "path": str(path)}
        loads.append(("load_playlists", "playlists", config))
    if parts.library:
        config = {"list": "liked", "source": str(path)}
        loads.append(("load_candidates", "candidates", config))
    with dagster_instance() as instance:
        ensure_bundle_partition(instance, bundle.hash)
        added = ensure_person_partition(instance, person)
        for job, asset, config in loads:
            run = launch(
                job, instance, partition_key=person, run_config={"ops": {asset: {"config": config}}}
            )
            if not run.success:
                if added and asset == "playlists":  # nothing of theirs was stored
                    instance.delete_dynamic_partition(people.name, person)
                return run.report_failure(f"loading {asset}")
            print("\n".join(step_lines(run.metadata(), [asset], width=22)))
    if parts.history:
        config = {"source": str(path), "timezone": timezone or ""}
        run_config = {"ops": {"listening_history": {"config": config}}}
        if code := listening_job("import_history", person, run_config, add=True, indent=""):
            return code
    print(
        f"describing and embedding the songs without a vector with {bundle.embedding.model} "
        f"(bundle {bundle.name}; minutes on a CPU for a whole catalog) …",
        flush=True,
    )
    with dagster_instance() as instance:
        run = launch(
            "embed_library",
            instance,
            partition_key=bundle.hash,
            tags={"bundle": bundle.name, "person": person},
        )
    if not run.success:
        return run.report_failure("describing and embedding the new songs")
    steps = ["track_enrichment", "track_analyses", "track_embeddings"]
    print("\n".join(step_lines(run.metadata(), steps, 22)))
    print(f"imported in {time.perf_counter() - started:.0f} s; what the pipeline can use now:")
    print_coverage(person, bundle)
    return 0


def print_coverage(person: str, bundle) -> None:
    from spotify_assets.lib.catalog.coverage import library_coverage

    with resources("database") as r:
        for row in library_coverage(r.database.get(), person, bundle.hash):
            print(f"  {row.line()}")


def cmd_import(args: argparse.Namespace) -> int:
    from spotify_assets.lib.bundles import load_bundles

    if problem := check_import_args(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    return import_export(Path(args.path).resolve(), args.person, bundle, args.timezone)
