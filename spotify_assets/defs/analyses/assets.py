"""track_analyses: description text + structured analysis for every track."""

import dagster as dg

from spotify_assets.defs import tables
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.enrichment.assets import track_enrichment
from spotify_assets.defs.progress import progress
from spotify_assets.defs.resources import DatabaseResource
from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.reports import AnalysesReport
from spotify_assets.lib.store.analyses import AnalysisRepository


@dg.asset(
    group_name="analyses",
    kinds={"python", "postgres"},
    owners=["team:search"],
    metadata=tables.TRACK_ANALYSES,
    deps=[catalog_tracks, track_enrichment],
    description="Words for each track's audio features and metadata; only changed tracks rerun. "
    "A song without its own features or genre is described with its artist's usual style, "
    "said as the artist's (artist_profiles, rebuilt from the catalog first).",
)
def track_analyses(
    context: dg.AssetExecutionContext, database: DatabaseResource
) -> dg.MaterializeResult:
    report = update_track_analyses(database.get(), progress=progress(context))
    with database.get().connect() as conn:
        stored = AnalysisRepository(conn).count()
    return dg.MaterializeResult(
        metadata={
            **tables.rows(stored),
            "tracks": report.tracks,
            **AnalysesReport(written=report.written, unchanged=report.unchanged).to_metadata(),
            "extractor_version": report.extractor_version,
            "artist_profiles": report.artists.artists if report.artists else 0,
            "described_with_artist_style": report.with_artist_style,
            "name_words_written": report.name_words,
            "seconds": round(report.seconds, 2),
            "examples": dg.MetadataValue.md("\n".join(f"- {e}" for e in report.examples)),
        }
    )
