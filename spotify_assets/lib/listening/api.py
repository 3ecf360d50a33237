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
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.http import RetryingHTTP
from spotify_assets.lib.listening.exports import API, PLAY_COLUMNS
from spotify_assets.lib.listening.join import join_plays
from spotify_assets.lib.spotify.client import SpotifyClient
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.listening import (
    ListenerRepository,
    PlayJoinRepository,
    PlayRepository,
    TrackFeatureRepository,
)

log = logging.getLogger(__name__)
RECCOBEATS_BATCH = 40  # the most ids ReccoBeats takes per audio-features call
MAX_PAGES = 100  # a cursor that never advances must not loop forever


class ReccoBeatsError(Exception):
    """A ReccoBeats request that failed for good (after retries where retrying made sense)."""

    def __init__(self, path: str, status: int | None, message: str):
        self.path, self.status = path, status
        super().__init__(f"ReccoBeats {path}: {status or 'no response'}: {message}")


class ReccoBeatsClient:
    """Audio features for Spotify track ids; retries 429 (Retry-After), 5xx and timeouts."""

    def __init__(
        self,
        base_url: str = "https://api.reccobeats.com",
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._http = RetryingHTTP(
            ReccoBeatsError, timeout=timeout, max_retries=max_retries, sleep=sleep, log=log
        )

    def __enter__(self) -> ReccoBeatsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def audio_features(self, spotify_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Spotify id → {feature: value}; ids ReccoBeats does not know are absent."""
        ids = list(dict.fromkeys(spotify_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), RECCOBEATS_BATCH):
            batch = ids[start : start + RECCOBEATS_BATCH]
            body = self._get("/v1/audio-features", {"ids": ",".join(batch)})
            for item in body.get("content") or []:
                spotify_id = _spotify_id(item.get("href"))
                if spotify_id in batch:  # ReccoBeats' own id is not Spotify's: map via href
                    found[spotify_id] = {f: item.get(f) for f in AUDIO_FEATURES}
        return found

    def _get(self, path: str, params: Mapping[str, Any]) -> dict:
        response = self._http.request("GET", self.base_url + path, what=path, params=params)
        if not response.is_success:
            raise self._http.failure(path, response)
        return response.json() if response.content else {}


def _spotify_id(href: object) -> str | None:
    """ "https://open.spotify.com/track/<id>" → "<id>"."""
    if not isinstance(href, str) or "/track/" not in href:
        return None
    return href.rsplit("/track/", 1)[1].split("?", 1)[0].strip("/") or None


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
    reccobeats: ReccoBeatsClient,
    user_id: str = "me",
) -> IngestReport:
    """Fetch new plays and features, then store plays, features and cursor in one transaction.

    A features failure fails the run (nothing written, cursor unchanged): the next run fetches
    the same plays again, while they are still in the API's window of the last 50.
    """
    with db.connect() as conn:
        before_text = PlayRepository(conn).cursor(user_id, API)
    before = int(before_text) if before_text else None
    plays, after = fetch_recent(client, before)
    if plays.empty:
        return IngestReport(0, 0, 0, before, before)

    with db.connect() as conn:  # which tracks still lack features, outside the write
        catalog = PlayJoinRepository(conn).catalog()
        fetched = TrackFeatureRepository(conn).known(plays["play_key"].tolist())
    joined, _ = join_plays(plays, catalog)
    lacking = ~joined["has_features"] & ~joined["play_key"].isin(fetched)
    missing = joined.loc[lacking, "track_id"].dropna().unique().tolist()
    features = reccobeats.audio_features(missing) if missing else {}

    with db.connect() as conn, conn.transaction():
        ListenerRepository(conn).ensure(user_id)
        repo = PlayRepository(conn)
        if features:
            frame = pd.DataFrame.from_dict(features, orient="index").rename_axis("track_key")
            TrackFeatureRepository(conn).upsert(frame.reset_index().assign(source="reccobeats"))
        counts = repo.upsert(plays.assign(user_id=user_id))
        if after is not None:
            repo.set_cursor(user_id, API, str(after))  # only with the plays it covers
    log.info(
        "%s: %d plays (%d new), cursor %s → %s", user_id, len(plays), counts.inserted, before, after
    )
    return IngestReport(len(plays), counts.inserted, len(features), before, after)
