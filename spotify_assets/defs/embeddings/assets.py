"""track_embeddings[bundle]: one vector per (track, bundle), reused by content hash."""

import dagster as dg

from spotify_assets.defs import models, tables
from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.partitions import TRANSIENT_RETRY, model_bundles
from spotify_assets.defs.progress import progress
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.defs.verdicts import plural
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.reports import EmbeddingsReport
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.embeddings import EmbeddingRepository

NORM_TOLERANCE = 1e-3


class EmbeddingConfig(dg.Config):
    batch_size: int = 512


def bundle_for(context: dg.AssetExecutionContext):
    with input_errors():
        return load_bundles().by_hash(context.partition_key)


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="embeddings",
    kinds={"sentence-transformers", "pytorch", "pgvector", "postgres"},
    owners=["team:search"],
    metadata=tables.TRACK_EMBEDDINGS,
    partitions_def=model_bundles,
    deps=[track_analyses],
    pool="gpu",
    description="Description embeddings per model bundle; only new or changed tracks are embedded.",
    check_specs=[
        dg.AssetCheckSpec(
            "embeddings_complete",
            asset="track_embeddings",
            blocking=True,
            description="One vector per analysed track, all of the bundle's dims, unit norm.",
        )
    ],
)
def track_embeddings(
    context: dg.AssetExecutionContext,
    config: EmbeddingConfig,
    database: DatabaseResource,
    compute: ComputeResource,
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    with input_errors(bundle.name, nothing_written=True):
        embedder = models.embedder(context, compute, bundle)
        report = update_track_embeddings(
            database.get(), bundle, embedder, config.batch_size, progress=progress(context)
        )
    with database.get().connect() as conn:
        analysed = AnalysisRepository(conn).count()
        stats = EmbeddingRepository(conn).stats(bundle.hash)
    return dg.MaterializeResult(
        check_results=[completeness_check(stats, analysed, bundle.embedding.dims)],
        metadata={
            "bundle": bundle.name,
            "model": bundle.embedding.model,
            "dims": report.dims,
            "tracks": report.tracks,
            **EmbeddingsReport(
                embedded=report.embedded,
                reused=report.reused,
                texts_per_second=round(report.texts_per_second, 1),
                precision=report.precision,
                gone=report.gone,
            ).to_metadata(),
            "backend": compute.backend,
            **tables.rows(stats["rows"], partitioned=True),
        },
    )


def completeness_check(stats: dict, analysed: int, dims: int) -> dg.AssetCheckResult:
    rows = stats["rows"]
    norm_error = 0.0 if rows == 0 else max(abs(stats["min_norm"] - 1), abs(stats["max_norm"] - 1))
    norms_ok = norm_error < NORM_TOLERANCE
    one_dims = stats["distinct_dims"] <= 1
    problems = []
    if rows != analysed:
        problems.append(f"{plural(rows, 'vector')} for {plural(analysed, 'analysed track')}")
    if not one_dims:
        problems.append(f"{stats['distinct_dims']} different dims")
    if not norms_ok:
        problems.append(f"norms off 1 by up to {norm_error:.2g} (tolerance {NORM_TOLERANCE:g})")
    if problems:
        description = "Incomplete: " + "; ".join(problems) + "."
    else:
        description = (
            f"{plural(rows, 'analysed track')}, each with one unit-norm {dims}-dim vector."
        )
    return dg.AssetCheckResult(
        check_name="embeddings_complete",
        passed=rows == analysed and norms_ok and one_dims,
        metadata={
            "tracks_with_analyses": analysed,
            **{k: v for k, v in stats.items() if v is not None},
            "max_norm_error": round(norm_error, 6),
            "threshold": NORM_TOLERANCE,
        },
        description=description,
    )
