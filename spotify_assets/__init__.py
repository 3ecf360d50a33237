"""spotify_assets: Spotify track data, playlists and listening history as Dagster assets."""

__version__ = "0.1.0"
