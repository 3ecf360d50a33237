"""Named jobs the CLI (and anyone in the UI) launches: each is a step a person takes."""

import dagster as dg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.enrichment.assets import track_enrichment
from spotify_assets.defs.matching.assets import match_evaluation, match_results, playlist_profiles
from spotify_assets.defs.partitions import BUNDLE_RUN_CONFIG
from spotify_assets.defs.playlists.assets import candidates, playlists

load_catalog_job = dg.define_asset_job(
    "load_catalog",
    selection=[catalog_tracks, track_analyses],
    description="Load a catalog file (config: catalog_tracks.path) and describe its tracks.",
)
load_playlists_job = dg.define_asset_job(
    "load_playlists",
    selection=[playlists],
    description="Load a person's playlists (sample, catalog, export or the Web API).",
)
load_candidates_job = dg.define_asset_job(
    "load_candidates",
    selection=[candidates],
    description="Load the songs to sort (liked songs, recent plays or a file of ids).",
)
suggest_playlists_job = dg.define_asset_job(
    "suggest_playlists",
    selection=[track_emotions, playlist_profiles, match_results],
    config=BUNDLE_RUN_CONFIG,
    description="Which playlists each candidate belongs in, for one bundle.",
)
evaluate_matching_job = dg.define_asset_job(
    "evaluate_matching",
    selection=[track_emotions, playlist_profiles, match_evaluation],
    config=BUNDLE_RUN_CONFIG,
    description="The offline matching evaluation and its gate, for one bundle.",
)
embed_library_job = dg.define_asset_job(
    "embed_library",
    selection=[track_enrichment, track_analyses, track_embeddings],
    config=BUNDLE_RUN_CONFIG,
    description="Enrich tracks from the Web API when online (a skip offline), then describe and "
    "embed the tracks that have no description or vector yet (songs a person's library brought "
    "in, or whose enrichment changed them), for one bundle.",
)
