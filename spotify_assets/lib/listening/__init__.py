"""Listening history: privacy exports and the Web API into the `plays` table."""
