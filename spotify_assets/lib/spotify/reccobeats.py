"""ReccoBeats: audio features for Spotify track ids (Spotify's own endpoint is closed to new
apps). No credentials are needed, so a machine without a Spotify account can still use it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.http import RetryingHTTP

RECCOBEATS_BATCH = 40  # the most ids ReccoBeats takes per audio-features call
DEFAULT_BASE_URL = "https://api.reccobeats.com"


class ReccoBeatsError(Exception):
    """A ReccoBeats request that failed for good (after retries where retrying made sense)."""

    def __init__(self, path: str, status: int | None, message: str):
        self.path, self.status = path, status
        super().__init__(f"ReccoBeats {path}: {status or 'no response'}: {message}")


class ReccoBeatsClient:
    """Audio features for Spotify track ids; retries 429 (Retry-After), 5xx and timeouts."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
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
