from __future__ import annotations

from typing import Any

from spotify_assets.lib.errors import InputError


class CatalogError(InputError):
    """A catalog source that cannot be loaded at all; the message says why and what to do."""


class QuarantineRatioError(CatalogError):
    """Too many of a catalog's rows were rejected: the load was refused and nothing was
    written. `report` is the `CatalogLoadReport` the load would have had (nothing written)."""

    def __init__(self, message: str, report: Any):
        super().__init__(message)
        self.report = report
