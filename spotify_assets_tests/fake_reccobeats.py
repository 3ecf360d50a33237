"""A local stand-in for ReccoBeats' audio-features endpoint, on the shared fake HTTP server.

with FakeReccoBeats({spotify_id: {"energy": 0.5, ...}}) as server:
    client = ReccoBeatsClient(server.base_url, sleep=sleeps.append)
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from spotify_assets_tests.fake_spotify import FakeHTTPServer, FakeRequest, Reply

FEATURES_PATH = "/v1/audio-features"
MAX_IDS = 40


def make_features(spotify_id: str) -> dict[str, Any]:
    """Deterministic plausible features for an id."""
    seed = hashlib.sha256(spotify_id.encode()).digest()
    unit = [b / 255 for b in seed[:8]]
    return {
        "acousticness": unit[0],
        "danceability": unit[1],
        "energy": unit[2],
        "instrumentalness": unit[3],
        "key": seed[8] % 12,
        "liveness": unit[4],
        "loudness": -unit[5] * 20,
        "mode": seed[9] % 2,
        "speechiness": unit[6],
        "tempo": 70 + unit[7] * 100,
        "valence": unit[0] / 2 + unit[1] / 2,
    }


class FakeReccoBeats(FakeHTTPServer):
    """GET /v1/audio-features?ids=<spotify ids> → {"content": [...]}, unknown ids omitted."""

    def __init__(self, features: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__()
        self.features = dict(features or {})
        self.add_route("GET", FEATURES_PATH, self._audio_features, auth=False)

    @classmethod
    def knowing(cls, spotify_ids: Iterable[str]) -> FakeReccoBeats:
        return cls({i: make_features(i) for i in spotify_ids})

    def _audio_features(self, request: FakeRequest) -> Reply:
        ids = [i for i in request.query.get("ids", "").split(",") if i]
        if not ids:
            return self.error(400, "ids is required")
        if len(ids) > MAX_IDS:
            return self.error(400, f"at most {MAX_IDS} ids")
        content = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, i)),  # ReccoBeats' own id, not Spotify's
                "href": f"https://open.spotify.com/track/{i}",
                **self.features[i],
            }
            for i in ids
            if i in self.features
        ]
        return Reply(200, {"content": content})
