"""One line per step for the jobs a command launches, from each asset's typed report.

Every line comes from the report dataclass the asset wrote (lib/reports.py: one per asset, read
back by its one reader, which fails on a missing key); the listening assets' reports are the
one `summary` line each writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spotify_assets.lib.export.accounting import FileAccount
    from spotify_assets.lib.reports import Report


def step_lines(reports: Iterable[tuple[str, Report]], width: int = 18) -> list[str]:
    """'  asset  what it did' for each (asset, report), as JobRun.reports gives them."""
    return [f"  {asset:<{width}}{report.line()}" for asset, report in reports]


def file_accounts(reports: Iterable[tuple[str, Report]]) -> list[FileAccount]:
    """The per-file accounts the load steps among `reports` gave (none for other steps)."""
    return [account for _, report in reports for account in report.accounts()]
