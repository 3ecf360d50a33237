"""Register configured model bundles as partitions and request their runs."""

import dagster as dg

from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.matching.assets import (
    match_evaluation,
    match_results,
    playlist_profiles,
)
from spotify_assets.defs.partitions import (
    BUNDLE_RUN_CONFIG,
    bundle_tags,
    ensure_bundle_partition,
    model_bundles,
)
from spotify_assets.defs.search.assets import search_evaluation, search_index
from spotify_assets.lib.bundles import load_bundles

embed_bundle_job = dg.define_asset_job(
    "embed_bundle",
    selection=[track_embeddings, search_index, search_evaluation, track_emotions],
    config=BUNDLE_RUN_CONFIG,
    description="Embed, index and evaluate one model bundle, and its emotions (partition = bundle hash).",
)

match_bundle_job = dg.define_asset_job(
    "match_bundle",
    selection=[track_emotions, playlist_profiles, match_results, match_evaluation],
    config=BUNDLE_RUN_CONFIG,
    description="Profiles, suggestions and the evaluation gate for one bundle (needs playlists "
    "and candidates materialized).",
)


def new_bundle_hashes(instance: dg.DagsterInstance) -> list[str]:
    known = set(instance.get_dynamic_partitions(model_bundles.name))
    return [b.hash for b in load_bundles().bundles.values() if b.hash not in known]


@dg.sensor(
    job=embed_bundle_job,
    minimum_interval_seconds=60,
    description="Every bundle in the bundles file (spotify_assets/bundles.yaml, plus "
    "$SPOTIFY_ASSETS_BUNDLES) that is not yet a model_bundle partition is added and embedded.",
)
def model_bundle_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Every bundle in the bundles file that is not yet a partition gets added and run."""
    new = new_bundle_hashes(context.instance)
    if not new:
        return dg.SkipReason("every configured bundle is registered")
    return dg.SensorResult(
        dynamic_partitions_requests=[model_bundles.build_add_request(new)],
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
