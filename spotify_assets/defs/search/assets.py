"""search_index[bundle] and search_evaluation[bundle]."""

import time

import dagster as dg

from spotify_assets.defs import models
from spotify_assets.defs.embeddings.assets import bundle_for, track_embeddings
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.partitions import model_bundles
from spotify_assets.defs.progress import progress
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.lib.reports import IndexReport, SearchEvaluationReport
from spotify_assets.lib.search.evaluation import evaluate_search
from spotify_assets.lib.search.lexical import refresh_track_search
from spotify_assets.lib.store.embeddings import EmbeddingRepository, index_name
from spotify_assets.lib.store.evaluations import EvaluationRepository


@dg.asset(
    group_name="search",
    kinds={"pgvector", "postgres"},
    owners=["team:search"],
    partitions_def=model_bundles,
    deps=[track_embeddings],
    description="HNSW (cosine) index on the bundle's vectors; filter columns synced from tracks.",
)
def search_index(
    context: dg.AssetExecutionContext, database: DatabaseResource
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    started = time.perf_counter()
    with database.get().connect() as conn:
        repo = EmbeddingRepository(conn)
        repo.use_index_build_memory()
        synced = repo.sync_filter_columns(bundle.hash)  # tracks may have changed since embedding
        built = repo.ensure_index(bundle.hash, bundle.embedding.dims)
        vectors = repo.count(bundle.hash)
    # the lexical leg's name words (track_analyses keeps them in step; a home from before
    # they existed gets them here)
    name_words = refresh_track_search(database.get(), context.log.info)
    seconds = time.perf_counter() - started
    context.log.info(
        f"search_index[{bundle.name}]: {'built' if built else 'already present'} in {seconds:.2f}s"
    )
    return dg.MaterializeResult(
        metadata={
            **IndexReport(index=index_name(bundle.hash), built_now=built).to_metadata(),
            "filter_rows_synced": synced,
            "name_words_written": name_words,
            "vectors": vectors,
            "build_seconds": round(seconds, 3),
        }
    )


class EvaluationConfig(dg.Config):
    max_genres: int = 10
    max_playlists: int = 500


@dg.asset(
    group_name="search",
    kinds={"python", "sentence-transformers", "pgvector"},
    owners=["team:search"],
    partitions_def=model_bundles,
    deps=[search_index],
    description="Search quality on ground truth from the catalog, with baselines.",
)
def search_evaluation(
    context: dg.AssetExecutionContext,
    config: EvaluationConfig,
    database: DatabaseResource,
    compute: ComputeResource,
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    db = database.get()
    with input_errors(bundle.name):
        results = evaluate_search(
            db,
            bundle,
            models.embedder(context, compute, bundle),
            max_genres=config.max_genres,
            max_playlists=config.max_playlists,
            progress=progress(context),
        )
    metadata: dict = {"suites": list(results)}
    with db.connect() as conn:
        for suite, values in results.items():
            metrics = {k: v for k, v in values.items() if isinstance(v, float)}
            EvaluationRepository(conn).save(bundle.hash, suite, metrics, values)
            metadata.update({f"{suite}/{k}": round(v, 4) for k, v in metrics.items()})
            metadata[f"{suite}/queries"] = dg.MetadataValue.json(values.get("queries", [])[:20])
    metadata.update(SearchEvaluationReport.from_results(results).to_metadata())
    return dg.MaterializeResult(metadata=metadata)
