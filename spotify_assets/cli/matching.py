"""`spotify-assets sort`: which of your playlists each song belongs in."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spotify_assets.cli.reports import step_lines
from spotify_assets.cli.runtime import dagster_instance, launch, resources
from spotify_assets.lib.people import DEFAULT_PERSON

STORED = "stored"  # --source: sort the list as stored, load nothing
MATCH_STEPS = ["track_emotions", "playlist_profiles", "match_results", "match_evaluation"]


def sort_songs(
    bundle,
    candidates_list: str | None,
    source: str,
    playlist_source: str | None,
    playlist: str | None,
    limit: int | None = None,
    evaluate: bool = False,
    person: str = DEFAULT_PERSON,
    playlists_path: str | None = None,
) -> int:
    """Load playlists (when asked) and candidates, then run the bundle's matching job and
    print the suggestions. Without a candidates list only the evaluation is run."""
    from spotify_assets.defs import run_config
    from spotify_assets.defs.partitions import ensure_bundle_partition, ensure_person_partition
    from spotify_assets.lib.matching.report import format_by_song, format_for_playlist
    from spotify_assets.lib.reports import MatchesReport
    from spotify_assets.lib.store.matching import MatchRepository

    quiet = "CRITICAL"  # failures are printed once, by report_failure
    # the catalog's own playlists belong to no one: profiles and the evaluation read them, and
    # the person's songs are sorted into them
    catalog = playlist_source == "catalog"
    if candidates_list:
        job = "match_bundle" if evaluate else "suggest_playlists"
    else:
        job = "evaluate_matching"
    with dagster_instance() as instance:
        ensure_bundle_partition(instance, bundle.hash)
        ensure_person_partition(instance, person)
        loads = []
        if playlist_source and not catalog:
            config = run_config.playlists(playlist_source, playlists_path or "")
            loads.append(("load_playlists", "playlists", config))
        if candidates_list and source != STORED:
            config = run_config.candidates(candidates_list, source)
            loads.append(("load_candidates", "candidates", config))
        for name, asset, config in loads:
            run = launch(name, instance, partition_key=person, run_config=config, log_level=quiet)
            if not run.success:
                return run.report_failure(f"loading {asset}")
        steps = [s for s in MATCH_STEPS if s != "match_results" or candidates_list]
        steps = [s for s in steps if s != "match_evaluation" or evaluate]
        run = launch(
            job, instance, partition_key=bundle.hash, log_level=quiet,
            run_config=run_config.matching(steps, person, candidates_list, catalog),
            tags={"bundle": bundle.name, "person": person},
        )  # fmt: skip
    if not run.success:
        return run.report_failure("matching (is the bundle embedded? run `demo`)")
    for line in step_lines(run.reports(["playlist_profiles", "match_results", "match_evaluation"])):
        print(line)
    matches = run.report("match_results", MatchesReport)
    if matches is None:
        return 0
    with resources("database") as r, r.database.get().connect() as conn:
        results = MatchRepository(conn).results(matches.context_hash)
    print()
    print(
        format_for_playlist(results, playlist) if playlist else format_by_song(results, limit=limit)
    )
    return 0


def default_source(person: str, list_name: str) -> str:
    """The list already stored for `person` (an `import` stored their liked songs), else the
    generated sample's."""
    from spotify_assets.lib.store.matching import CandidateRepository

    with resources("database") as r, r.database.get().connect() as conn:
        stored = CandidateRepository(conn).lists(person)
    return STORED if stored.get(list_name) else "sample"


def cmd_sort(args: argparse.Namespace) -> int:
    from spotify_assets.lib.bundles import load_bundles

    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    if args.candidates == "file" and not args.file:
        print("error: --candidates file needs --file PATH (a CSV of track ids)", file=sys.stderr)
        return 2
    if args.playlists_path and args.playlists != "export":
        print("error: --playlists-path goes with --playlists export", file=sys.stderr)
        return 2
    if args.playlists == "export" and not args.playlists_path:
        print(
            "error: --playlists export needs --playlists-path (the export's Playlist1.json, its "
            "folder or its zip)",
            file=sys.stderr,
        )
        return 2
    playlists_path = str(Path(args.playlists_path).resolve()) if args.playlists_path else None
    source = args.file or args.source or default_source(args.person, args.candidates)
    if source not in ("sample", "spotify", STORED):
        source = str(Path(source).resolve())
    return sort_songs(
        bundle, args.candidates, source, args.playlists, args.playlist, args.limit,
        person=args.person, playlists_path=playlists_path,
    )  # fmt: skip
