"""track_emotions[bundle]."""
