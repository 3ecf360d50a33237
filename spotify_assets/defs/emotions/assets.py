"""track_emotions[bundle]: a GoEmotions distribution per track, reused by content hash."""

import dagster as dg

from spotify_assets.defs import models, tables
from spotify_assets.defs.embeddings.assets import bundle_for, track_embeddings
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.partitions import TRANSIENT_RETRY, model_bundles
from spotify_assets.defs.progress import progress
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.defs.verdicts import plural
from spotify_assets.lib.emotions.update import update_track_emotions
from spotify_assets.lib.reports import EmotionsReport
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.matching import EmotionRepository


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="matching",
    kinds={"huggingface", "sentence-transformers", "postgres"},
    owners=["team:matching"],
    metadata=tables.TRACK_EMOTIONS,
    partitions_def=model_bundles,
    deps=[track_embeddings],
    pool="gpu",
    description=(
        "28 GoEmotions labels, top 3 and 8 mood buckets per track: a go_emotions classifier, or "
        "zero-shot with the bundle's embedding model (the bundle's emotion spec says which)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "emotions_complete",
            asset="track_emotions",
            blocking=True,
            description="One distribution per embedded track (or none when the bundle has none).",
        )
    ],
)
def track_emotions(
    context: dg.AssetExecutionContext, database: DatabaseResource, compute: ComputeResource
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    db = database.get()
    if bundle.emotion.backend == "none":
        context.log.info(f"bundle {bundle.name} has no emotion model; nothing to do")
        report = None
    else:
        with input_errors(bundle.name, nothing_written=True):
            embedder = models.lazy_embedder(context, compute, bundle)
            model = models.emotion_model(context, compute, bundle, embedder)
            report = update_track_emotions(db, bundle, model, progress=progress(context))
    with db.connect() as conn:
        rows = EmotionRepository(conn).count(bundle.hash)
        vectors = EmbeddingRepository(conn).count(bundle.hash)
        buckets = EmotionRepository(conn).summary(bundle.hash)
    expected = 0 if report is None else vectors
    return dg.MaterializeResult(
        check_results=[emotions_check(rows, expected, bundle.name, report is None)],
        metadata={
            "bundle": bundle.name,
            **EmotionsReport(
                computed=report.computed if report else 0,
                reused=report.reused if report else 0,
                backend=bundle.emotion.backend,
            ).to_metadata(),
            "model": bundle.emotion.model or bundle.embedding.model,
            "tracks": rows,
            "seconds": report.seconds if report else 0.0,
            "top_buckets": dg.MetadataValue.json(buckets),
            **tables.rows(rows, partitioned=True),
        },
    )


def emotions_check(rows: int, expected: int, bundle: str, no_model: bool) -> dg.AssetCheckResult:
    if no_model:
        description = (
            f"Bundle {bundle} has no emotion model; {plural(rows, 'distribution')} stored."
        )
    elif rows == expected:
        description = f"{plural(rows, 'embedded track')}, each with one emotion distribution."
    else:
        description = (
            f"{plural(rows, 'distribution')} for {plural(expected, 'embedded track')}: "
            "rerun track_emotions for this bundle."
        )
    return dg.AssetCheckResult(
        check_name="emotions_complete",
        passed=rows == expected,
        metadata={"rows": rows, "expected": expected, "missing": expected - rows},
        description=description,
    )
