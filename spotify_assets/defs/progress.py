"""Progress lines of a long step, for the UI's run log and for the terminal.

A CLI command runs its jobs in process with Dagster's console logger at CRITICAL (the engine's
events would drown the figures it prints), so a step's `context.log.info` never reached the
terminal: an import embedding a whole catalog said nothing for twenty minutes. Each line also
goes to the `spotify_assets.progress` Python logger, which the CLI prints at INFO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dagster as dg

log = logging.getLogger("spotify_assets.progress")


def progress(context: dg.AssetExecutionContext) -> Callable[[str], None]:
    def report(line: str) -> None:
        context.log.info(line)
        log.info(line)

    return report
