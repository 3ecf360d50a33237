"""Incremental listening history from the Spotify Web API, with ReccoBeats audio features.

Spotify documents recently-played `played_at` only as "the date and time the track was
played". We store it as the START (`played_at`) and derive `ended_at` = played_at + track
duration; `ms_played` is unknown from the API and left NULL rather than guessed.

The cursor (unix ms of the newest play seen) lives in `history_cursors` and is written in the
same transaction as the plays, so a failed run leaves it where it was and the rerun fetches
the same plays again; the plays' key makes that rerun insert each play exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spotify_assets.lib.export.history import API, PLAY_COLUMNS
from spotify_assets.lib.listening.ingest import join_songs
from spotify_assets.lib.people import DEFAULT_PERSON
from spotify_assets.lib.spotify.client import SpotifyClient
from spotify_assets.lib.spotify.reccobeats import (  # noqa: F401  (re-exported)
    RECCOBEATS_BATCH,
    ReccoBeatsClient,
    ReccoBeatsError,
)
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.listening import (
    PlayJoinRepository,
    PlayRepository,
    TrackFeatureRepository,
)
from spotify_assets.lib.store.people import PersonRepository

log = logging.getLogger(__name__)
MAX_PAGES = 100  # a cursor that never advances must not loop forever


# -- Spotify recently-played ----------------------------------------------------------------


def plays_frame(items: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Play-history items → PLAY_COLUMNS rows (episodes and id-less tracks skipped)."""
    rows = []
    for item in items:
        track = item.get("track") or {}
        if track.get("type", "track") != "track" or not track.get("id"):
            continue
        played_at = pd.Timestamp(item["played_at"]).tz_convert("UTC")
        duration = track.get("duration_ms")
        artists = track.get("artists") or [{}]
        rows.append(
            {
                "play_key": track["id"],
                "played_at": played_at,
                "ended_at": played_at + pd.to_timedelta(duration or 0, unit="ms"),
                "ms_played": None,
                "track_id": track["id"],
                "artist_name": artists[0].get("name"),
                "track_name": track.get("name"),
                "album_name": (track.get("album") or {}).get("name"),
                "source": API,
                "reason_start": None,
                "reason_end": None,
                "shuffle": None,
                "skipped": None,
            }
        )
    return pd.DataFrame(rows, columns=PLAY_COLUMNS)


def fetch_recent(client: SpotifyClient, cursor_ms: int | None) -> tuple[pd.DataFrame, int | None]:
    """Every play after `cursor_ms` (all of the API's window when None), and the new cursor."""
    items: list[dict] = []
    cursor = cursor_ms
    for _ in range(MAX_PAGES):
        page = client.recently_played(after=cursor, limit=50)
        if not page.items:
            break
        items += page.items
        newest = max(int(pd.Timestamp(i["played_at"]).timestamp() * 1000) for i in page.items)
        after = int(page.cursors.get("after") or newest)
        if cursor is not None and after <= cursor:
            break  # the cursor did not move: stop rather than refetch the same page
        cursor = after
    frame = plays_frame(items).drop_duplicates(["play_key", "played_at"], ignore_index=True)
    return frame, cursor


@dataclass(frozen=True)
class IngestReport:
    plays: int
    inserted: int
    features_fetched: int
    cursor_before: int | None
    cursor_after: int | None


def ingest_recent(
    db: Database,
    client: SpotifyClient,
    reccobeats: ReccoBeatsClient | None,
    person: str = DEFAULT_PERSON,
) -> IngestReport:
    """Fetch new plays and features, then store plays, features and cursor in one transaction.
    `reccobeats` None (RECCOBEATS_API_BASE=off): plays only, no features asked for.

    A features failure fails the run (nothing written, cursor unchanged): the next run fetches
    the same plays again, while they are still in the API's window of the last 50.
    """
    with db.connect() as conn:
        before_text = PlayRepository(conn).cursor(person, API)
    before = int(before_text) if before_text else None
    plays, after = fetch_recent(client, before)
    if plays.empty:
        return IngestReport(0, 0, 0, before, before)

    with db.connect() as conn:  # which tracks still lack features, outside the write
        catalog = PlayJoinRepository(conn).catalog()
        fetched = TrackFeatureRepository(conn).known(plays["play_key"].tolist())
    featured = set(catalog.loc[catalog["has_features"].astype(bool), "track_id"])
    lacking = ~plays["track_id"].isin(featured) & ~plays["play_key"].isin(fetched)
    missing = plays.loc[lacking, "track_id"].dropna().unique().tolist()
    features = reccobeats.audio_features(missing) if missing and reccobeats else {}

    with db.connect() as conn, conn.transaction():
        PersonRepository(conn).ensure(person)
        repo = PlayRepository(conn)
        if features:
            frame = pd.DataFrame.from_dict(features, orient="index").rename_axis("track_key")
            TrackFeatureRepository(conn).upsert(frame.reset_index().assign(source="reccobeats"))
        counts = repo.upsert(plays.assign(person=person))
        join_songs(conn, plays.drop_duplicates("play_key"), person)
        if after is not None:
            repo.set_cursor(person, API, str(after))  # only with the plays it covers
    log.info(
        "%s: %d plays (%d new), cursor %s → %s", person, len(plays), counts.inserted, before, after
    )
    return IngestReport(len(plays), counts.inserted, len(features), before, after)
