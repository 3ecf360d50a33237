"""track_enrichment: fill what tracks lack from the Spotify Web API and ReccoBeats, when online.

Offline is normal (no Spotify app, no network): the asset then materializes with `skipped` and
the reason in its metadata instead of failing, so `spotify-assets import` works without an
account. The logic is `spotify_assets.lib.catalog.enrich`.
"""

import dagster as dg

from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.catalog.enrich import enrich_tracks


@dg.asset(
    group_name="enrichment",
    kinds={"python", "postgres"},
    owners=["team:catalog"],
    deps=[catalog_tracks],
    description="Fills the album, release year, popularity, duration, explicit flag and genres "
    "(Spotify Web API) and audio features (ReccoBeats) that tracks with a Spotify id lack; never "
    "overwrites a known value; skipped with the reason when offline.",
)
def track_enrichment(
    context: dg.AssetExecutionContext, database: DatabaseResource, spotify: SpotifyResource
) -> dg.MaterializeResult:
    log = context.log.info
    missing = spotify.missing_credentials()
    client = None if missing else spotify.client(log=log)
    reccobeats = spotify.reccobeats(log=log)
    try:
        report = enrich_tracks(
            database.get(),
            client,
            reccobeats,
            spotify_skipped=f"no Spotify credentials ({', '.join(missing)} not set)",
            reccobeats_skipped="off (RECCOBEATS_API_BASE=off)",
            log=context.log.warning,
        )
    finally:
        for opened in (client, reccobeats):
            if opened is not None:
                opened.close()
    if report.skipped:
        context.log.warning(f"track_enrichment skipped {report.skipped}")
    line = report.line()
    context.log.info(line)
    return dg.MaterializeResult(metadata={**report.as_dict(), "summary": line})
