"""`spotify-assets demo`: the whole pipeline on the generated sample (or a catalog file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spotify_assets.cli.matching import sort_songs
from spotify_assets.cli.reports import step_lines
from spotify_assets.cli.runtime import dagster_instance, launch, resources, unknown_format
from spotify_assets.lib.people import DEFAULT_PERSON

SEED_QUERIES = (
    "sad acoustic songs for a rainy day",
    "fast high energy workout music",
    "calm instrumental music to focus",
)
CATALOG_STEPS = ["catalog_tracks", "track_analyses"]
BUNDLE_STEPS = ["track_embeddings", "search_index", "search_evaluation"]


def cmd_demo(args: argparse.Namespace) -> int:
    if why := unknown_format(args.format):
        print(f"error: {why}", file=sys.stderr)
        return 2
    from spotify_assets.defs import run_config
    from spotify_assets.defs.partitions import ensure_bundle_partition
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.sample import LABEL, ensure_sample
    from spotify_assets.lib.search.service import format_result, search
    from spotify_assets.lib.store.analyses import AnalysisRepository
    from spotify_assets.lib.store.embeddings import EmbeddingRepository
    from spotify_assets.lib.store.playlists import PlaylistRepository
    from spotify_assets.lib.store.quarantine import QuarantineRepository
    from spotify_assets.lib.store.server import describe_url
    from spotify_assets.lib.store.tracks import TrackRepository
    from spotify_assets.settings import home_dir, settings

    home = home_dir()
    source = args.catalog or str(ensure_sample(home).tracks_csv)
    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    with resources("database", "compute") as r:
        db = r.database.get()
        print(f"spotify_assets demo\n  data home: {home}\n  database:  {r.database.where()}")
        print(f"  catalog:   {source}" + ("" if args.catalog else f"\n             ({LABEL})"))
        if args.format != "auto":
            print(f"  format:    {args.format}")
        print(f"  bundle:    {bundle.name} ({bundle.hash}, {bundle.embedding.model})")
        with dagster_instance() as instance:
            # quiet: a refused file is said once below, not inside Dagster's stack traces
            loaded = launch(
                "load_catalog", instance, run_config=run_config.catalog(source, args.format)
            )
            if not loaded.success:
                return loaded.report_failure("the demo run")
            ensure_bundle_partition(instance, bundle.hash)
            embedded = launch(
                "embed_bundle", instance, partition_key=bundle.hash, log_level="INFO",
                tags={"bundle": bundle.name},
            )  # fmt: skip
            if not embedded.success:
                return embedded.report_failure("the demo run")

        with db.connect() as conn:
            tracks = TrackRepository(conn).count()
            playlists, memberships = PlaylistRepository(conn).counts()
            quarantined = QuarantineRepository(conn).count()
            described = AnalysisRepository(conn).count()
            vectors = EmbeddingRepository(conn).count(bundle.hash)
        print("\nmaterialized (this run):")
        for line in step_lines(loaded.reports(CATALOG_STEPS) + embedded.reports(BUNDLE_STEPS)):
            print(line)
        print("in the database:")
        print(
            f"  tracks {tracks}, track_analyses {described}, embeddings[{bundle.name}] "
            f"{vectors}, playlists {playlists} ({memberships} memberships), quarantined rows "
            f"{quarantined}"
        )
        embedder = r.compute.embedder(bundle)
        for query in SEED_QUERIES:
            print()
            print(format_result(search(db, bundle, embedder, query, limit=5)))

    if args.export:
        return export_demo(Path(args.export).resolve(), args.person, bundle)
    if args.catalog:
        if playlists:
            print(
                f"\nmatching: evaluating playlist matching on the catalog's {playlists} playlists"
            )
            code = sort_songs(bundle, None, "", "catalog", None, evaluate=True)
        else:
            print("\nmatching: this catalog has no playlists; sorting is shown on the sample")
            code = 0
    else:
        print("\nsorting your liked songs into your playlists (generated sample):")
        code = sort_songs(bundle, "liked", "sample", "sample", None, limit=6, evaluate=True)
        if code == 0:
            print("\nyour listening (generated sample history): full_retrain, then update")
            code = listening_demo()
    print(
        f"\nrun history: {describe_url(settings().dagster_pg_url)} (Dagster instance)\n"
        "open the UI: `.venv/bin/spotify-assets dev`, then http://127.0.0.1:3000\n"
        'search: `.venv/bin/spotify-assets search "dark techno with high energy"`\n'
        "sort: `.venv/bin/spotify-assets sort --candidates liked` "
        "(or --playlist 'Morning Run')"
    )
    return code


def export_demo(path: Path, person: str, bundle) -> int:
    """A real person: their whole export imported, a few liked songs sorted into their own
    playlists, and their listening models."""
    from spotify_assets.cli.library import import_export, print_coverage
    from spotify_assets.cli.listening import listening_job
    from spotify_assets.cli.matching import STORED

    print(f"\n{person}'s export: before the import, what the pipeline can use")
    print_coverage(person, bundle)
    code = import_export(path, person, bundle)
    if code:
        return code
    print(f"\nsorting {person}'s liked songs into {person}'s own playlists:")
    code = sort_songs(bundle, "liked", STORED, None, None, limit=6, person=person)
    if code:
        return code
    print(f"\n{person}'s listening: full_retrain")
    return listening_job("full_retrain", person, None, indent="  ")


def listening_demo() -> int:
    """Import the generated history, then run the daily `full_retrain` and the 30-minute
    `update` jobs on it, as the schedules would."""
    from spotify_assets.cli.listening import listening_job
    from spotify_assets.defs import run_config

    steps = (
        ("import_history", run_config.history("sample")),
        ("full_retrain", None),
        ("update", run_config.history("none")),
    )
    for job, config in steps:
        code = listening_job(job, DEFAULT_PERSON, config, add=job == "import_history", indent="  ")
        if code:
            return code
    return 0
