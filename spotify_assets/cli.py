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


def _dagster_env(env: dict | None = None) -> dict:
    """DAGSTER_HOME and the instance's Postgres (DAGSTER_PG_URL: a `dagster` database on the
    app's server unless set), in `env` (default: this process's environment)."""
    from spotify_assets.lib.store.server import dagster_storage_url

    env = os.environ if env is None else env
    env.setdefault("DAGSTER_HOME", str(_dagster_home()))
    env.setdefault("DAGSTER_PG_URL", dagster_storage_url())
    return env


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

    _dagster_env()
    quiet = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    resources = {"database": database, "compute": compute}
    with dg.DagsterInstance.get() as instance:
        base = dg.materialize(
            [catalog_tracks, track_analyses, no_duplicate_track_ids, every_track_described],
            resources=resources,
            instance=instance,
            run_config={"ops": {"catalog_tracks": {"config": {"path": source}}}, **quiet},
            raise_on_error=False,
        )
        metadata = _metadata(base)
        if base.success:
            if bundle.hash not in instance.get_dynamic_partitions(model_bundles.name):
                instance.add_dynamic_partitions(model_bundles.name, [bundle.hash])
            bundled = dg.materialize(
                [catalog_tracks, track_analyses, track_embeddings, search_index, search_evaluation],
                selection=[track_embeddings, search_index, search_evaluation],
                resources=resources,
                instance=instance,
                partition_key=bundle.hash,
                run_config=quiet,
                raise_on_error=False,
            )
            metadata.update(_metadata(bundled))
    if not base.success or not bundled.success:
        print("\nthe demo run failed; see the log above", file=sys.stderr)
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
    _dagster_env()
    every = [catalog_tracks, track_embeddings, playlists, candidates, *bundled]
    every = list(dict.fromkeys(every))
    with dg.DagsterInstance.get() as instance:
        if bundle.hash not in instance.get_dynamic_partitions(model_bundles.name):
            instance.add_dynamic_partitions(model_bundles.name, [bundle.hash])
        names = {a.key.to_user_string() for a in unpartitioned}
        first = unpartitioned and dg.materialize(
            every, selection=unpartitioned, resources=resources, instance=instance,
            run_config={"ops": {k: v for k, v in ops.items() if k in names}, **quiet},
            raise_on_error=False,
        )  # fmt: skip
        if first and not first.success:
            print("loading playlists / candidates failed; see the log above", file=sys.stderr)
            return 1
        names = {a.key.to_user_string() for a in bundled}
        second = dg.materialize(
            every, selection=bundled, resources=resources, instance=instance,
            partition_key=bundle.hash,
            run_config={"ops": {k: v for k, v in ops.items() if k in names}, **quiet},
            raise_on_error=False,
        )  # fmt: skip
    if not second.success:
        print(
            "matching failed; see the log above (is the bundle embedded? run `demo`)",
            file=sys.stderr,
        )
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
    """Run the daily `full_retrain` and the 30-minute `update` jobs on the sample history."""
    import dagster as dg

    from spotify_assets.definitions import defs

    definitions = defs()
    sample = {"ops": {"listening_history": {"config": {"source": "sample"}}}}
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    metadata: dict[str, dict] = {}
    with dg.DagsterInstance.get() as instance:
        for job, config in (("import_history", sample), ("full_retrain", {}), ("update", sample)):
            result = definitions.resolve_job_def(job).execute_in_process(
                instance=instance, run_config={**config, **quiet}, raise_on_error=False
            )
            if not result.success:
                print(f"the {job} job failed; see the log above", file=sys.stderr)
                return 1
            metadata.update(_metadata(result))
    h, m = metadata["listening_history"], metadata["mood_clusters"]
    models, drift = metadata["listening_models"], metadata["drift_report"]
    dash, pred = metadata["listening_dashboard"], metadata["listening_predictions"]
    mood_diff, session_diff = (
        models["mood_macro_f1_vs_best_baseline"],
        models["session_pr_auc_vs_best_baseline"],
    )
    print(
        f"  listening_history {h['plays']} plays ({h['inserted']} new), "
        f"{h['episodes_excluded']} podcast episodes excluded\n"
        f"  mood_clusters     K={m['k']} ({m['rule']}): {' | '.join(m['labels'])}\n"
        f"  listening_models  mood macro-F1 {models['mood_macro_f1']} (vs best baseline "
        f"{mood_diff['value']:+.3f} [{mood_diff['lo']:+.3f}, {mood_diff['hi']:+.3f}]); session "
        f"PR-AUC {models['session_pr_auc']} ({session_diff['value']:+.3f} "
        f"[{session_diff['lo']:+.3f}, {session_diff['hi']:+.3f}]); ECE "
        f"{models['session_ece_before']} → {models['session_ece_after']} after calibration\n"
        f"  predictions       next 24 h peak at {pred['peak_hour']}, next mood "
        f"{(pred.get('next_mood') or {}).get('label')}\n"
        f"  drift_report      drifted: {', '.join(drift['drifted_metrics']) or 'nothing'}\n"
        f"  dashboard         {dash['html']}"
    )
    return 0


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
    from spotify_assets.defs.resources import compute_resource, database_resource
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.lib.search import FilterError
    from spotify_assets.lib.search.service import format_result, search

    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
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
    except FilterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not result.hits:
        print(format_result(result))
        print(f"no results: is bundle {bundle.name} embedded? run `spotify-assets demo` first")
        return 1
    print(format_result(result))
    return 0


def cmd_bundles(args: argparse.Namespace) -> int:
    import dagster as dg

    from spotify_assets.defs.partitions import model_bundles
    from spotify_assets.lib.bundles import load_bundles

    catalog = load_bundles()
    _dagster_env()
    with dg.DagsterInstance.get() as instance:
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
    try:
        return subprocess.call(command, env=env, cwd=REPO_ROOT if workspace.exists() else None)
    except KeyboardInterrupt:
        return 0


def cmd_import_history(args: argparse.Namespace) -> int:
    """Import a privacy export (file, folder or zip) into `plays` as a Dagster run."""
    import dagster as dg

    from spotify_assets.defs.catalog.assets import catalog_tracks
    from spotify_assets.defs.listening.assets import listening_history
    from spotify_assets.defs.resources import database_resource, spotify_resource

    _dagster_env()
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [catalog_tracks, listening_history],
            selection=[listening_history],
            resources={"database": database_resource(), "spotify": spotify_resource()},
            instance=instance,
            run_config={
                "ops": {"listening_history": {"config": {"source": args.path, "user": args.user}}},
                "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            },
            raise_on_error=False,
        )
    if not result.success:
        print("import failed; see the log above", file=sys.stderr)
        return 1
    m = _metadata(result)["listening_history"]
    join = m.get("join") or {}
    print(
        f"{args.path}: {m['plays']} plays ({m['inserted']} new) from {m['files']} file(s); "
        f"excluded {m['episodes_excluded']} episodes, {m['audiobooks_excluded']} audiobooks; "
        f"{m['bad_rows']} bad rows quarantined; joined to the catalog: {join}"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from spotify_assets.doctor import diagnose, format_report, required_ok

    checks = diagnose()
    print(format_report(checks))
    return 0 if required_ok(checks) else 1


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
    find.add_argument("query")
    find.add_argument("--limit", type=int, default=10)
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

    history = sub.add_parser("import-history", help="import a privacy export into plays")
    history.add_argument("path", help="StreamingHistory*.json / Streaming_History_Audio_*.json "
                         "/ endsong_*.json / their CSVs, a folder or a zip")  # fmt: skip
    history.add_argument("--user", default="me")
    history.set_defaults(func=cmd_import_history)

    doctor = sub.add_parser("doctor", help="what is available here and what is missing")
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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
