"""The matching stage's jobs, per model bundle: suggestions, the offline evaluation and its
gate, or both."""

import dagster as dg

from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.matching.assets import match_evaluation, match_results, playlist_profiles
from spotify_assets.defs.partitions import BUNDLE_RUN_CONFIG

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
match_bundle_job = dg.define_asset_job(
    "match_bundle",
    selection=[track_emotions, playlist_profiles, match_results, match_evaluation],
    config=BUNDLE_RUN_CONFIG,
    description="Profiles, suggestions and the evaluation gate for one bundle (needs playlists "
    "and candidates materialized).",
)
