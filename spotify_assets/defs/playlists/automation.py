"""The playlists stage's jobs: load a person's playlists, and the songs they want sorted."""

import dagster as dg

from spotify_assets.defs.playlists.assets import candidates, playlists

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
