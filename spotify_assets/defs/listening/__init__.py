"""A listener's history: plays, sessions, moods, drift (models and dashboard to follow)."""
