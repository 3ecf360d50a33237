"""`spotify-assets`: the demo, search, sorting songs into playlists, a person's history and
models, and looking after the installation. Each command launches named jobs from the Dagster
definitions (see runtime.py) and prints one line per step.

Modules: runtime (instance, jobs, failures), reports (step lines), demo, search, matching
(sort), listening, library (import a whole export), serve (the web app), admin (dev, doctor,
bundles, catalog, forget, sample).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from spotify_assets.cli.admin import (
    cmd_bundles,
    cmd_catalog,
    cmd_dev,
    cmd_doctor,
    cmd_forget,
    cmd_sample,
)
from spotify_assets.cli.demo import cmd_demo
from spotify_assets.cli.library import cmd_import
from spotify_assets.cli.listening import cmd_import_history, cmd_listening
from spotify_assets.cli.matching import cmd_sort
from spotify_assets.cli.runtime import expected_failure, explain_failure
from spotify_assets.cli.search import cmd_search
from spotify_assets.cli.serve import cmd_serve
from spotify_assets.lib.people import DEFAULT_PERSON


def add_person(
    parser: argparse.ArgumentParser,
    help: str,
    default: str | None = DEFAULT_PERSON,
    required: bool = False,
) -> None:
    """`--person NAME` (`--user` is the same flag, kept for older scripts)."""
    parser.add_argument(
        "--person", "--user", dest="person", default=default, required=required,
        help=f"{help} (default: {default!r})" if default else help,
    )  # fmt: skip


# Adds commands to the `spotify-assets` subparsers: a subparser each, its handler as `func`.
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def build_parser(extra: Sequence[Registrar] = ()) -> argparse.ArgumentParser:
    """The CLI's parser: the built-in commands, then those `extra` registers (a test's)."""
    parser = argparse.ArgumentParser(prog="spotify-assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in (builtin_commands, *extra):
        register(sub)
    return parser


def builtin_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Every command of `spotify-assets`, each handled by a `cmd_*` of its module."""
    demo = sub.add_parser("demo", help="materialize the pipeline on the generated sample")
    demo.add_argument("--catalog", help="load this catalog file instead of the sample")
    demo.add_argument(
        "--format", default="auto", help="the catalog's format: auto (from the columns) or a name"
    )
    demo.add_argument("--bundle", help="model bundle name (default: the bundles file's default)")
    demo.add_argument(
        "--export",
        help="a person's privacy export (zip or folder): import it and show their library, "
        "sorted liked songs and listening instead of the generated person's",
    )
    add_person(demo, "with --export: whose export it is")
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
    add_person(find, "whose library a query naming your songs means ('emo songs I like')",
               default=None)
    find.set_defaults(func=cmd_search)

    sort = sub.add_parser("sort", help="suggest which of your playlists each song belongs in")
    sort.add_argument("--candidates", choices=["liked", "recent", "file"], default="liked")
    sort.add_argument("--file", help="CSV of track ids (with --candidates file)")
    sort.add_argument(
        "--source",
        help="where liked/recent come from: sample | spotify | a YourLibrary.json / history path "
        "(default: the list stored for --person, e.g. by `import`, else the sample)",
    )
    sort.add_argument(
        "--playlists",
        help="reload playlists first from: sample | catalog | export | spotify (default: as stored)",
    )
    sort.add_argument(
        "--playlists-path",
        help="with --playlists export: the export's Playlist1.json, its folder or its zip",
    )
    add_person(sort, "whose playlists and songs")
    sort.add_argument("--playlist", help="show the best songs for this playlist instead")
    sort.add_argument("--limit", type=int, default=25, help="songs to print")
    sort.add_argument("--bundle", help="model bundle name (default: the default bundle)")
    sort.set_defaults(func=cmd_sort)

    imports = sub.add_parser(
        "import",
        help="a person's whole privacy export (zip or folder): playlists, liked songs, history",
    )
    imports.add_argument("path", help="the export as Spotify ships it: a zip or its folder")
    add_person(imports, "whose export it is")
    imports.add_argument("--timezone", help="IANA zone for the history (default: from plays)")
    imports.add_argument("--bundle", help="model bundle to embed with (default: the default)")
    imports.set_defaults(func=cmd_import)

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
        help="a person's history and models: import | retrain | update | status",
        description="Each person is a `person` partition in Dagster; --person names it.",
    )
    listening.add_argument("action", choices=["import", "retrain", "update", "status"])
    listening.add_argument("path", nargs="?", help=f"for import: {history_help}")
    add_person(listening, "whose history (the `person` partition key)")
    listening.add_argument(
        "--timezone", help="IANA zone for this person, stored (default: from the export's "
        "country, else $SPOTIFY_ASSETS_TIMEZONE, else UTC)",
    )  # fmt: skip
    listening.add_argument(
        "--source", help="for update: none (default) | api | a path to import first"
    )
    listening.add_argument("--bootstrap", type=int, default=500, help="for retrain: CI resamples")
    listening.set_defaults(func=cmd_listening)

    serve = sub.add_parser(
        "serve", help="the web app: search, sort review (accept / reject / apply), listening"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--bundle", help="model bundle name (default: SPOTIFY_ASSETS_SERVE_BUNDLE, "
                       "else the bundles file's default)")  # fmt: skip
    serve.add_argument("--workers", type=int, default=1,
                       help="processes answering requests (each loads the model; one per core "
                       "answers more people at once)")  # fmt: skip
    serve.add_argument("--public", action="store_true",
                       help="allow a --host other than this machine (the app has no accounts)")  # fmt: skip
    serve.set_defaults(func=cmd_serve)

    history = sub.add_parser("import-history", help="the same as `listening import PATH`")
    history.add_argument("path", help=history_help)
    add_person(history, "whose history")
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
    add_person(forget_cmd, "whose data to delete", default=None, required=True)
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


class OneLineRetries(logging.Filter):
    """dagster-postgres logs every retry against a database that went away as a multi-line
    warning (the whole SQLAlchemy error, again and again for half a minute): one line each
    instead, saying what is wrong and that it retries."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("Retrying failed database connection"):
            return True
        self.attempts += 1
        cause = str(record.args[0]) if record.args else "no answer"
        first = next((line.strip() for line in cause.splitlines() if line.strip()), cause)
        record.msg = "the Dagster instance's database does not answer (%s); retrying, attempt %d"
        record.args = (first.removeprefix("(psycopg2.OperationalError) ")[:160], self.attempts)
        return True


def main(argv: list[str] | None = None, extra: Sequence[Registrar] = ()) -> int:
    args = build_parser(extra).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger().addFilter(OneLineRetries())
    for noisy in ("pgserver", "alembic", "gensim"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command in ("listening", "import-history") and not args.verbose:
        logging.getLogger("spotify_assets").setLevel(logging.WARNING)  # the steps' lines say it
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted; committed work is kept, rerun to finish", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose or not expected_failure(exc):
            raise
        print(f"error: {explain_failure(exc)}", file=sys.stderr)
        return 1
