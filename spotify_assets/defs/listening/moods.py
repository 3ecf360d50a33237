"""Stage 3, moods: the retrain's split and its one clustering on the training weeks."""

import dagster as dg
from pydantic import Field

from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.listening.common import DAILY_RETRAIN, LISTENING, load_sessions, summary
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.listening.ingest import person_zone_of


class MoodConfig(dg.Config):
    gap_minutes: int = Field(default=30, description="A new session after this many idle minutes.")
    include_skips: bool = True
    seed: int = 0


@dg.asset(
    **LISTENING,
    kinds={"scikitlearn", "json"},
    freshness_policy=DAILY_RETRAIN,
    io_manager_key="documents",
    deps=[play_features],
    description="The retrain's one mood clustering: split boundaries (60/20/20 of the plays in "
    "time), then K-means on the training weeks' plays with audio features, K by silhouette; "
    "readable, distinct labels. Models, predictions and the dashboard all use it.",
)
def mood_clusters(
    context: dg.AssetExecutionContext, config: MoodConfig, database: DatabaseResource
) -> dg.Output[dict]:
    from spotify_assets.lib.listening.retrain import cluster_training_weeks

    person = context.partition_key
    plays = load_sessions(database, person, config.gap_minutes, config.include_skips)
    zone = person_zone_of(database.get(), person)
    with input_errors(person):
        clustering = cluster_training_weeks(plays, seed=config.seed)
    moods = clustering.moods
    if moods is None:
        line = f"no mood clustering: {clustering.reason}"
    else:
        line = (
            f"K={moods.k} moods ({moods.rule}) from {clustering.fitted_on:,} training-week plays "
            f"with audio features; times in {zone.describe()}"
        )
    document = {
        **clustering.to_dict(),
        "timezone": zone.name,
        "timezone_source": zone.source,
        "gap_minutes": config.gap_minutes,
        "include_skips": config.include_skips,
        "seed": config.seed,
    }
    return dg.Output(
        document,
        metadata={
            "k": moods.k if moods else 0,
            "labels": dg.MetadataValue.json(moods.labels if moods else []),
            "fitted_on_plays": clustering.fitted_on,
            "no_clustering_because": clustering.reason,
            "timezone": zone.describe(),
            "validation_from": clustering.boundaries[0].isoformat(),
            "test_from": clustering.boundaries[1].isoformat(),
            "summary": summary(context, line, warn=moods is None),
        },
    )
