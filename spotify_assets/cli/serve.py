"""`spotify-assets serve`: the web app on this machine (spotify_assets/web)."""

from __future__ import annotations

import argparse
import sys

from spotify_assets.cli.runtime import app_database, query_embedder, resources


def spotify_factory():
    """A Spotify client from the SPOTIFY_* settings, or None without credentials (the page's
    "apply" then says what to set)."""
    from spotify_assets.lib.spotify.client import SpotifyClient
    from spotify_assets.settings import settings

    s = settings()
    if not (s.spotify_client_id and s.spotify_client_secret and s.spotify_refresh_token):
        return None
    return lambda: SpotifyClient(
        s.spotify_client_id, s.spotify_client_secret, s.spotify_refresh_token,
        api_base=s.spotify_api_base, token_url=s.spotify_token_url,
    )  # fmt: skip


def one_blas_thread() -> None:
    """One BLAS thread for the whole process: requests run in threads, each product is small,
    and the query encoder's own per-call limit (numpy_bert.encode) changes a process-wide
    setting, so two concurrent searches could restore it under each other and leave BLAS
    threads spinning against the requests on a 2-core machine."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def settle_heap() -> None:
    """Move every object alive now (the model, the libraries: ~90K of them) out of the
    garbage collector's sight, once the server is loaded. A full collection walked them all
    and paused whichever request triggered it (a person-scoped search at 940K tracks: 67 of
    its 380 ms); what requests allocate afterwards is still collected."""
    import gc

    gc.collect()
    gc.freeze()


def build_app(bundle_name: str | None):
    """The app with its model loaded and warm, on the settings' database."""
    from spotify_assets.lib.bundles import load_bundles
    from spotify_assets.web.app import AppContext, create_app

    bundles = load_bundles()
    bundle = bundles.by_name(bundle_name) if bundle_name else bundles.default_bundle
    one_blas_thread()
    db = app_database()
    embedder = query_embedder(bundle)
    embedder.embed(["warm up"], "query")  # the model loads now, not on the first search
    with resources("artifacts") as r:
        artifacts = r.artifacts.get()
    app = create_app(AppContext(db, bundle, embedder, artifacts, spotify_factory()))
    settle_heap()
    return app


def worker_app():
    """The app in one worker process of `serve --workers N` (uvicorn's factory: it takes no
    arguments, so `serve` passes its bundle in the SPOTIFY_ASSETS_SERVE_BUNDLE setting)."""
    from spotify_assets.settings import settings

    return build_app(settings().serve_bundle or None)


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from spotify_assets.lib.bundles import BundleError, load_bundles
    from spotify_assets.settings import ENV, settings

    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.public:
        print(
            f"error: --host {args.host} would serve people's libraries to the network; the app "
            "has no accounts. Add --public if that is what you want (behind your own auth).",
            file=sys.stderr,
        )
        return 2
    if args.workers < 1:
        print(f"error: --workers {args.workers}: at least 1", file=sys.stderr)
        return 2
    bundle = args.bundle or settings().serve_bundle or None
    try:
        load_bundles().by_name(bundle) if bundle else None  # refused before any worker starts
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    where = f"http://{args.host}:{args.port}"
    if args.workers == 1:
        app = build_app(bundle)
        print(f"serving on {where} (Ctrl-C stops)", flush=True)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
        return 0
    # Python runs one thread at a time per process, so on a machine with cores to spare more
    # workers answer more requests at once (on 2 cores, busy with Postgres, they did not: 28.2
    # vs 27.4 requests/s, README). Each loads its own model and caches. This process starts
    # the embedded server (when no DATABASE_URL names one) and hands its URL to the workers:
    # a multiprocessing worker exits without running the embedded server's exit hooks, and a
    # handle it held kept the server running after Ctrl-C
    os.environ["DATABASE_URL"] = app_database().url
    os.environ[ENV["serve_bundle"]] = bundle or ""
    print(f"serving on {where} with {args.workers} worker processes (Ctrl-C stops)", flush=True)
    uvicorn.run("spotify_assets.cli.serve:worker_app", factory=True, workers=args.workers,
                host=args.host, port=args.port, log_level="warning")  # fmt: skip
    return 0
