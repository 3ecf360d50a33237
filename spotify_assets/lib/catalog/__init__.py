"""Catalog ingestion: detect a source format, validate rows, load tracks idempotently."""

from spotify_assets.lib.catalog.errors import CatalogError, QuarantineRatioError
from spotify_assets.lib.catalog.formats import FORMATS, CatalogFormat, detect_format
from spotify_assets.lib.catalog.ingest import CatalogLoadReport, load_catalog

__all__ = [
    "FORMATS",
    "CatalogError",
    "CatalogFormat",
    "CatalogLoadReport",
    "QuarantineRatioError",
    "detect_format",
    "load_catalog",
]
