"""track_embeddings[bundle]: one vector per (track, bundle), reused by content hash."""

import dagster as dg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.partitions import TRANSIENT_RETRY, model_bundles
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.lib.bundles import BundleError, load_bundles
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.models.embedder import DimensionMismatch
from spotify_assets.lib.models.resolve import ModelNotAvailable
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.embeddings import EmbeddingRepository


class EmbeddingConfig(dg.Config):
    batch_size: int = 512


def bundle_for(context: dg.AssetExecutionContext):
    try:
        return load_bundles().by_hash(context.partition_key)
    except BundleError as exc:
        raise dg.Failure(allow_retries=False, description=str(exc)) from exc


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="embeddings",
    kinds={"postgres", "pgvector"},
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
    try:
        embedder = compute.embedder(bundle)
        report = update_track_embeddings(
            database.get(), bundle, embedder, config.batch_size, progress=context.log.info
        )
    except (DimensionMismatch, ModelNotAvailable) as exc:
        raise dg.Failure(
            allow_retries=False, description=f"{bundle.name}: {exc}; nothing was written"
        ) from exc
    with database.get().connect() as conn:
        analysed = AnalysisRepository(conn).count()
        stats = EmbeddingRepository(conn).stats(bundle.hash)
    return dg.MaterializeResult(
        check_results=[completeness_check(stats, analysed)],
        metadata={
            "bundle": bundle.name,
            "model": bundle.embedding.model,
            "dims": report.dims,
            "tracks": report.tracks,
            "embedded": report.embedded,
            "reused": report.reused,
            "texts_per_second": round(report.texts_per_second, 1),
            "precision": report.precision,
            "backend": compute.backend,
        },
    )


def completeness_check(stats: dict, analysed: int) -> dg.AssetCheckResult:
    rows = stats["rows"]
    norms_ok = rows == 0 or max(abs(stats["min_norm"] - 1), abs(stats["max_norm"] - 1)) < 1e-3
    return dg.AssetCheckResult(
        check_name="embeddings_complete",
        passed=rows == analysed and norms_ok and stats["distinct_dims"] <= 1,
        metadata={
            "tracks_with_analyses": analysed,
            **{k: v for k, v in stats.items() if v is not None},
        },
    )
