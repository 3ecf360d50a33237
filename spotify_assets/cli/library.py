"""`spotify-assets import PATH --person NAME`: a person's whole privacy export, as Spotify ships
it (zip or folder): playlists, liked songs and streaming history, through the Dagster jobs;
then the songs no catalog file has are described and embedded, and coverage is printed.

Two things run beside the steps they do not depend on, because the CPU, not the database, is
most of a big import: the embedding model loads in a thread while the parts are stored (those
steps mostly wait on Postgres), and the co-listening vectors are learned in a second process
while the new songs are embedded (each reads what the other does not write)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING

from spotify_assets.cli.listening import check_person_args
from spotify_assets.cli.reports import file_accounts, step_lines
from spotify_assets.cli.runtime import (
    dagster_instance,
    expected_failure,
    explain_failure,
    launch,
    resources,
)

if TYPE_CHECKING:
    from spotify_assets.lib.export.accounting import FileAccount

log = logging.getLogger(__name__)


def check_import_args(args: argparse.Namespace) -> str | None:
    from spotify_assets.lib.export.files import ExportError, find
    from spotify_assets.lib.export.history import ACCEPTED_NAMES

    if problem := check_person_args(args.person, args.timezone):
        return problem
    path = Path(args.path)
    if not path.exists():
        return f"{args.path}: no such file or folder"
    try:
        files = find(path)
    except ExportError:
        return None  # refused when the import reads it: one error, and nothing written
    if files.empty:
        return (
            f"{args.path}: no file of a Spotify privacy export here; import reads Playlist1.json "
            f"(Playlist2.json, …), YourLibrary.json and {ACCEPTED_NAMES}"
        )
    return None


PARTS = (  # (part, job, asset, what it stores), in import order
    ("playlists", "load_playlists", "playlists", "playlists"),
    ("library", "load_candidates", "candidates", "liked songs"),
    ("history", "import_history", "listening_history", "streaming history"),
)


def import_export(path: Path, person: str, bundle, timezone: str | None = None) -> int:
    """Validate every file of the export, then launch the jobs that load each part it has,
    then embed its new songs. A file that cannot be read refuses the whole export before
    anything is written; a part that fails later (the database went away) leaves the parts
    before it stored, and the summary says which."""
    from spotify_assets.defs import run_config
    from spotify_assets.defs.partitions import ensure_bundle_partition, ensure_person_partition
    from spotify_assets.defs.people import person_tags
    from spotify_assets.lib.export import read_export
    from spotify_assets.lib.export.files import ExportError

    started = time.perf_counter()
    try:
        contents = read_export(path, person)  # every file parsed: refusals come now
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"nothing of {path} was imported for {person}", file=sys.stderr)
        return 1
    print(f"importing {path} for {person}: {contents.files.describe()}; every file read")
    present = {
        "playlists": contents.playlists is not None,
        "library": contents.liked is not None,
        "history": contents.history is not None,
    }
    configs = {
        "playlists": run_config.playlists("export", str(path)),
        "library": run_config.candidates("liked", str(path)),
        "history": run_config.history(str(path), timezone or ""),
    }
    stored: list[str] = []
    accounts: list[FileAccount] = []
    preload_embedder(bundle)
    with dagster_instance() as instance:
        ensure_bundle_partition(instance, bundle.hash)
        ensure_person_partition(instance, person)
        for part, job, asset, what in PARTS:
            if not present[part]:
                continue
            run = launch(job, instance, partition_key=person, run_config=configs[part])
            if not run.success:
                left = [w for p, _, _, w in PARTS if present[p] and w not in stored and w != what]
                print(
                    f"stored: {', '.join(stored) or 'nothing'}; not stored: {what}"
                    + (f", {', '.join(left)}" if left else "")
                    + ". Rerun the import to finish (what was stored is kept once).",
                    file=sys.stderr,
                )
                return run.report_failure(f"loading {what}")
            stored.append(what)
            reports = run.reports([asset])
            print("\n".join(step_lines(reports, width=22)))
            accounts += file_accounts(reports)
    print("every row of every file:")
    for account in accounts:
        print(f"  {account.line()}")
    print(
        f"learning co-listening vectors, and describing and embedding the songs without a "
        f"vector with {bundle.embedding.model} (bundle {bundle.name}; minutes on a CPU for a "
        "whole catalog) …",
        flush=True,
    )
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as beside:
        colistening = beside.submit(learn_colistening, person)
        with dagster_instance() as instance:
            run = launch(
                "embed_library", instance, partition_key=bundle.hash,
                tags={"bundle": bundle.name, **person_tags(person)},
            )  # fmt: skip
        failed, lines = colistening.result()
    print("\n".join(lines))
    if not run.success:
        return run.report_failure("describing and embedding the new songs")
    if failed:
        return failed
    steps = ["track_enrichment", "track_analyses", "track_embeddings"]
    print("\n".join(step_lines(run.reports(steps), 22)))
    print(f"imported in {time.perf_counter() - started:.0f} s; what the pipeline can use now:")
    print_coverage(person, bundle)
    return 0


def preload_embedder(bundle) -> None:
    """Load the `compute` resource's embedder in a thread; the embedding step then finds it
    loaded (or waits for this load). A failure is left to that step to report."""

    def load() -> None:
        try:
            with resources("compute") as r:
                r.compute.preload_embedder(bundle)
        except Exception as exc:  # the step loads it again and says why it failed
            log.debug("preloading the embedding model failed: %s", exc)

    threading.Thread(target=load, name="preload-embedder", daemon=True).start()


def learn_colistening(person: str) -> tuple[int, list[str]]:
    """The `learn_colistening` run for `person`, in the import's second process: (exit code,
    the step's line). Its failure is said on this process's stderr."""
    try:
        with dagster_instance() as instance:
            run = launch("learn_colistening", instance, partition_key=person)
    except Exception as exc:
        if not expected_failure(exc):
            raise
        print(f"error: {explain_failure(exc)}", file=sys.stderr)
        return 1, []
    if not run.success:
        return run.report_failure("learning the co-listening vectors"), []
    return 0, step_lines(run.reports(["co_listening"]), width=22)


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
