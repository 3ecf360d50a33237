"""The bundle's models for a step, with a log line before each load and one after.

Loading is the long silent part of a model step; these wrap the compute resource's loaders in
`load_with_progress` so the run's log says "loading embedding model X from Y…" and
"loaded embedding model X in N s". The factories stay lazy where they were lazy.
"""

from __future__ import annotations

import dagster as dg

from spotify_assets.defs.resources import ComputeResource
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.models.embedder import LazyEmbedder
from spotify_assets.lib.models.loading import load_with_progress, model_source


def embedder(context: dg.AssetExecutionContext, compute: ComputeResource, bundle: ModelBundle):
    spec = bundle.embedding
    return load_with_progress(
        lambda: compute.embedder(bundle),
        f"embedding model {spec.model}",
        model_source(spec.model, spec.source),
        context.log.info,
    )


def lazy_embedder(
    context: dg.AssetExecutionContext, compute: ComputeResource, bundle: ModelBundle
) -> LazyEmbedder:
    """Loaded (and logged) on first use only, so a fully cached run loads nothing."""
    return LazyEmbedder(lambda: embedder(context, compute, bundle))


def emotion_model(
    context: dg.AssetExecutionContext,
    compute: ComputeResource,
    bundle: ModelBundle,
    text_embedder=None,
):
    """The bundle's emotion runner; a classifier's load is logged (zero-shot reuses
    `text_embedder`, whose own load is logged when it happens)."""
    spec = bundle.emotion
    if spec.backend != "classifier":
        return compute.emotion_model(bundle, text_embedder)
    model = spec.model or spec.source
    return load_with_progress(
        lambda: compute.emotion_model(bundle, text_embedder),
        f"emotion classifier {model}",
        model_source(model, spec.source),
        context.log.info,
    )


def reranker(context: dg.AssetExecutionContext, compute: ComputeResource, bundle: ModelBundle):
    """The bundle's cross-encoder (None when it has none, with nothing logged)."""
    spec = bundle.reranker
    if spec is None:
        return compute.reranker(bundle)
    return load_with_progress(
        lambda: compute.reranker(bundle),
        f"cross-encoder {spec.model}",
        model_source(spec.model, spec.source),
        context.log.info,
    )
