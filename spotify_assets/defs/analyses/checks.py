import dagster as dg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.store.analyses import AnalysisRepository


@dg.asset_check(
    asset=track_analyses, blocking=True, description="Every track has a non-empty description."
)
def every_track_described(database: DatabaseResource) -> dg.AssetCheckResult:
    with database.get().connect() as conn:
        missing = AnalysisRepository(conn).tracks_without_description()
    return dg.AssetCheckResult(
        passed=missing == 0, metadata={"tracks_without_description": missing}
    )
