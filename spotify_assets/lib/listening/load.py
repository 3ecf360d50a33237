"""Plays of one listener with the audio features of what they played, as models read them."""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.features import AUDIO_FEATURES


def load_plays(conn: psycopg.Connection, user_id: str) -> pd.DataFrame:
    """Every play of `user_id` in time order. Features come from the catalog track it joined
    to, else from fetched track_features; NaN when neither knows the track (kept, marked)."""
    features = sql.SQL(", ").join(
        sql.SQL("coalesce(t.{0}, f.{0}) AS {0}").format(sql.Identifier(c)) for c in AUDIO_FEATURES
    )
    query = sql.SQL(
        """SELECT p.user_id, p.played_at, p.ended_at, p.ms_played, p.track_id,
                  p.catalog_track_id, p.artist_name, p.track_name, p.skipped, p.source, {features}
           FROM plays p
           LEFT JOIN tracks t ON t.track_id = p.catalog_track_id
           LEFT JOIN track_features f ON f.track_id = p.track_id
           WHERE p.user_id = %s
           ORDER BY p.played_at"""
    ).format(features=features)
    with conn.cursor() as cur:
        cur.execute(query, (user_id,))
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    for column in ("played_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for column in AUDIO_FEATURES:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["has_features"] = frame[list(AUDIO_FEATURES)].notna().all(axis=1)
    return frame
