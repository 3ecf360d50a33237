"""playlists and candidates: whose playlists, and which songs to sort."""
