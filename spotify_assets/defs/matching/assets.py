"""playlist_profiles[bundle] → match_results[bundle], and match_evaluation[bundle] (the gate)."""

import dagster as dg
import pandas as pd
from pydantic import Field

from spotify_assets.defs import models, tables
from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.embeddings.assets import bundle_for, track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.partitions import EVERY_PERSON, TRANSIENT_RETRY, model_bundles
from spotify_assets.defs.playlists.assets import candidates, playlists
from spotify_assets.defs.progress import progress
from spotify_assets.defs.resources import ComputeResource, DatabaseResource
from spotify_assets.defs.verdicts import numbers, signed
from spotify_assets.lib.bundles import BundleError, load_bundles
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching, final_system
from spotify_assets.lib.matching.run import run_matching
from spotify_assets.lib.people import CATALOG_PLAYLISTS, DEFAULT_PERSON, playlists_scope
from spotify_assets.lib.playlists.profiles import profile_text
from spotify_assets.lib.playlists.update import update_playlist_profiles
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.reports import MatchEvaluationReport, ProfilesReport
from spotify_assets.lib.store.evaluations import EvaluationRepository
from spotify_assets.lib.store.matching import MatchRepository, ProfileRepository
from spotify_assets.settings import settings

GATE = "matching_gate"
SUITE = "matching"
OWNERS = ["team:matching"]
# The evaluation's headline metrics, the columns of its `results` tables (every metric is also
# its own numeric metadata entry, e.g. `stage1/recall@5`).
TABLE_METRICS = ("ndcg@10", "mrr", "recall@10")


class ProfilesConfig(dg.Config):
    person: str = Field(default=DEFAULT_PERSON, description="Whose playlists (a person key); empty: the catalog's own playlists, which belong to no one.")


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="matching",
    kinds={"sentence-transformers", "pgvector", "postgres"},
    owners=OWNERS,
    metadata=tables.PLAYLIST_PROFILES,
    partitions_def=model_bundles,
    deps=[
        dg.AssetDep(playlists, partition_mapping=EVERY_PERSON),
        track_embeddings,
        track_emotions,
    ],
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
    embedder = models.lazy_embedder(context, compute, bundle)
    with input_errors(bundle.name):
        report = update_playlist_profiles(
            database.get(), bundle, embedder, playlists_scope(config.person),
            progress=progress(context),
        )
        if report.playlists == 0:
            raise InputError(
                f"no playlists for {config.person or 'the catalog'!r}: materialize `playlists` first"
            )
    with database.get().connect() as conn:
        stored = ProfileRepository(conn).count(bundle.hash)
    metadata = report.as_dict()
    metadata["types"] = dg.MetadataValue.json(report.types)
    line = ProfilesReport(
        recomputed=report.recomputed, reused=report.reused, fallback=report.fallback
    )
    return dg.MaterializeResult(
        metadata={
            "bundle": bundle.name,
            **metadata,
            **line.to_metadata(),
            **tables.rows(stored, partitioned=True),
        }
    )


class MatchConfigDagster(dg.Config):
    person: str = Field(default=DEFAULT_PERSON, description="Whose songs to sort (a person key).")
    playlists: str = Field(
        default="own",
        description="own (the person's playlists) | catalog (the catalog's own playlists)",
    )
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
    kinds={"xgboost", "sentence-transformers", "postgres"},
    owners=OWNERS,
    metadata=tables.MATCH_RESULTS,
    partitions_def=model_bundles,
    deps=[playlist_profiles, dg.AssetDep(candidates, partition_mapping=EVERY_PERSON)],
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
    with input_errors(bundle.name):
        report = run_matching(
            database.get(),
            bundle,
            config.match_config(),
            config.person,
            config.list,
            models.lazy_embedder(context, compute, bundle),
            lambda: models.reranker(context, compute, bundle),
            progress=progress(context),
            artifacts=artifacts.get(),
            catalog_playlists=config.playlists == "catalog",
        )
    with database.get().connect() as conn:
        stored = MatchRepository(conn).count(report.context_hash)
    metadata = report.to_metadata()
    saved = metadata.pop("artifacts")
    return dg.MaterializeResult(
        metadata={
            "bundle": bundle.name,
            **metadata,
            "context_miss": not report.context_hit,
            **{f"artifact_{name}": dg.MetadataValue.url(uri) for name, uri in saved.items()},
            **tables.rows(stored, partitioned=True),
        }
    )


class MatchEvaluationConfig(dg.Config):
    person: str = Field(
        default=CATALOG_PLAYLISTS,
        description="Whose playlists (a person key); empty: the catalog's own playlists.",
    )
    seed: int = 42
    negatives: int = Field(default=50, description="Sampled non-members per playlist.")
    active_bundle: str = Field(
        default="",
        description="The bundle in production (name or hash). Empty: "
        "$SPOTIFY_ASSETS_ACTIVE_BUNDLE, else the default bundle.",
    )
    margin: float = Field(default=0.02, description="Allowed NDCG@10 drop vs the active bundle.")


def results_tables(rows: list[dict], final: str) -> dict[str, dg.TableMetadataValue]:
    """`results`: one row per system (the final one marked), NDCG@10, MRR and Recall@10 over all
    held-out songs; `results_same_subgenre`: the same when songs compete only with their
    playlist's subgenre (when the catalog has subgenres). Four columns each: narrow enough for
    the UI's metadata column."""
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn("system", "string", description="Ranking system or baseline."),
            *[dg.TableColumn(m, "float") for m in TABLE_METRICS],
        ]
    )

    def name(system: str) -> str:
        return f"{system} (final)" if system == final else system

    tables = {}
    for key, suffix in (("results", ""), ("results_same_subgenre", "_subgenre")):
        records = [
            dg.TableRecord(
                {
                    "system": name(row["system"]),
                    **{m: _round(row.get(m + suffix)) for m in TABLE_METRICS},
                }
            )
            for row in rows
            if any(row.get(m + suffix) is not None for m in TABLE_METRICS)
        ]
        if records:
            tables[key] = dg.MetadataValue.table(records, schema)
    return tables


def _round(value) -> float | None:
    return None if value is None else round(float(value), 3)


@dg.asset(
    group_name="matching",
    kinds={"python", "xgboost"},
    owners=OWNERS,
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
        world = load_world(conn, bundle, None, playlists_scope(config.person))
    inputs = EvalInputs.from_world(world, with_texts=True)
    with input_errors(bundle.name):
        result = evaluate_matching(
            inputs, config=MatchConfig(), reranker=models.reranker(context, compute, bundle),
            profile_texts=lambda p: [profile_text(p, i, world.tracks) for i in range(len(p))],
            seed=config.seed, negatives=config.negatives, log=context.log.info,
        )  # fmt: skip
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
    rounded = {k: round(v, 4) for k, v in result.metrics.items()}
    line = MatchEvaluationReport(
        ndcg10=round(metrics["final/ndcg@10"], 4),
        final_system=system,
        stage1_ndcg10=rounded["stage1/ndcg@10"],
        popular_ndcg10=rounded.get("baseline_popular/ndcg@10"),
        genre_ndcg10=rounded.get("baseline_genre/ndcg@10"),
        audio_ndcg10=rounded.get("baseline_audio/ndcg@10"),
    )
    return dg.MaterializeResult(
        check_results=[gate],
        metadata={
            "bundle": bundle.name,
            **results_tables(result.table(), system),
            "report": dg.MetadataValue.url(report_uri),
            **rounded,
            **line.to_metadata(),
        },
    )


def active_bundle_hash(setting: str) -> str:
    value = setting or settings().active_bundle
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
            metadata={"ndcg@10": ndcg, "value": ndcg, "active_bundle": active, "note": why},
            description=f"NDCG@10 {ndcg:.3f}; nothing to compare against: {why}.",
        )  # fmt: skip
    threshold = reference - config.margin
    passed = ndcg >= threshold
    active_name = load_bundles().describe(active)
    head = (
        f"NDCG@10 {ndcg:.3f} vs {reference:.3f} for the active bundle {active_name} "
        f"({signed(ndcg - reference)})"
    )
    description = (
        f"{head}, within the {config.margin:.3f} margin."
        if passed
        else f"{head}, more than the {config.margin:.3f} margin below: this bundle would rank "
        "playlists worse than the one in production."
    )
    return dg.AssetCheckResult(
        check_name=GATE,
        passed=passed,
        metadata={
            "ndcg@10": ndcg,
            "active_bundle": active,
            "active_ndcg@10": reference,
            "margin": config.margin,
            **numbers(value=ndcg, threshold=threshold, difference=ndcg - reference),
        },
        description=description,
    )
