"""playlist_profiles[bundle] → match_results[bundle], and match_evaluation[bundle] (the gate)."""

import os

import dagster as dg
import pandas as pd
from pydantic import Field

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.embeddings.assets import bundle_for, track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.partitions import TRANSIENT_RETRY, model_bundles
from spotify_assets.defs.playlists.assets import candidates, playlists
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.lib.bundles import BundleError, load_bundles
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.matching.run import MatchError, run_matching
from spotify_assets.lib.models.embedder import LazyEmbedder
from spotify_assets.lib.models.resolve import ModelNotAvailable
from spotify_assets.lib.playlists.profiles import profile_text
from spotify_assets.lib.playlists.update import update_playlist_profiles
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.store.evaluations import EvaluationRepository

GATE = "matching_gate"
SUITE = "matching"


class ProfilesConfig(dg.Config):
    owner: str = Field(default="me", description="Whose playlists; empty: every playlist.")


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="matching",
    kinds={"postgres", "pgvector"},
    partitions_def=model_bundles,
    deps=[playlists, track_embeddings, track_emotions],
    description=(
        "Per playlist: member centroid, audio centroid and spread, genre and emotion mix, "
        "detected type, name embedding. Recomputed only when its profile hash changes."
    ),
)
def playlist_profiles(
    context: dg.AssetExecutionContext,
    config: ProfilesConfig,
    database: DatabaseResource,
    compute: ComputeResource,
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    embedder = LazyEmbedder(lambda: compute.embedder(bundle))
    try:
        report = update_playlist_profiles(
            database.get(), bundle, embedder, config.owner or None, progress=context.log.info
        )
    except ModelNotAvailable as exc:
        raise dg.Failure(allow_retries=False, description=f"{bundle.name}: {exc}") from exc
    if report.playlists == 0:
        raise dg.Failure(
            allow_retries=False,
            description=f"no playlists for owner {config.owner!r}: materialize `playlists` first",
        )
    metadata = report.as_dict()
    metadata["types"] = dg.MetadataValue.json(report.types)
    return dg.MaterializeResult(metadata={"bundle": bundle.name, **metadata})


class MatchConfigDagster(dg.Config):
    owner: str = "me"
    list: str = Field(default="liked", description="Which candidates list to sort.")
    top_n: int = Field(default=5, description="Playlists kept per song.")
    top_k: int = Field(default=20, description="Songs kept per playlist.")
    rerank_depth: int = Field(default=30, description="Playlists per song that stage 2 reranks.")
    ranker: str = Field(default="xgboost", description="xgboost | none")
    abstain_below: float = Field(default=0.3, description="Below this: 'no good fit'.")

    def match_config(self) -> MatchConfig:
        return MatchConfig(
            top_n=self.top_n,
            top_k=self.top_k,
            rerank_depth=self.rerank_depth,
            ranker=self.ranker,
            abstain_below=self.abstain_below,
        )


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="matching",
    kinds={"postgres"},
    partitions_def=model_bundles,
    deps=[playlist_profiles, candidates],
    pool="gpu",
    description=(
        "Which playlists each candidate song belongs in (and each playlist's best songs), with "
        "scores, confidence and reasons; cached per context hash."
    ),
)
def match_results(
    context: dg.AssetExecutionContext,
    config: MatchConfigDagster,
    database: DatabaseResource,
    compute: ComputeResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    try:
        report = run_matching(
            database.get(),
            bundle,
            config.match_config(),
            config.owner,
            config.list,
            LazyEmbedder(lambda: compute.embedder(bundle)),
            lambda: compute.reranker(bundle),
            progress=context.log.info,
            artifacts=artifacts.get(),
        )
    except (MatchError, ModelNotAvailable) as exc:
        raise dg.Failure(allow_retries=False, description=f"{bundle.name}: {exc}") from exc
    metadata = report.as_dict()
    saved = metadata.pop("artifacts")
    return dg.MaterializeResult(
        metadata={
            "bundle": bundle.name,
            **metadata,
            "context_miss": not report.context_hit,
            **{f"artifact_{name}": dg.MetadataValue.url(uri) for name, uri in saved.items()},
        }
    )


class MatchEvaluationConfig(dg.Config):
    owner: str = Field(default="", description="Whose playlists; empty: every playlist.")
    seed: int = 42
    negatives: int = Field(default=50, description="Sampled non-members per playlist.")
    active_bundle: str = Field(
        default="",
        description="The bundle in production (name or hash). Empty: "
        "$SPOTIFY_ASSETS_ACTIVE_BUNDLE, else the default bundle.",
    )
    margin: float = Field(default=0.02, description="Allowed NDCG@10 drop vs the active bundle.")


def final_system(metrics: dict[str, float]) -> str:
    for system in ("cross_encoder", "ranker", "stage1"):
        if f"{system}/ndcg@10" in metrics:
            return system
    raise ValueError("no matching system was evaluated")


@dg.asset(
    group_name="matching",
    partitions_def=model_bundles,
    deps=[playlist_profiles],
    description=(
        "Hold out 25% of each playlist, rebuild profiles, rank the held-out songs back: MRR, "
        "Recall@k, NDCG@10 for stage 1, + ranker, + cross-encoder and three baselines."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            GATE,
            asset="match_evaluation",
            blocking=True,
            description="NDCG@10 not below the active bundle's by more than the margin.",
        )
    ],
)
def match_evaluation(
    context: dg.AssetExecutionContext,
    config: MatchEvaluationConfig,
    database: DatabaseResource,
    compute: ComputeResource,
    artifacts: ArtifactStoreResource,
) -> dg.MaterializeResult:
    bundle = bundle_for(context)
    db = database.get()
    with db.connect() as conn:
        world = load_world(conn, bundle, None, config.owner or None)
    frame = world.playlists.playlists
    inputs = EvalInputs(
        world.tracks, world.playlist_ids, frame["name"].tolist(), frame["description"].tolist(),
        frame["subgenre"].tolist(), world.members, world.profiles.name_vectors,
        world.texts["description"].tolist(),
    )  # fmt: skip
    reranker = compute.reranker(bundle)
    try:
        result = evaluate_matching(
            inputs, config=MatchConfig(), reranker=reranker,
            profile_texts=lambda p: [profile_text(p, i, world.tracks) for i in range(len(p))],
            seed=config.seed, negatives=config.negatives, log=context.log.info,
        )  # fmt: skip
    except ValueError as exc:
        raise dg.Failure(allow_retries=False, description=f"{bundle.name}: {exc}") from exc
    system = final_system(result.metrics)
    metrics = {**result.metrics, "final/ndcg@10": result.metrics[f"{system}/ndcg@10"]}
    with db.connect() as conn:
        EvaluationRepository(conn).save(
            bundle.hash, SUITE, metrics, {**result.details, "final": system}
        )
    gate = gate_result(db, bundle.hash, metrics["final/ndcg@10"], config)
    report_uri = artifacts.get().put_json(
        f"evaluations/matching/{bundle.hash}.json",
        {"bundle": bundle.name, "metrics": metrics, "details": result.details, "final": system},
    )
    table = pd.DataFrame(result.table()).round(4)
    context.log.info("match_evaluation:\n" + table.to_string(index=False))
    return dg.MaterializeResult(
        check_results=[gate],
        metadata={
            "bundle": bundle.name,
            "final_system": system,
            "ndcg@10": round(metrics["final/ndcg@10"], 4),
            "results": dg.MetadataValue.md(table.to_markdown(index=False)),
            "report": dg.MetadataValue.url(report_uri),
            **{k: round(v, 4) for k, v in result.metrics.items()},
        },
    )


def active_bundle_hash(setting: str) -> str:
    value = setting or os.environ.get("SPOTIFY_ASSETS_ACTIVE_BUNDLE", "")
    catalog = load_bundles()
    if not value:
        return catalog.default_bundle.hash
    try:
        return catalog.by_name(value).hash
    except BundleError:
        return value  # a hash (maybe of a bundle no longer configured)


def gate_result(db, bundle_hash: str, ndcg: float, config: MatchEvaluationConfig):
    active = active_bundle_hash(config.active_bundle)
    with db.connect() as conn:
        reference = EvaluationRepository(conn).metrics(active).get((SUITE, "final/ndcg@10"))
    if active == bundle_hash or reference is None:
        why = (
            "this is the active bundle"
            if active == bundle_hash
            else "the active bundle has no evaluation yet"
        )
        return dg.AssetCheckResult(
            check_name=GATE, passed=True,
            metadata={"ndcg@10": ndcg, "active_bundle": active, "note": why},
        )  # fmt: skip
    return dg.AssetCheckResult(
        check_name=GATE,
        passed=ndcg >= reference - config.margin,
        metadata={
            "ndcg@10": ndcg,
            "active_bundle": active,
            "active_ndcg@10": reference,
            "margin": config.margin,
        },
    )
