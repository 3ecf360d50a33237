"""Stage 2, features: the plays joined to the catalog as it is now, and to fetched features."""

import dagster as dg

from spotify_assets.defs import tables
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.failures import input_failure
from spotify_assets.defs.listening.common import EVERY_30_MINUTES, LISTENING, no_plays, summary
from spotify_assets.defs.listening.history import listening_history
from spotify_assets.defs.partitions import TRANSIENT_RETRY
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.listening.ingest import refresh_joins
from spotify_assets.lib.store.listening import (
    PlayJoinRepository,
)


@dg.asset(
    **LISTENING,
    kinds={"python", "postgres"},
    metadata=tables.PLAY_JOINS,
    freshness_policy=EVERY_30_MINUTES,
    deps=[listening_history, catalog_tracks],
    retry_policy=TRANSIENT_RETRY,
    description="The person's plays joined to the catalog as it is now (by track id, else "
    "artist + title) and to fetched features: recomputed on every retrain and update, so a "
    "catalog loaded later gives old plays their features. One row per distinct song played "
    "(play key), not per play: `plays` says how many plays they cover.",
)
def play_features(context: dg.AssetExecutionContext, database: DatabaseResource):
    person = context.partition_key
    coverage = refresh_joins(database.get(), person)
    if coverage.plays == 0:
        raise input_failure(no_plays(person))
    with database.get().connect() as conn:
        joins = PlayJoinRepository(conn).count(person)
    # the table has a row per distinct song; say so beside the plays, or 1,359 "rows" for
    # 2,952 plays reads as lost plays
    line = f"{coverage.describe()}; {joins:,} distinct songs (the table's rows)"
    if coverage.share == 0:
        line += (
            "; WARNING: no play has audio features, so there are no moods: load a catalog that "
            "covers this person (spotify-assets catalog FILE), then retrain"
        )
    return dg.MaterializeResult(
        metadata={
            **coverage.as_dict(),
            "distinct_songs": joins,
            "feature_coverage": dg.MetadataValue.float(coverage.share),
            "summary": summary(context, line, warn=coverage.share == 0),
            **tables.rows(joins, partitioned=True),
        }
    )
