"""track_enrichment materialized for real (Dagster, Postgres, the fake Spotify and ReccoBeats
servers): it fills gaps, honours a 429, is a skip offline, and the tracks it changes are
described again exactly once."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from spotify_assets.definitions import defs
from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.enrichment.assets import track_enrichment
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.store.tracks import TRACK_COLUMNS, TrackRepository
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.fake_reccobeats import FEATURES_PATH, FakeReccoBeats
from spotify_assets_tests.fake_spotify import FakeSpotify, make_track

LIB_ID = "lib:0123456789abcdef"
GENRES = {"Rapper": ["rap", "pop rap"]}


def _seed(db, tracks: list[dict]) -> None:
    rows = []
    for t in [*tracks, {"id": LIB_ID, "name": "Home Demo", "artists": [{"name": "Me"}]}]:
        row = {c: None for c in TRACK_COLUMNS}
        row.update(track_id=t["id"], name=t["name"], artists=[a["name"] for a in t["artists"]],
                   source_format="library", source_file="export", row_hash=f"h-{t['id']}")  # fmt: skip
        rows.append(row)
    rows[0]["popularity"] = 7  # known: enrichment must keep it
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).add_missing(pd.DataFrame(rows))


def _tracks(db) -> pd.DataFrame:
    with db.connect() as conn:
        return TrackRepository(conn).frame().set_index("track_id")


def _spotify(server: FakeSpotify, recco: FakeReccoBeats) -> SpotifyResource:
    return SpotifyResource(
        client_id=server.client_id,
        client_secret=server.client_secret,
        refresh_token=server.refresh_token,
        api_base=server.base_url,
        token_url=server.base_url + "/api/token",
        reccobeats_base=recco.base_url,
    )


def test_track_analyses_run_after_enrichment_in_embed_library():
    graph = defs().resolve_asset_graph()
    parents = graph.get(dg.AssetKey("track_analyses")).parent_keys
    assert dg.AssetKey("track_enrichment") in parents
    job = defs().resolve_job_def("embed_library")
    assert dg.AssetKey("track_enrichment") in job.asset_layer.executable_asset_keys


def test_enrichment_fills_gaps_honours_a_429_and_is_described_once(database_url, db, instance):
    tracks = [make_track(n, artists=["Rapper"]) for n in range(3)]
    _seed(db, tracks)
    database = DatabaseResource(url=database_url)
    described = dg.materialize([track_analyses], resources={"database": database},
                               instance=instance)  # fmt: skip
    assert meta(described, "track_analyses")["written"] == 4
    ids = [t["id"] for t in tracks]
    with FakeSpotify(extra_tracks=tracks, artist_genres=GENRES) as server:
        recco = FakeReccoBeats.knowing(ids[1:])  # ReccoBeats does not know the first one
        with recco:
            server.rate_limit("/v1/tracks", nth=1, retry_after=1)
            resources = {"database": database, "spotify": _spotify(server, recco)}
            result = dg.materialize([track_enrichment, track_analyses], resources=resources,
                                    instance=instance)  # fmt: skip
            again = dg.materialize([track_enrichment, track_analyses], resources=resources,
                                   instance=instance)  # fmt: skip
        assert [c.status for c in server.calls("/v1/tracks")] == [429, 200]  # waited, retried
        assert recco.count(FEATURES_PATH) == 1
    m = meta(result, "track_enrichment")
    assert m["tracks_considered"] == 3 and m["spotify_enriched"] == 3
    assert m["reccobeats_enriched"] == 2 and m["spotify_failed_batches"] == 0
    assert m["spotify_remaining"] == 0 and "skipped" not in m
    assert meta(result, "track_analyses")["written"] == 3  # the three enriched, once
    assert meta(again, "track_enrichment")["tracks_considered"] == 0
    assert meta(again, "track_analyses")["written"] == 0

    stored = _tracks(db)
    assert stored.loc[ids[0], "popularity"] == 7  # known value kept
    assert stored.loc[ids[1], "genre"] == "rap;pop rap" and stored.loc[ids[1], "energy"] > 0
    assert pd.isna(stored.loc[ids[0], "energy"])  # unknown to ReccoBeats: still missing
    assert pd.isna(stored.loc[LIB_ID, "album_name"]) and pd.isna(stored.loc[LIB_ID, "popularity"])


def test_a_failed_batch_is_counted_and_the_next_run_fills_it(database_url, db, instance):
    tracks = [make_track(n) for n in range(60)]  # two /v1/tracks batches: 50 + 10
    _seed(db, tracks)
    with FakeSpotify(extra_tracks=tracks) as server, FakeReccoBeats() as recco:
        # a 4xx is not retried: the batch fails for good at once (a 5xx would after retries)
        server.inject("/v1/tracks", server.error(400, "Bad request"), nth=1)
        resources = {"database": DatabaseResource(url=database_url),
                     "spotify": _spotify(server, recco)}  # fmt: skip
        first = dg.materialize([track_enrichment], resources=resources, instance=instance)
        second = dg.materialize([track_enrichment], resources=resources, instance=instance)
    m = meta(first, "track_enrichment")
    assert first.success and m["spotify_failed_batches"] == 1
    assert m["spotify_enriched"] == 10 and m["spotify_remaining"] == 50
    m = meta(second, "track_enrichment")
    assert m["spotify_considered"] == 50 and m["spotify_enriched"] == 50
    assert m["spotify_remaining"] == 0 and m["spotify_failed_batches"] == 0
    assert _tracks(db).loc[[t["id"] for t in tracks], "album_name"].notna().all()


def test_enrichment_is_a_skip_without_spotify_credentials(database_url, db, instance):
    _seed(db, [make_track(1)])
    result = dg.materialize(
        [track_enrichment],
        resources={"database": DatabaseResource(url=database_url), "spotify": SpotifyResource()},
        instance=instance,
    )
    assert result.success
    m = meta(result, "track_enrichment")
    assert m["skipped"].startswith("spotify: no Spotify credentials (SPOTIFY_CLIENT_ID, ")
    assert "reccobeats: off" in m["skipped"]  # RECCOBEATS_API_BASE=off in the tests
    assert m["spotify_remaining"] == 1 and m["spotify_enriched"] == 0
    logs = [e.message for e in result.all_events if e.event_type_value == "ENGINE_EVENT"] + [
        r.user_message for r in instance.all_logs(result.run_id)
    ]
    assert any(line.startswith("track_enrichment skipped spotify: no Spotify") for line in logs)
