"""A person's history: plays, sessions, moods, drift (models and dashboard to follow)."""
