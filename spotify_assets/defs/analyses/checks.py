import dagster as dg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.defs.verdicts import plural
from spotify_assets.lib.store.analyses import AnalysisRepository


@dg.asset_check(
    asset=track_analyses, blocking=True, description="Every track has a non-empty description."
)
def every_track_described(database: DatabaseResource) -> dg.AssetCheckResult:
    with database.get().connect() as conn:
        repo = AnalysisRepository(conn)
        missing, described = repo.tracks_without_description(), repo.count()
    if missing == 0:
        description = (
            f"Every track has a description ({plural(described, 'analysis', 'analyses')})."
        )
    else:
        description = f"{plural(missing, 'track')} without a description: rerun track_analyses."
    return dg.AssetCheckResult(
        passed=missing == 0,
        metadata={"tracks_without_description": missing, "analyses": described, "threshold": 0},
        description=description,
    )
