"""`spotify-assets`: run the demo, start the UI on the embedded database, write the sample."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import time
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


def _dagster_env(env: dict | None = None) -> dict:
    """DAGSTER_HOME and the instance's Postgres (DAGSTER_PG_URL: a `dagster` database on the
    app's server unless set), in `env` (default: this process's environment)."""
    from spotify_assets.lib.store.server import dagster_storage_url

    env = os.environ if env is None else env
    env.setdefault("DAGSTER_HOME", str(_dagster_home()))
    env.setdefault("DAGSTER_PG_URL", dagster_storage_url())
    return env


@contextlib.contextmanager
def _instance():
    """The Dagster instance (on the embedded or configured Postgres), after releasing what
    runs of dead CLI processes on this host still hold (their `gpu` pool slot above all)."""
    import dagster as dg

    from spotify_assets.defs.runs import reap_dead_runs

    _dagster_env()
    with dg.DagsterInstance.get() as instance:
        for reaped in reap_dead_runs(instance):
            print(f"note: {reaped.describe()}", file=sys.stderr)
        yield instance


def _tags() -> dict[str, str]:
    from spotify_assets.defs.runs import run_tags

    return run_tags()


SEED_QUERIES = (
    "sad acoustic songs for a rainy day",
    "fast high energy workout music",
    "calm instrumental music to focus",
)


def _metadata(result) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): {
            k: getattr(v, "value", v)
            for k, v in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }


def cmd_demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from spotify_assets.defs.analyses.assets import track_analyses
    from spotify_assets.defs.analyses.checks import every_track_described
    from spotify_assets.defs.catalog.assets import catalog_tracks
    from spotify_assets.defs.catalog.checks import no_duplicate_track_ids
    from spotify_assets.defs.embeddings.assets import track_embeddings
    from spotify_assets.defs.partitions import model_bundles
    from spotify_assets.defs.resources import compute_resource, database_resource
    from spotify_assets.defs.search.assets import search_evaluation, search_index
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.sample import LABEL, ensure_sample
    from spotify_assets.lib.search.service import format_result, search
    from spotify_assets.lib.store.analyses import AnalysisRepository
    from spotify_assets.lib.store.embeddings import EmbeddingRepository
    from spotify_assets.lib.store.playlists import PlaylistRepository
    from spotify_assets.lib.store.quarantine import QuarantineRepository
    from spotify_assets.lib.store.server import describe_url, home_dir
    from spotify_assets.lib.store.tracks import TrackRepository

    home = home_dir()
    source = args.catalog or str(ensure_sample(home).tracks_csv)
    bundle = load_bundles().by_name(args.bundle) if args.bundle else load_bundles().default_bundle
    database, compute = database_resource(), compute_resource()
    db = database.get()
    print(f"spotify_assets demo\n  data home: {home}\n  database:  {database.where()}")
    print(f"  catalog:   {source}" + ("" if args.catalog else f"\n             ({LABEL})"))
    print(f"  bundle:    {bundle.name} ({bundle.hash}, {bundle.embedding.model})")

    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    resources = {"database": database, "compute": compute}
    with _instance() as instance:
        base = dg.materialize(
            [catalog_tracks, track_analyses, no_duplicate_track_ids, every_track_described],
            resources=resources,
            instance=instance,
            tags=_tags(),
            run_config={"ops": {"catalog_tracks": {"config": {"path": source}}}, **quiet},
            raise_on_error=False,
        )
        metadata, bundled = _metadata(base), None
        if base.success:
            if bundle.hash not in instance.get_dynamic_partitions(model_bundles.name):
                instance.add_dynamic_partitions(model_bundles.name, [bundle.hash])
            bundled = dg.materialize(
                [catalog_tracks, track_analyses, track_embeddings, search_index, search_evaluation],
                selection=[track_embeddings, search_index, search_evaluation],
                resources=resources,
                instance=instance,
                tags={**_tags(), "bundle": bundle.name},
                partition_key=bundle.hash,
                run_config=quiet,
                raise_on_error=False,
            )
            metadata.update(_metadata(bundled))
    for result in (base, bundled):
        if result is not None and not result.success:
            _print_failures(result)
            print(f"the demo run failed; run id {result.run_id}", file=sys.stderr)
            return 1

    with db.connect() as conn:
        tracks = TrackRepository(conn).count()
        playlists, memberships = PlaylistRepository(conn).counts()
        quarantined = QuarantineRepository(conn).count()
        described = AnalysisRepository(conn).count()
        vectors = EmbeddingRepository(conn).count(bundle.hash)

    def meta(asset: str, key: str) -> object:
        return metadata.get(asset, {}).get(key)

    print("\nmaterialized (this run):")
    print(
        f"  catalog_tracks    loaded {meta('catalog_tracks', 'loaded')}, "
        f"unchanged {meta('catalog_tracks', 'unchanged')}, "
        f"duplicates {meta('catalog_tracks', 'duplicates')}, "
        f"quarantined {meta('catalog_tracks', 'quarantined')}"
    )
    print(
        f"  track_analyses    written {meta('track_analyses', 'written')}, "
        f"unchanged {meta('track_analyses', 'unchanged')}"
    )
    print(
        f"  track_embeddings  embedded {meta('track_embeddings', 'embedded')}, "
        f"reused {meta('track_embeddings', 'reused')} "
        f"({meta('track_embeddings', 'texts_per_second')} texts/s, "
        f"{meta('track_embeddings', 'precision')})"
    )
    print(
        f"  search_index      {meta('search_index', 'index')} "
        f"({'built' if meta('search_index', 'built_now') else 'present'})"
    )
    print(
        "  search_evaluation hybrid P@10 "
        f"{meta('search_evaluation', 'constraints/hybrid_p@10')}, semantic P@10 "
        f"{meta('search_evaluation', 'constraints/semantic_p@10')}, random P@10 "
        f"{meta('search_evaluation', 'constraints/random_p@10')}"
    )
    if meta("search_evaluation", "playlists/ndcg@10") is not None:
        print(
            "  playlist-name queries NDCG@10 "
            f"{meta('search_evaluation', 'playlists/ndcg@10')} (popularity "
            f"{meta('search_evaluation', 'playlists/popularity_ndcg@10')}, random "
            f"{meta('search_evaluation', 'playlists/random_ndcg@10')}), Recall@100 "
            f"{meta('search_evaluation', 'playlists/recall@100')} (popularity "
            f"{meta('search_evaluation', 'playlists/popularity_recall@100')}, random "
            f"{meta('search_evaluation', 'playlists/random_recall@100')})"
        )
    print("in the database:")
    print(
        f"  tracks {tracks}, track_analyses {described}, embeddings[{bundle.name}] {vectors}, "
        f"playlists {playlists} ({memberships} memberships), quarantined rows {quarantined}"
    )
    embedder = compute.embedder(bundle)
    for query in SEED_QUERIES:
        print()
        print(format_result(search(db, bundle, embedder, query, limit=5)))

    if args.catalog:
        if playlists:
            print(
                f"\nmatching: evaluating playlist matching on the catalog's {playlists} playlists"
            )
            code = _sort(bundle, None, "", "catalog", None, evaluate=True)
        else:
            print("\nmatching: this catalog has no playlists; sorting is shown on the sample")
            code = 0
    else:
        print("\nsorting your liked songs into your playlists (generated sample):")
        code = _sort(bundle, "liked", "sample", "sample", None, limit=6, evaluate=True)
        if code == 0:
            print("\nyour listening (generated sample history): full_retrain, then update")
            code = _listening_demo()
    print(
        f"\nrun history: {describe_url(os.environ['DAGSTER_PG_URL'])} (Dagster instance)\n"
        "open the UI: `.venv/bin/spotify-assets dev`, then http://127.0.0.1:3000\n"
        'search: `.venv/bin/spotify-assets search "dark techno with high energy"`\n'
        "sort: `.venv/bin/spotify-assets sort --candidates liked` "
        "(or --playlist 'Morning Run')"
    )
    return code


def _sort(
    bundle,
    candidates_list: str | None,
    source: str,
    playlist_source: str | None,
    playlist: str | None,
    limit: int | None = None,
    evaluate: bool = False,
) -> int:
    """Materialize (playlists →) candidates → emotions, profiles, matches and print them.
    Without a candidates list only profiles (and the evaluation) are materialized."""
    import dagster as dg

    from spotify_assets.defs.artifacts import artifact_store_resource
    from spotify_assets.defs.catalog.assets import catalog_tracks
    from spotify_assets.defs.embeddings.assets import track_embeddings
    from spotify_assets.defs.emotions.assets import track_emotions
    from spotify_assets.defs.matching.assets import (
        match_evaluation,
        match_results,
        playlist_profiles,
    )
    from spotify_assets.defs.partitions import model_bundles
    from spotify_assets.defs.playlists.assets import candidates, playlists
    from spotify_assets.defs.resources import (
        compute_resource,
        database_resource,
        spotify_resource,
    )
    from spotify_assets.lib.matching.report import format_by_song, format_for_playlist
    from spotify_assets.lib.store.matching import MatchRepository

    database = database_resource()
    resources = {
        "database": database,
        "compute": compute_resource(),
        "spotify": spotify_resource(),
        "artifacts": artifact_store_resource(),
    }
    ops = {
        "candidates": {"config": {"list": candidates_list, "source": source}},
        "match_results": {"config": {"list": candidates_list}},
        "match_evaluation": {"config": {"owner": "me"}},
    }
    unpartitioned = [candidates] if candidates_list else []
    if playlist_source:
        unpartitioned.append(playlists)
        ops["playlists"] = {"config": {"source": playlist_source}}
    bundled = [track_emotions, playlist_profiles] + ([match_results] if candidates_list else [])
    if evaluate:
        bundled.append(match_evaluation)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    every = [catalog_tracks, track_embeddings, playlists, candidates, *bundled]
    every = list(dict.fromkeys(every))
    with _instance() as instance:
        if bundle.hash not in instance.get_dynamic_partitions(model_bundles.name):
            instance.add_dynamic_partitions(model_bundles.name, [bundle.hash])
        names = {a.key.to_user_string() for a in unpartitioned}
        first = unpartitioned and dg.materialize(
            every, selection=unpartitioned, resources=resources, instance=instance, tags=_tags(),
            run_config={"ops": {k: v for k, v in ops.items() if k in names}, **quiet},
            raise_on_error=False,
        )  # fmt: skip
        if first and not first.success:
            _print_failures(first)
            print("loading playlists / candidates failed", file=sys.stderr)
            return 1
        names = {a.key.to_user_string() for a in bundled}
        second = dg.materialize(
            every, selection=bundled, resources=resources, instance=instance,
            tags={**_tags(), "bundle": bundle.name}, partition_key=bundle.hash,
            run_config={"ops": {k: v for k, v in ops.items() if k in names}, **quiet},
            raise_on_error=False,
        )  # fmt: skip
    if not second.success:
        _print_failures(second)
        print("matching failed (is the bundle embedded? run `demo`)", file=sys.stderr)
        return 1
    metadata = _metadata(second)
    m = metadata.get("match_results", {})
    p = metadata.get("playlist_profiles", {})
    print(
        f"  playlist_profiles recomputed {p.get('recomputed')}, reused {p.get('reused')} "
        f"(fallback to name: {p.get('fallback')})"
    )
    if m:
        print(
            f"  match_results     {m.get('songs')} songs × {m.get('playlists')} playlists: "
            f"{m.get('suggestions')} suggestions, {m.get('abstained')} with no good fit; context "
            f"{'hit' if m.get('context_hit') else 'miss'}, embeddings computed "
            f"{m.get('embeddings_computed')}, reranks {m.get('rerank_calls')}, ranker {m.get('ranker')}"
        )
    if evaluate and "match_evaluation" in metadata:
        e = metadata["match_evaluation"]
        print(
            f"  match_evaluation  NDCG@10 {e.get('ndcg@10')} ({e.get('final_system')}); stage 1 "
            f"{e.get('stage1/ndcg@10')}, best baseline "
            f"{max((e.get(f'baseline_{b}/ndcg@10') or 0) for b in ('popular', 'genre', 'audio')):.4f}"
        )
    if not m:
        return 0
    with database.get().connect() as conn:
        results = MatchRepository(conn).results(m["context_hash"])
    print()
    print(
        format_for_playlist(results, playlist) if playlist else format_by_song(results, limit=limit)
    )
    return 0


def _listening_demo() -> int:
    """Import the generated history, then run the daily `full_retrain` and the 30-minute
    `update` jobs on it, as the schedules would."""
    steps = (
        ("import_history", {"ops": {"listening_history": {"config": {"source": "sample"}}}}),
        ("full_retrain", {}),
        ("update", {"ops": {"listening_history": {"config": {"source": "none"}}}}),
    )
    for job, config in steps:
        code = _listening_job(job, "me", config, add=job == "import_history", indent="  ")
        if code:
            return code
    return 0


# -- listening ---------------------------------------------------------------------------------

LISTENING_JOBS = ("import_history", "update", "full_retrain")
LISTENING_ORDER = (
    "listening_history", "play_features", "mood_clusters", "listening_models",
    "listening_predictions", "drift_report", "listening_dashboard",
)  # fmt: skip


def _listeners_with_plays() -> set[str]:
    from spotify_assets.defs.resources import database_resource
    from spotify_assets.lib.store.listening import ListenerRepository

    with database_resource().get().connect() as conn:
        return set(ListenerRepository(conn).with_plays())


def _known_listeners(instance) -> set[str]:
    """Listener partitions, after adding any listener the database has plays for (a database
    from before partitions, or one filled by another instance)."""
    from spotify_assets.defs.partitions import listeners

    known = set(instance.get_dynamic_partitions(listeners.name))
    stored = _listeners_with_plays()
    if missing := sorted(stored - known):
        instance.add_dynamic_partitions(listeners.name, missing)
    return known | stored


def _listening_job(
    job: str, user: str, run_config: dict, add: bool = False, indent: str = ""
) -> int:
    """Launch a listening job from the definitions for one listener (the partition); print one
    summary line per step, or the failure once, without a stack trace. With `add`, a listener
    new to this instance becomes a partition, removed again if the run stored nothing."""

    from spotify_assets.definitions import defs
    from spotify_assets.defs.partitions import listeners

    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    with _instance() as instance:
        known = _known_listeners(instance)
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
        result = defs().resolve_job_def(job).execute_in_process(
            instance=instance, tags=_tags(), partition_key=user, run_config={**run_config, **quiet},
            raise_on_error=False,
        )  # fmt: skip
        if new and not result.success and user not in _listeners_with_plays():
            instance.delete_dynamic_partition(listeners.name, user)  # nothing was stored
    lines = {
        asset: meta["summary"] for asset, meta in _metadata(result).items() if "summary" in meta
    }
    for asset in LISTENING_ORDER:
        if asset in lines:
            print(f"{indent}  {asset:<22}{lines[asset]}")
    if not result.success:
        _print_failures(result)
        print(f"{job} failed for {user}; run id {result.run_id}", file=sys.stderr)
        return 1
    return 0


def _print_failures(result) -> None:
    """Each failed step once: our own failures as written, anything else as its root cause."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            print(f"error: {event.step_key}: {_root_cause(event.event_specific_data.error)}",
                  file=sys.stderr)  # fmt: skip


def _root_cause(error) -> str:
    if error is None:
        return "failed"
    while error.cause is not None and error.cls_name != "Failure":
        error = error.cause
    message = error.message.strip()
    for prefix in ("dagster._core.definitions.events.Failure: ", f"{error.cls_name}: "):
        message = message.removeprefix(prefix)
    return message if error.cls_name == "Failure" else f"{error.cls_name}: {message}"


def _check_listening_args(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, before anything is started or stored."""
    from spotify_assets.defs.listening.automation import (
        ListenerNameError,
        api_listener,
        check_listener,
    )
    from spotify_assets.lib.listening.timezones import TimezoneError, validate

    try:
        check_listener(args.user)
        if args.timezone:
            validate(args.timezone)
    except (ListenerNameError, TimezoneError) as exc:
        return str(exc)
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


def _store_timezone(user: str, timezone: str | None) -> None:
    if timezone:
        from spotify_assets.defs.resources import database_resource
        from spotify_assets.lib.store.listening import ListenerRepository

        with database_resource().get().connect() as conn:
            ListenerRepository(conn).ensure(user, timezone)


def cmd_listening(args: argparse.Namespace) -> int:
    """import | retrain | update | status for one listener (`--user`, the partition key)."""
    if problem := _check_listening_args(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.action == "status":
        return _listening_status(args.user)
    if args.action == "import":
        config = {"source": str(Path(args.path).resolve()), "timezone": args.timezone or ""}
        run_config = {"ops": {"listening_history": {"config": config}}}
        return _listening_job("import_history", args.user, run_config, add=True)
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
        with _instance() as instance:
            known = args.user in _known_listeners(instance)
        if known:
            _store_timezone(args.user, args.timezone)
    return _listening_job(job, args.user, run_config)


def _listening_status(user: str) -> int:
    from spotify_assets.defs.artifacts import artifact_store_resource, document_key
    from spotify_assets.defs.resources import database_resource
    from spotify_assets.lib.artifacts import ArtifactNotFound
    from spotify_assets.lib.listening.status import format_status, listener_status

    try:
        drift = artifact_store_resource().get().get_json(document_key("drift_report", user))
    except ArtifactNotFound:
        drift = None
    print(format_status(listener_status(database_resource().get(), user, drift)))
    return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """`import-history PATH`: the same as `listening import PATH`."""
    args.action = "import"
    return cmd_listening(args)


def cmd_sort(args: argparse.Namespace) -> int:
    from spotify_assets.lib.bundles import load_bundles

    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    if args.candidates == "file" and not args.file:
        print("error: --candidates file needs --file PATH (a CSV of track ids)", file=sys.stderr)
        return 2
    source = args.file or args.source
    return _sort(bundle, args.candidates, source, args.playlists, args.playlist, args.limit)


def cmd_search(args: argparse.Namespace) -> int:
    """Exit 0 with hits; 1 with none (stderr says why) or when the model is missing; 2 for a
    bad input (one line on stderr, before the database or the model is touched)."""
    from spotify_assets.lib.bundles import BundleError, load_bundles
    from spotify_assets.lib.search import SearchInputError
    from spotify_assets.lib.search.service import check_request

    for stream in (sys.stdout, sys.stderr):  # odd catalog text never crashes the printing
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        check_request(args.query, args.where, args.limit)
        bundles = load_bundles()
        bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    except (SearchInputError, BundleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from spotify_assets.defs.resources import compute_resource, database_resource
    from spotify_assets.lib.models.embedder import DimensionMismatch
    from spotify_assets.lib.models.resolve import ModelNotAvailable
    from spotify_assets.lib.search.service import format_result, search

    db = database_resource().get()
    try:
        result = search(
            db,
            bundle,
            compute_resource().embedder(bundle),
            args.query,
            limit=args.limit,
            where=args.where,
            understand=not args.no_understand,
        )
    except SearchInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ModelNotAvailable, DimensionMismatch) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {first}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(format_result(result))
    if not result.hits:
        print(f"no results: {result.why_empty}", file=sys.stderr)
        return 1
    return 0


def cmd_bundles(args: argparse.Namespace) -> int:

    from spotify_assets.defs.partitions import model_bundles
    from spotify_assets.lib.bundles import load_bundles

    catalog = load_bundles()
    with _instance() as instance:
        known = set(instance.get_dynamic_partitions(model_bundles.name))
        if args.action == "add":
            bundle = catalog.by_name(args.name)
            if bundle.hash not in known:
                instance.add_dynamic_partitions(model_bundles.name, [bundle.hash])
            print(f"bundle {bundle.name} is partition {bundle.hash}")
            return 0
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
    _dagster_env(env)
    workspace = REPO_ROOT / "workspace.yaml"
    target = ["-w", str(workspace)] if workspace.exists() else ["-m", "spotify_assets.definitions"]
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        *target,
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    print(
        f"database: {describe_url(env['DATABASE_URL'])}\n"
        f"Dagster instance: {describe_url(env['DAGSTER_PG_URL'])} (DAGSTER_HOME {env['DAGSTER_HOME']})"
    )
    print(" ".join(command))
    cwd = REPO_ROOT if workspace.exists() else None
    return _run_forwarding_signals(command, env, cwd)


def _run_forwarding_signals(command: list[str], env: dict, cwd: Path | None) -> int:
    """Run `command` in its own process group and pass SIGINT / SIGTERM on to the whole group
    (webserver, daemon, code server), so stopping this process leaves none of them behind;
    then exit normally, which lets the embedded server stop with its last user."""
    import signal

    child = subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)
    received: list[int] = []

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group
            os.killpg(child.pid, signal.SIGTERM)
            time.sleep(3)
            os.killpg(child.pid, signal.SIGKILL)
    return 0 if received else code


def cmd_catalog(args: argparse.Namespace) -> int:
    """Load a catalog file (tracks, their features and playlists) without embedding it."""
    import dagster as dg

    from spotify_assets.defs.catalog.assets import catalog_tracks
    from spotify_assets.defs.catalog.checks import no_duplicate_track_ids
    from spotify_assets.defs.resources import database_resource

    if not Path(args.path).exists():
        print(f"error: {args.path}: no such file", file=sys.stderr)
        return 2
    config = {"path": str(Path(args.path).resolve()), "format": args.format}
    with _instance() as instance:
        result = dg.materialize(
            [catalog_tracks, no_duplicate_track_ids], resources={"database": database_resource()},
            instance=instance, tags=_tags(), raise_on_error=False,
            run_config={"ops": {"catalog_tracks": {"config": config}},
                        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
        )  # fmt: skip
    if not result.success:
        _print_failures(result)
        return 1
    m = _metadata(result)["catalog_tracks"]
    print(
        f"{args.path}: loaded {m.get('loaded')}, unchanged {m.get('unchanged')}, duplicates "
        f"{m.get('duplicates')}, quarantined {m.get('quarantined')} (format {m.get('format')})"
    )
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    """Delete one person's data everywhere: database rows, artifacts, listener runs."""
    import dagster as dg

    from spotify_assets.defs.artifacts import artifact_store_resource, document_key
    from spotify_assets.defs.listening.automation import ListenerNameError, check_listener
    from spotify_assets.defs.partitions import listeners
    from spotify_assets.defs.resources import database_resource
    from spotify_assets.lib.store.personal import forget

    try:
        check_listener(args.user)
    except ListenerNameError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.yes:
        print(
            f"this deletes everything of {args.user!r}: plays, settings, quarantined rows, "
            "retrains and models, their playlists, candidate lists and suggestions, dashboards "
            "and the listener's run history. Rerun with --yes to do it.",
            file=sys.stderr,
        )
        return 2
    with database_resource().get().connect() as conn:
        rows = forget(conn, args.user)
    store = artifact_store_resource().get()
    listening_assets = (*LISTENING_ORDER,)
    keys = store.list(f"listening/{args.user}/") + [
        key for asset in listening_assets if store.exists(key := document_key(asset, args.user))
    ]
    for key in keys:
        store.delete(key)
    runs = 0
    with _instance() as instance:
        for run in instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": args.user})):
            selected = {k.to_user_string() for k in (run.asset_selection or ())}
            if selected & set(listening_assets) or run.job_name in LISTENING_JOBS:
                instance.delete_run(run.run_id)
                runs += 1
        if instance.has_dynamic_partition(listeners.name, args.user):
            instance.delete_dynamic_partition(listeners.name, args.user)
    deleted = ", ".join(f"{table} {n}" for table, n in rows.items() if n)
    print(
        f"forgot {args.user!r}: rows deleted: {deleted or 'none'}; {len(keys)} artifact(s); "
        f"{runs} run(s) and the listener partition"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from spotify_assets.doctor import diagnose, format_report, required_ok

    if args.fix:
        with _instance() as instance:  # reaps and reports dead CLI runs on the way in
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spotify-assets", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="materialize the pipeline on the generated sample")
    demo.add_argument("--catalog", help="load this catalog file instead of the sample")
    demo.add_argument("--bundle", help="model bundle name (default: the bundles file's default)")
    demo.set_defaults(func=cmd_demo)

    find = sub.add_parser("search", help="hybrid semantic search over the embedded catalog")
    find.add_argument("query", help='words to search for; "" with --where lists matches')
    find.add_argument(
        "--limit", default="10", help="hits to show, 1 to 500 (checked by the search)"
    )
    find.add_argument("--bundle", help="model bundle name (default: the default bundle)")
    find.add_argument("--where", help='explicit filters, e.g. "tempo>140 and valence<0.3"')
    find.add_argument(
        "--no-understand", action="store_true", help="do not turn query words into filters"
    )
    find.set_defaults(func=cmd_search)

    sort = sub.add_parser("sort", help="suggest which of your playlists each song belongs in")
    sort.add_argument("--candidates", choices=["liked", "recent", "file"], default="liked")
    sort.add_argument("--file", help="CSV of track ids (with --candidates file)")
    sort.add_argument(
        "--source",
        default="sample",
        help="where liked/recent come from: sample | spotify | a YourLibrary.json / history path",
    )
    sort.add_argument(
        "--playlists",
        help="reload playlists first from: sample | catalog | export | spotify (default: as stored)",
    )
    sort.add_argument("--playlist", help="show the best songs for this playlist instead")
    sort.add_argument("--limit", type=int, default=25, help="songs to print")
    sort.add_argument("--bundle", help="model bundle name (default: the default bundle)")
    sort.set_defaults(func=cmd_sort)

    bundles = sub.add_parser("bundles", help="list model bundles, or register one as a partition")
    bundles.add_argument("action", nargs="?", choices=["list", "add"], default="list")
    bundles.add_argument("name", nargs="?")
    bundles.set_defaults(func=cmd_bundles)

    dev = sub.add_parser("dev", help="start the embedded database and the Dagster UI")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(func=cmd_dev)

    history_help = (
        "StreamingHistory*.json / Streaming_History_Audio_*.json / endsong_*.json, their CSV "
        "conversions (also a basic export's with endTime, artistName, trackName, msPlayed and "
        "feature columns), a folder or a zip"
    )
    listening = sub.add_parser(
        "listening",
        help="a listener's history and models: import | retrain | update | status",
        description="Each listener is a `listener` partition in Dagster; --user names it.",
    )
    listening.add_argument("action", choices=["import", "retrain", "update", "status"])
    listening.add_argument("path", nargs="?", help=f"for import: {history_help}")
    listening.add_argument("--user", default="me", help="the listener (partition key)")
    listening.add_argument(
        "--timezone", help="IANA zone for this listener, stored (default: from the export's "
        "country, else $SPOTIFY_ASSETS_TIMEZONE, else UTC)",
    )  # fmt: skip
    listening.add_argument(
        "--source", help="for update: none (default) | api | a path to import first"
    )
    listening.add_argument("--bootstrap", type=int, default=500, help="for retrain: CI resamples")
    listening.set_defaults(func=cmd_listening)

    history = sub.add_parser("import-history", help="the same as `listening import PATH`")
    history.add_argument("path", help=history_help)
    history.add_argument("--user", default="me")
    history.add_argument("--timezone")
    history.set_defaults(func=cmd_import_history)

    catalog = sub.add_parser(
        "catalog", help="load a catalog file (CSV/parquet) into tracks, without embedding it"
    )
    catalog.add_argument("path")
    catalog.add_argument(
        "--format", default="auto", help="auto (from the columns) or a format name"
    )
    catalog.set_defaults(func=cmd_catalog)

    forget_cmd = sub.add_parser(
        "forget", help="delete one person's data everywhere (database, artifacts, runs)"
    )
    forget_cmd.add_argument("--user", required=True, help="the listener / playlist owner")
    forget_cmd.add_argument("--yes", action="store_true", help="really delete")
    forget_cmd.set_defaults(func=cmd_forget)

    doctor = sub.add_parser("doctor", help="what is available here and what is missing")
    doctor.add_argument(
        "--fix",
        action="store_true",
        help="mark runs of dead CLI processes on this host failed and free their pool slots",
    )
    doctor.set_defaults(func=cmd_doctor)

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
    for noisy in ("pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command in ("listening", "import-history") and not args.verbose:
        logging.getLogger("spotify_assets").setLevel(logging.WARNING)  # the steps' lines say it
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted; committed work is kept, rerun to finish", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose or not _expected(exc):
            raise
        print(f"error: {_explain(exc)}", file=sys.stderr)
        return 1


def _expected(exc: Exception) -> bool:
    """Failures a user can act on (a database out of reach, a bad setting), said in one line;
    anything else is a bug and keeps its traceback."""
    import psycopg

    from spotify_assets.lib.artifacts import ArtifactError
    from spotify_assets.lib.listening.timezones import TimezoneError

    names = {cls.__name__ for cls in type(exc).__mro__}
    return isinstance(exc, psycopg.OperationalError | TimezoneError | ArtifactError) or bool(
        names & {"DagsterPostgresException", "OperationalError"}
    )


def _explain(exc: Exception) -> str:
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


if __name__ == "__main__":
    sys.exit(main())
