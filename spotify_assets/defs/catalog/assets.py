"""catalog_tracks: a catalog file (CSV / parquet, several layouts) → the `tracks` table."""

import dagster as dg
from pydantic import Field

from spotify_assets.defs import tables
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.catalog import FORMATS, QuarantineRatioError, load_catalog
from spotify_assets.lib.reports import CatalogReport
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.tracks import TrackRepository
from spotify_assets.settings import home_dir, settings

QUARANTINE_CHECK = "quarantine_ratio_below_threshold"
OWNERS = ["team:catalog"]


class CatalogConfig(dg.Config):
    path: str = Field(
        default="",
        description="CSV or parquet file. Empty: $SPOTIFY_ASSETS_CATALOG, else the generated sample.",
    )
    format: str = Field(
        default="auto",
        description="auto (detected from the columns) | " + " | ".join(FORMATS),
    )
    max_quarantine_ratio: float = Field(
        default=0.05, description="Fail the blocking check when more rows than this are rejected."
    )


def catalog_source(path: str) -> str:
    return path or settings().catalog or str(ensure_sample(home_dir()).tracks_csv)


@dg.asset(
    group_name="catalog",
    kinds={"python", "postgres"},
    owners=OWNERS,
    metadata=tables.TRACKS,
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
    rejected = {"source": source, "format": config.format}
    with input_errors("catalog source rejected", nothing_written=True, metadata=rejected):
        try:
            report = load_catalog(
                database.get(),
                source,
                config.format,
                max_quarantine_ratio=config.max_quarantine_ratio,
            )
        except QuarantineRatioError as exc:  # nothing was written; the blocking check says why
            report, refused = exc.report, str(exc)
            context.log.error(refused)
    with database.get().connect() as conn:
        stored = TrackRepository(conn).count()
    context.log.info(
        f"catalog: {report.inserted} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicate ids, {report.quarantined} quarantined, "
        f"{report.coerced} kept with a value coerced"
    )
    for example in report.coerced_examples:
        context.log.info(f"coerced: {example}")
    return dg.MaterializeResult(
        metadata={
            "source": source,
            "format": report.format,
            "rows_read": report.rows_read,
            "tracks_in_file": report.valid_tracks,
            **CatalogReport(
                loaded=report.written,
                unchanged=report.unchanged,
                duplicates=report.duplicates,
                quarantined=report.quarantined,
                coerced=report.coerced,
            ).to_metadata(),
            "inserted": report.inserted,
            "updated": report.updated,
            "quarantine_reasons": dg.MetadataValue.json(report.reasons),
            "coerced_fields": dg.MetadataValue.json(report.coerced_fields),
            "playlists_written": report.playlists_written,
            "memberships_written": report.memberships_written,
            "rows_per_second": round(report.rows_read / max(report.seconds, 1e-9)),
            "database": database.where(),
            **tables.rows(stored),
            **({"refused": refused} if refused else {}),
        },
        check_results=[quarantine_check(report, config.max_quarantine_ratio, refused)],
    )


def quarantine_check(report, threshold: float, refused: str | None) -> dg.AssetCheckResult:
    ratio = report.quarantine_ratio
    passed = ratio <= threshold
    counts = f"{report.quarantined:,} of {report.rows_read:,} rows rejected ({ratio:.1%})"
    if passed:
        description = f"{counts}, within the {threshold:.1%} threshold."
    else:
        description = refused or (
            f"{counts}, above the {threshold:.1%} threshold; see the quarantine table for reasons."
        )
    return dg.AssetCheckResult(
        check_name=QUARANTINE_CHECK,
        passed=passed,
        metadata={
            "ratio": ratio,
            "threshold": threshold,
            "quarantined": report.quarantined,
            "rows_read": report.rows_read,
        },
        description=description,
    )
