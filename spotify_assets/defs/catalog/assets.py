"""catalog_tracks: a catalog file (CSV / parquet, several layouts) → the `tracks` table."""

import os

import dagster as dg
from pydantic import Field

from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.catalog import CatalogError, QuarantineRatioError, load_catalog
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.server import home_dir

QUARANTINE_CHECK = "quarantine_ratio_below_threshold"


class CatalogConfig(dg.Config):
    path: str = Field(
        default="",
        description="CSV or parquet file. Empty: $SPOTIFY_ASSETS_CATALOG, else the generated sample.",
    )
    format: str = Field(
        default="auto",
        description="auto | kaggle_114k | kaggle_114k_sample | kaggle_600k | tidytuesday | sample",
    )
    max_quarantine_ratio: float = Field(
        default=0.05, description="Fail the blocking check when more rows than this are rejected."
    )


def catalog_source(path: str) -> str:
    return (
        path
        or os.environ.get("SPOTIFY_ASSETS_CATALOG")
        or str(ensure_sample(home_dir()).tracks_csv)
    )


@dg.asset(
    group_name="catalog",
    kinds={"postgres"},
    description="Tracks with audio features, validated and merged idempotently into `tracks`.",
    check_specs=[
        dg.AssetCheckSpec(
            QUARANTINE_CHECK,
            asset="catalog_tracks",
            blocking=True,
            description="Share of rejected rows in the loaded file is under the threshold.",
        )
    ],
)
def catalog_tracks(
    context: dg.AssetExecutionContext, config: CatalogConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    source = catalog_source(config.path)
    context.log.info(f"loading catalog from {source} (format: {config.format})")
    refused = None
    try:
        report = load_catalog(
            database.get(), source, config.format, max_quarantine_ratio=config.max_quarantine_ratio
        )
    except QuarantineRatioError as exc:  # nothing was written; the blocking check says why
        report, refused = exc.report, str(exc)
        context.log.error(refused)
    except CatalogError as exc:
        raise dg.Failure(
            allow_retries=False,
            description=f"catalog source rejected, nothing was written: {exc}",
            metadata={"source": source, "format": config.format},
        ) from exc
    ratio = report.quarantine_ratio
    context.log.info(
        f"catalog: {report.inserted} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicate ids, {report.quarantined} quarantined"
    )
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "format": report.format,
            "rows_read": report.rows_read,
            "tracks_in_file": report.valid_tracks,
            "loaded": report.written,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "duplicates": report.duplicates,
            "quarantined": report.quarantined,
            "quarantine_reasons": dg.MetadataValue.json(report.reasons),
            "playlists_written": report.playlists_written,
            "memberships_written": report.memberships_written,
            "rows_per_second": round(report.rows_read / max(report.seconds, 1e-9)),
            "database": database.where(),
            **({"refused": refused} if refused else {}),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK,
                passed=ratio <= config.max_quarantine_ratio,
                metadata={"ratio": ratio, "threshold": config.max_quarantine_ratio},
                description=None
                if ratio <= config.max_quarantine_ratio
                else refused
                or f"{report.quarantined} of {report.rows_read} rows rejected; "
                "see the quarantine table for reasons",
            )
        ],
    )
