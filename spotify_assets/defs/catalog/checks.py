import dagster as dg

from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.defs.verdicts import plural
from spotify_assets.lib.store.tracks import TrackRepository


@dg.asset_check(asset=catalog_tracks, description="No track id occurs twice (ignoring whitespace).")
def no_duplicate_track_ids(database: DatabaseResource) -> dg.AssetCheckResult:
    with database.get().connect() as conn:
        repo = TrackRepository(conn)
        duplicates, total = repo.duplicate_id_count(), repo.count()
    if duplicates == 0:
        description = f"No duplicate ids among {plural(total, 'track')}."
    else:
        description = (
            f"{plural(duplicates, 'track id')} of {plural(total, 'track')} occur more than once "
            "when whitespace is ignored."
        )
    return dg.AssetCheckResult(
        passed=duplicates == 0,
        metadata={"duplicate_ids": duplicates, "tracks": total, "threshold": 0},
        description=description,
    )
