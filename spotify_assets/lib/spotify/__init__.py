"""Spotify Web API: an httpx client and conversions of its objects into catalog frames."""

from spotify_assets.lib.spotify.client import (
    RecentlyPlayed,
    SpotifyAPIError,
    SpotifyAuthError,
    SpotifyClient,
    SpotifyError,
)
from spotify_assets.lib.spotify.convert import memberships_frame, playlists_frame, tracks_frame

__all__ = [
    "RecentlyPlayed",
    "SpotifyAPIError",
    "SpotifyAuthError",
    "SpotifyClient",
    "SpotifyError",
    "memberships_frame",
    "playlists_frame",
    "tracks_frame",
]
