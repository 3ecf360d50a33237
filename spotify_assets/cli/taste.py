"""`spotify-assets search "emo songs I like" --person e`: a search relative to a person's library
(lib/search/taste_service.py), reached from `search` when the query names the person's songs."""

from __future__ import annotations

import argparse
import sys

from spotify_assets.cli.runtime import app_database, query_embedder


def names_reference(query: str, person: str | None) -> bool:
    """Whether the (normalised) query names a person's songs, so the taste search serves it.
    A `--person` given to a query that names none is said and otherwise ignored."""
    from spotify_assets.lib.search.taste import parse_reference

    if parse_reference(query) is not None:
        return True
    if person:
        print(
            "warning: --person is used only when the query names your songs ('… I like', "
            "'my most played', 'from my playlist NAME'); searching the whole catalog",
            file=sys.stderr,
        )
    return False


def cmd_taste(args: argparse.Namespace, bundle) -> int:
    """Exit 0 with hits; 1 with none, a missing reference set or model; 2 for a bad input
    (a query naming your songs without --person: one line, before anything starts)."""
    from spotify_assets.lib.search.taste import parse_reference

    reference = parse_reference(" ".join(args.query.split()))
    if not args.person:
        print(
            f"error: “{reference.phrase}” means a person's songs: add --person NAME (whose "
            "library to search relative to)",
            file=sys.stderr,
        )
        return 2
    from spotify_assets.lib.models.embedder import DimensionMismatch
    from spotify_assets.lib.models.resolve import ModelNotAvailable
    from spotify_assets.lib.search import SearchInputError
    from spotify_assets.lib.search.taste_service import (
        ReferenceUnavailable,
        format_taste,
        taste_search,
    )

    try:
        result = taste_search(
            app_database(),
            bundle,
            query_embedder(bundle),
            args.query,
            args.person,
            limit=args.limit,
            where=args.where,
        )
    except SearchInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ReferenceUnavailable, ModelNotAvailable, DimensionMismatch) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {first}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(format_taste(result))
    if not result.hits:
        print("no results: no track of that style outside your own songs", file=sys.stderr)
        return 1
    return 0
