"""playlist_profiles, match_results and match_evaluation per bundle."""
