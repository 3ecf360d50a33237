"""co_listening[person]: vectors for every song the person has, learned from what they put
and play together (lib/colistening), stored in pgvector; learned again only when their
playlists, liked songs or plays changed (the data hash)."""

import dagster as dg

from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.listening.common import summary
from spotify_assets.defs.listening.history import listening_history
from spotify_assets.defs.partitions import TRANSIENT_RETRY, people
from spotify_assets.defs.playlists.assets import candidates, playlists
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.colistening.update import update_colistening


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="matching",
    kinds={"python", "pgvector", "scikitlearn"},
    owners=["team:matching"],
    partitions_def=people,
    deps=[playlists, candidates, listening_history],
    description="The person's co-listening vectors: one per song, from their playlists (in "
    "order), liked songs and listening sessions; PPMI + SVD or skip-gram, whichever places "
    "held-back playlist members closer to their playlists. Matching's `colisten` signal.",
)
def co_listening(context: dg.AssetExecutionContext, database: DatabaseResource):
    person = context.partition_key
    with input_errors(person):
        update = update_colistening(database.get(), person)
    report = update.report
    return dg.MaterializeResult(
        metadata={
            "summary": summary(context, update.line()),
            "method": report.get("method", "none"),
            "reused": update.reused,
            "songs": report.get("songs", 0),
            "songs_with_vector": report.get("songs_with_vector", 0),
            "validation": dg.MetadataValue.json(report.get("validation") or {}),
            "contexts": dg.MetadataValue.json(report.get("contexts") or {}),
            "seconds": report.get("seconds", 0.0),
            "model_hash": update.model_hash,
        }
    )


learn_colistening_job = dg.define_asset_job(
    "learn_colistening",
    selection=[co_listening],
    description="Learn the person's co-listening vectors again (a no-op when their data is "
    "unchanged); `import` runs it, and the daily `full_retrain` keeps it current.",
)
