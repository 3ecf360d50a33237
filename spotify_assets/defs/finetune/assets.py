"""fine_tuned_model[base bundle]: train the base bundle's model on the person's playlists and
register the result as its own bundle (a new `model_bundle` partition beside the base);
fine_tune_promotion[base bundle]: the gate that makes it the active bundle, or keeps the base."""

import dagster as dg
from pydantic import Field

from spotify_assets.defs import models
from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.embeddings.assets import bundle_for
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.matching.assets import playlist_profiles
from spotify_assets.defs.partitions import ensure_bundle_partition, model_bundles
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.finetune.bundle import ARTIFACT_SCHEME, register
from spotify_assets.lib.finetune.gate import MARGIN
from spotify_assets.lib.finetune.promotion import apply, evaluate_bundle, gate
from spotify_assets.lib.finetune.run import run_fine_tune, world_pairs
from spotify_assets.lib.finetune.train import TrainConfig
from spotify_assets.lib.models.resolve import resolve_device
from spotify_assets.lib.people import DEFAULT_PERSON, playlists_scope
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.settings import settings


class FineTuneConfig(dg.Config):
    person: str = Field(default=DEFAULT_PERSON, description="Whose playlists (a person key); empty: the catalog's own playlists, which belong to no one.")
    seed: int = Field(default=42, description="The matching evaluation's split seed.")
    max_pairs: int = Field(default=20_000, description="Subsample the pairs to at most this.")
    feature_share: float = Field(default=0.3, description="Share of feature-phrase pairs.")
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            seed=self.seed,
            max_pairs=self.max_pairs,
            feature_share=self.feature_share,
        )


@dg.asset(
    group_name="matching",
    kinds={"sentence-transformers", "pytorch"},
    owners=["team:matching"],
    partitions_def=model_bundles,
    deps=[playlist_profiles],
    pool="gpu",
    io_manager_key="documents",
    description=(
        "The base bundle's embedding model fine-tuned (in-batch negatives) on the person's "
        "playlists and feature phrasings, held-out songs excluded; stored in the artifact store "
        "and registered as a new model_bundle partition. Backfill that partition to compare."
    ),
)
def fine_tuned_model(
    context: dg.AssetExecutionContext,
    config: FineTuneConfig,
    database: DatabaseResource,
    compute: ComputeResource,
    artifacts: ArtifactStoreResource,
) -> dg.Output[dict]:
    base = bundle_for(context)
    with input_errors(base.name, nothing_written=True):
        if base.embedding.source.startswith(ARTIFACT_SCHEME):
            raise InputError(
                f"{base.name} is already a fine-tuned bundle; fine-tune its base bundle instead"
            )
        with database.get().connect() as conn:
            world = load_world(conn, base, None, playlists_scope(config.person))
        train = config.train_config()
        pairs = world_pairs(world, train)
        if len(pairs) < train.batch_size:
            raise InputError(
                f"only {len(pairs)} training pairs (need at least {train.batch_size}); load "
                "more playlists first"
            )
        trainer = compute.fine_tune_trainer()  # None: here; else the Modal function
        device = "modal" if trainer else resolve_device(compute.device or settings().device)
        result = run_fine_tune(base, pairs, artifacts.get(), train, device, context.log.info,
                               trainer=trainer)  # fmt: skip
    registered = register(result.bundle)
    added = ensure_bundle_partition(context.instance, result.bundle.hash)
    kinds = {k: result.pairs.kinds.count(k) for k in ("playlist", "feature")}
    report = result.report
    context.log.info(
        f"fine-tuned bundle {result.bundle.name} ({result.bundle.hash}): "
        + ("reused the stored model" if report is None else f"trained in {report.seconds:.0f} s")
        + ("; registered as a new partition" if added else "")
    )
    document = {
        "base": base.name,
        "base_hash": base.hash,
        "bundle": result.bundle.name,
        "bundle_hash": result.bundle.hash,
        "artifact": result.key,
    }
    return dg.Output(
        document,
        metadata={
            **document,
            "artifact_uri": dg.MetadataValue.url(artifacts.get().uri(result.key)),
            "pairs": len(result.pairs),
            "playlist_pairs": kinds["playlist"],
            "feature_pairs": kinds["feature"],
            "held_out_excluded": result.pairs.excluded,
            "trained": report is not None,
            "trained_on": device,
            **(
                {
                    "seconds": report.seconds,
                    "steps": report.steps,
                    "first_loss": report.first_loss,
                    "last_loss": report.last_loss,
                }
                if report
                else {}
            ),
            "new_partition": added,
            "newly_registered": registered,
        },
    )


class PromotionConfig(dg.Config):
    person: str = Field(default=DEFAULT_PERSON, description="Whose playlists (a person key); empty: the catalog's own playlists, which belong to no one.")
    seed: int = Field(default=42, description="The matching evaluation's split seed.")
    margin: float = Field(
        default=MARGIN, description="Both suites must improve by more than this (CI above 0)."
    )
    apply: bool = Field(default=True, description="False: report the decision, change nothing.")


@dg.asset(
    group_name="matching",
    kinds={"python"},
    owners=["team:matching"],
    partitions_def=model_bundles,
    ins={"fine_tuned_model": dg.AssetIn(input_manager_key="documents")},
    description=(
        "Base vs its fine-tuned bundle on the matching harness (same split and seed) and the "
        "search suite; the fine-tuned one becomes the active bundle only if both improve by more "
        "than the margin with a bootstrap CI above 0. Needs the fine-tuned partition's "
        "embeddings, index and profiles (backfill them first)."
    ),
)
def fine_tune_promotion(
    context: dg.AssetExecutionContext,
    config: PromotionConfig,
    fine_tuned_model: dict,
    database: DatabaseResource,
    compute: ComputeResource,
) -> dg.MaterializeResult:
    base = bundle_for(context)
    catalog = load_bundles()
    db = database.get()
    evaluations = {}
    with input_errors(base.name):
        tuned = catalog.by_hash(fine_tuned_model["bundle_hash"])
        for label, bundle in (("base", base), ("fine-tuned", tuned)):
            context.log.info(f"evaluating the {label} bundle {bundle.name}")
            try:
                evaluations[label] = evaluate_bundle(
                    db,
                    bundle,
                    models.lazy_embedder(context, compute, bundle),
                    playlists_scope(config.person),
                    config.seed,
                    context.log.info,
                )
            except RuntimeError as exc:  # load_world: the partition is not materialized yet
                raise InputError(
                    f"{exc} (backfill the {catalog.describe(bundle.hash)} partition: "
                    "track_embeddings, search_index, playlist_profiles)"
                ) from exc
    decision = gate(evaluations["base"], evaluations["fine-tuned"], config.margin, config.seed)
    active = apply(decision, tuned) if config.apply else None
    context.log.info(decision.reason)
    return dg.MaterializeResult(
        metadata={
            "promoted": active is not None,
            "decision": decision.reason,
            "active_bundle": active or load_bundles().default,
            "base": base.name,
            "fine_tuned": tuned.name,
            **{
                f"{v.suite}/{part}": value
                for v in decision.verdicts
                for part, value in (
                    ("difference", v.difference),
                    ("lo", v.lo),
                    ("hi", v.hi),
                    ("items", v.items),
                )
            },
        }
    )
