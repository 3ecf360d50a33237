"""`spotify-assets search`: hybrid search over the embedded catalog."""

from __future__ import annotations

import argparse
import sys

from spotify_assets.cli.runtime import app_database, query_embedder


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
        request = check_request(args.query, args.where, args.limit)
        bundles = load_bundles()
        bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    except (SearchInputError, BundleError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from spotify_assets.cli.taste import cmd_taste, names_reference

    if names_reference(request.query, getattr(args, "person", None)):
        return cmd_taste(args, bundle)

    from spotify_assets.lib.models.embedder import DimensionMismatch
    from spotify_assets.lib.models.resolve import ModelNotAvailable
    from spotify_assets.lib.search.service import format_result, search

    try:
        result = search(
            app_database(),
            bundle,
            query_embedder(bundle),
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
