"""A person's playlists: reading them from exports, typing them, matching songs to them."""
