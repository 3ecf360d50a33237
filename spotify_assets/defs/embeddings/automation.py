"""The embedding stage's automation: register configured model bundles as partitions and
embed them (`embed_bundle`), remove partition keys that name no bundle, and embed what a
person's library brought in (`embed_library`)."""

import dagster as dg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.enrichment.assets import track_enrichment
from spotify_assets.defs.partitions import (
    BUNDLE_RUN_CONFIG,
    bundle_tags,
    ensure_bundle_partition,
    model_bundles,
)
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.defs.search.assets import search_evaluation, search_index
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.store.embeddings import EmbeddingRepository

embed_bundle_job = dg.define_asset_job(
    "embed_bundle",
    selection=[track_embeddings, search_index, search_evaluation, track_emotions],
    config=BUNDLE_RUN_CONFIG,
    description="Embed, index and evaluate one model bundle, and its emotions (partition = bundle hash).",
)

embed_library_job = dg.define_asset_job(
    "embed_library",
    selection=[track_enrichment, track_analyses, track_embeddings],
    config=BUNDLE_RUN_CONFIG,
    description="Enrich tracks from the Web API when online (a skip offline), then describe and "
    "embed the tracks that have no description or vector yet (songs a person's library brought "
    "in, or whose enrichment changed them), for one bundle.",
)


def new_bundle_hashes(instance: dg.DagsterInstance) -> list[str]:
    known = set(instance.get_dynamic_partitions(model_bundles.name))
    return [b.hash for b in load_bundles().bundles.values() if b.hash not in known]


def unknown_bundle_keys(instance: dg.DagsterInstance, embedded: set[str]) -> list[str]:
    """model_bundle partitions that name no bundle: neither configured (the bundles files,
    fine-tuned ones included) nor ever embedded here. The UI's "Add a partition" takes any key,
    and a run for one can only fail."""
    known = {b.hash for b in load_bundles().bundles.values()} | embedded
    return [k for k in instance.get_dynamic_partitions(model_bundles.name) if k not in known]


@dg.sensor(
    job=embed_bundle_job,
    minimum_interval_seconds=60,
    description="Every bundle in the bundles file (spotify_assets/bundles.yaml, plus "
    "$SPOTIFY_ASSETS_BUNDLES) that is not yet a model_bundle partition is added and embedded; "
    "a partition key that names no bundle (configured or embedded) is removed.",
)
def model_bundle_sensor(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """Every bundle in the bundles file that is not yet a partition gets added and run."""
    new = new_bundle_hashes(context.instance)
    with database.get().connect() as conn:
        embedded = EmbeddingRepository(conn).bundle_hashes()
    unknown = unknown_bundle_keys(context.instance, embedded)
    if not new and not unknown:
        return dg.SkipReason("every configured bundle is registered")
    if unknown:
        context.log.warning(
            f"removing model_bundle partition(s) that name no bundle: {', '.join(unknown)} "
            "(add a bundle to the bundles file instead; `spotify-assets bundles list`)"
        )
    requests = [model_bundles.build_add_request(new)] if new else []
    requests += [model_bundles.build_delete_request(unknown)] if unknown else []
    return dg.SensorResult(
        dynamic_partitions_requests=requests,
        run_requests=[
            dg.RunRequest(partition_key=h, run_key=f"bundle-{h}", tags=bundle_tags(h)) for h in new
        ],
    )


@dg.op(description="Add every configured bundle as a model_bundle partition.")
def register_configured_bundles(context: dg.OpExecutionContext) -> list[str]:
    new = [
        h
        for h in new_bundle_hashes(context.instance)
        if ensure_bundle_partition(context.instance, h)
    ]
    names = load_bundles()
    context.log.info(
        f"registered {len(new)} new bundle(s): "
        + (", ".join(names.describe(h) for h in new) or "none (all configured ones are)")
    )
    return new


@dg.job(description="Register configured model bundles as partitions (UI-launchable).")
def register_bundles():
    register_configured_bundles()
