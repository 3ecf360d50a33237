"""Playlists → emotions → profiles → match_results → match_evaluation as real materializations,
on a real embedded Postgres with the real MiniLM model (and tiny test-built models for the
classifier and cross-encoder paths)."""

import json

import dagster as dg
import psycopg
import pytest

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.matching.assets import (
    match_evaluation,
    match_results,
    playlist_profiles,
)
from spotify_assets.defs.playlists.assets import candidates, playlists
from spotify_assets.defs.resources import ComputeResource, DatabaseResource, SpotifyResource
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.matching.ranker import FEATURES
from spotify_assets.lib.playlists.ingest import personal_playlist_id
from spotify_assets.lib.reports import MatchesReport, read_report
from spotify_assets.lib.sample import generate_liked, generate_playlists, generate_tracks
from spotify_assets_tests.dagster_helpers import check_evaluations, check_outcomes, one_sentence
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.tiny_models import (
    build_tiny_cross_encoder,
    build_tiny_emotion_classifier,
)

ALL = [
    catalog_tracks, track_analyses, track_embeddings, track_emotions, playlists, candidates,
    playlist_profiles, match_results, match_evaluation,
]  # fmt: skip
UNPARTITIONED = [catalog_tracks, track_analyses]
PERSONAL = [playlists, candidates]  # one partition per person
PERSON = "me"
BUNDLED = [track_embeddings, track_emotions, playlist_profiles, match_results, match_evaluation]
DEFAULT = load_bundles().default_bundle


@pytest.fixture
def world(tmp_path):
    """A small generated world: 400 tracks, the sample's playlists over them, liked songs."""
    tracks = generate_tracks(n_tracks=400, seed=5)
    lists = generate_playlists(tracks, seed=5)
    lists = [p for p in lists if len(p["tracks"]) >= 3][:10]
    tiny = dict(lists[-1], playlist_id="tinyplaylist0000000001", name="Workout Mix",
                tracks=lists[-1]["tracks"][:2])  # fmt: skip
    lists.append(tiny)
    liked = generate_liked(tracks, lists, seed=5, n=30)
    paths = {
        "catalog": tmp_path / "tracks.csv",
        "playlists": tmp_path / "playlists.json",
        "library": tmp_path / "YourLibrary.json",
    }
    tracks.to_csv(paths["catalog"], index=False)
    paths["playlists"].write_text(json.dumps({"playlists": lists}))
    paths["library"].write_text(json.dumps({"tracks": liked}))
    return paths, lists


def resources(database_url):
    return {
        "database": DatabaseResource(url=database_url),
        "compute": ComputeResource(device="cpu", precision="fp32"),
        "spotify": SpotifyResource(),
        "artifacts": ArtifactStoreResource(),  # $SPOTIFY_ASSETS_HOME/artifacts
    }


def run_config(paths, selection, **extra):
    """Config for the selected assets only (Dagster rejects config for unselected ones)."""
    ops = {
        "catalog_tracks": {"config": {"path": str(paths["catalog"])}},
        "playlists": {"config": {"source": "sample", "path": str(paths["playlists"])}},
        "candidates": {"config": {"list": "liked", "source": str(paths["library"])}},
        "match_evaluation": {"config": {"person": "me"}},
    }
    for op, config in extra.items():
        ops.setdefault(op, {"config": {}})["config"].update(config)
    names = {a.key.to_user_string() for a in selection}
    return {"ops": {op: value for op, value in ops.items() if op in names}}


def materialize(database_url, instance, paths, bundle_hash, selection, **extra):
    if bundle_hash not in instance.get_dynamic_partitions("model_bundle"):
        instance.add_dynamic_partitions("model_bundle", [bundle_hash])
    return dg.materialize(
        ALL,
        selection=selection,
        resources=resources(database_url),
        instance=instance,
        partition_key=bundle_hash,
        run_config=run_config(paths, selection, **extra),
    )


def base(database_url, instance, paths):
    """The catalog, then the person's playlists and liked songs (their partition)."""
    result = dg.materialize(
        UNPARTITIONED,
        resources=resources(database_url),
        instance=instance,
        run_config=run_config(paths, UNPARTITIONED),
    )
    assert result.success
    instance.add_dynamic_partitions("person", [PERSON])
    personal = dg.materialize(
        [*UNPARTITIONED, *PERSONAL],
        selection=PERSONAL,
        resources=resources(database_url),
        instance=instance,
        partition_key=PERSON,
        run_config=run_config(paths, PERSONAL),
    )
    assert personal.success
    return result, personal


@pytest.mark.slow
def test_profiles_persist_matches_cache_and_one_new_member_recomputes_one_playlist(
    database_url, instance, world
):
    paths, lists = world
    loaded, personal = base(database_url, instance, paths)
    first = materialize(database_url, instance, paths, DEFAULT.hash, BUNDLED)
    # observability: every asset's materialization carries numeric counters, and the report
    # the CLI prints from it (lib/reports.py) reads back
    for result in (loaded, personal, first):
        for event in result.get_asset_materialization_events():
            values = event.step_materialization_data.materialization.metadata.values()
            numbers = [v.value for v in values if isinstance(v.value, int | float)]
            assert len(numbers) >= 2, event.asset_key
            asset = event.asset_key.to_user_string()
            assert read_report(asset, meta(result, asset)).line(), asset
    assert read_report("match_results", meta(first, "match_results"), MatchesReport).songs == 30
    profiles = meta(first, "playlist_profiles")
    assert profiles["playlists"] == len(lists)
    assert profiles["recomputed"] == len(lists) and profiles["reused"] == 0
    assert profiles["fallback"] == 1  # the 2-song playlist
    matches = meta(first, "match_results")
    assert matches["context_hit"] is False
    assert matches["songs"] == 30 and matches["suggestions"] >= 30
    assert matches["ranker"] == "trained"
    # what the person's validation songs chose is said: blend, weights, abstain threshold
    validation = matches["validation"]
    assert {"ranker_blend", "emotion_weight", "genre_weight", "abstain_threshold"} <= set(
        validation
    )
    assert "fits from score" in matches["ranker_decision"]
    # the trained ranker is kept in the artifact store, loadable by XGBoost
    from urllib.parse import urlparse

    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(urlparse(matches["artifact_ranker"]).path)
    # the stage-1 signals, context, and a has_* flag per column a catalog may lack
    assert booster.num_features() == len(FEATURES) == 32
    assert check_outcomes(first) == {
        "embeddings_complete": True,
        "emotions_complete": True,
        "matching_gate": True,
    }
    evaluation = meta(first, "match_evaluation")
    for system in ("stage1", "ranker", "baseline_popular", "baseline_genre", "baseline_audio"):
        assert 0 <= evaluation[f"{system}/ndcg@10"] <= 1
        assert 0 < evaluation[f"{system}/mrr"] <= 1
    # the headline metrics as a table of four columns, one row per system
    table = evaluation["results"]
    assert isinstance(table, dg.TableMetadataValue) and len(table.schema.columns) == 4
    systems = {r.data["system"].removesuffix(" (final)") for r in table.records}
    assert {"stage1", "ranker", "baseline_popular"} <= systems
    gate = check_evaluations(first)["matching_gate"]
    assert one_sentence(gate.description), gate.description
    assert gate.metadata["value"].value == pytest.approx(evaluation["ndcg@10"], abs=1e-4)
    assert profiles["dagster/row_count"] == profiles["dagster/partition_row_count"] == len(lists)
    assert matches["dagster/row_count"] > 0
    # the sample's playlists are audio rules: the system must beat picking the biggest playlist
    assert evaluation["ranker/ndcg@10"] > evaluation["baseline_popular/ndcg@10"]

    with psycopg.connect(database_url) as conn:
        fallback = conn.execute(
            """SELECT fallback, member_count FROM playlist_profiles JOIN playlists
               USING (playlist_id) WHERE source_id = %s""",  # the sample's own id
            ("tinyplaylist0000000001",),
        ).fetchone()
        types = dict(conn.execute(
            """SELECT p.source_id, f.playlist_type FROM playlist_profiles f
               JOIN playlists p USING (playlist_id)"""
        ))  # fmt: skip
        emotions = conn.execute(
            "SELECT count(*), min(cardinality(scores)), max(abs(1 - (SELECT sum(s) FROM unnest(scores) s)))"
            " FROM track_emotions WHERE bundle_hash = %s",
            (DEFAULT.hash,),
        ).fetchone()
        reasons = conn.execute(
            "SELECT reasons, contributions FROM match_results LIMIT 1"
        ).fetchone()
    assert fallback == (True, 2)
    assert types["tinyplaylist0000000001"] == "workout"  # from its name
    assert emotions[0] == 400 and emotions[1] == 28 and emotions[2] < 1e-3
    assert reasons[0] and {"semantic", "acoustic", "stage1", "ranker"} <= set(reasons[1])

    # unchanged rerun: nothing recomputed, matches come from the cache
    second = materialize(
        database_url, instance, paths, DEFAULT.hash, [playlist_profiles, match_results]
    )
    assert meta(second, "playlist_profiles")["recomputed"] == 0
    cached = meta(second, "match_results")
    assert cached["context_hit"] is True
    assert cached["embeddings_computed"] == 0 and cached["names_embedded"] == 0
    assert cached["rerank_calls"] == 0
    assert cached["context_hash"] == matches["context_hash"]

    # one new member in one playlist: exactly that profile is recomputed, the context changes
    liked_id = json.loads(paths["library"].read_text())["tracks"][0]["uri"].split(":")[-1]
    lists[0]["tracks"].append(liked_id)
    paths["playlists"].write_text(json.dumps({"playlists": lists}))
    base(database_url, instance, paths)
    third = materialize(
        database_url, instance, paths, DEFAULT.hash, [playlist_profiles, match_results]
    )
    assert meta(third, "playlist_profiles")["recomputed"] == 1
    assert meta(third, "match_results")["context_hit"] is False
    with psycopg.connect(database_url) as conn:
        suggested = conn.execute(
            """SELECT count(*) FROM match_results r JOIN match_contexts c USING (context_hash)
               WHERE c.context_hash = %s AND r.track_id = %s AND r.playlist_id = %s""",
            (
                meta(third, "match_results")["context_hash"],
                liked_id,
                personal_playlist_id("sample", PERSON, lists[0]["playlist_id"]),
            ),
        ).fetchone()[0]
    assert suggested == 0  # a song is never suggested for a playlist it is already in


@pytest.mark.slow
def test_gate_blocks_a_bundle_that_falls_below_the_active_one(database_url, instance, world):
    paths, _ = world
    base(database_url, instance, paths)
    first = materialize(database_url, instance, paths, DEFAULT.hash, BUNDLED)
    assert check_outcomes(first)["matching_gate"] is True
    # an impossible margin: the same bundle measured against itself as a stored reference
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """INSERT INTO evaluations (bundle_hash, suite, metric, value)
               VALUES ('0000000000000000', 'matching', 'final/ndcg@10', 1.5)"""
        )
    gated = dg.materialize(
        ALL,
        selection=[match_evaluation],
        resources=resources(database_url),
        instance=instance,
        partition_key=DEFAULT.hash,
        run_config=run_config(
            paths,
            [match_evaluation],
            match_evaluation={"active_bundle": "0000000000000000", "margin": 0.1},
        ),
        raise_on_error=False,
    )
    assert check_outcomes(gated)["matching_gate"] is False


@pytest.mark.slow
def test_classifier_emotions_and_cross_encoder_run_with_tiny_models(
    database_url, instance, world, tmp_path, monkeypatch, tiny_model_dir
):
    paths, _ = world
    classifier = build_tiny_emotion_classifier(tmp_path / "emotions")
    reranker = build_tiny_cross_encoder(tmp_path / "reranker")
    bundles = tmp_path / "bundles.yaml"
    bundles.write_text(
        json.dumps(
            {
                "bundles": {
                    "tiny-full": {
                        "embedding": {"model": "test/tiny", "source": str(tiny_model_dir), "dims": 32},
                        "emotion": {"backend": "classifier", "model": "test/tiny-emotions",
                                    "source": str(classifier)},
                        "reranker": {"model": "test/tiny-reranker", "source": str(reranker)},
                    }
                }
            }
        )
    )  # fmt: skip
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles))
    bundle = load_bundles().by_name("tiny-full")
    base(database_url, instance, paths)
    first = materialize(database_url, instance, paths, bundle.hash, BUNDLED)
    emotions = meta(first, "track_emotions")
    assert emotions["backend"] == "classifier" and emotions["computed"] == 400
    matches = meta(first, "match_results")
    assert matches["rerank_calls"] == 1 and matches["rerank_pairs"] > 0
    evaluation = meta(first, "match_evaluation")
    assert evaluation["final_system"] == "cross_encoder"
    assert "cross_encoder/ndcg@10" in evaluation
    with psycopg.connect(database_url) as conn:
        reranked = conn.execute(
            "SELECT count(*) FROM match_results WHERE rerank IS NOT NULL"
        ).fetchone()[0]
    assert reranked > 0
    second = materialize(database_url, instance, paths, bundle.hash, [match_results])
    again = meta(second, "match_results")
    assert again["context_hit"] is True and again["rerank_calls"] == 0


def test_playlists_and_liked_songs_from_the_spotify_api(database_url, instance, world):
    """The production path: SpotifyResource → SpotifyClient over HTTP, against a local server
    speaking the Web API (with a rate limit and an expiring token on the way)."""
    from spotify_assets_tests.fake_spotify import FakePlaylist, FakeSpotify, make_track, track_item

    paths, lists = world
    base(database_url, instance, paths)

    def track(track_id, n):
        return dict(make_track(n), id=track_id, uri=f"spotify:track:{track_id}")

    playlists_api = [
        FakePlaylist.of_tracks(p["name"], [track(t, i) for i, t in enumerate(p["tracks"])])
        for p in lists[:3]
    ]
    playlists_api[0].items.append(track_item(make_track(99_999)))  # not in the catalog
    liked = [track_item(track(t, 1000 + i)) for i, t in enumerate(lists[4]["tracks"][:5])]
    with FakeSpotify(playlists=playlists_api, liked=liked) as server:
        server.rate_limit("/v1/me/playlists", nth=1, retry_after=1)
        server.expire_token_after(2)
        spotify = SpotifyResource(
            client_id=server.client_id,
            client_secret=server.client_secret,
            refresh_token=server.refresh_token,
            api_base=server.base_url,
            token_url=server.base_url + "/api/token",
        )
        instance.add_dynamic_partitions("person", ["api-user"])
        result = dg.materialize(
            [catalog_tracks, playlists, candidates],
            selection=[playlists, candidates],
            resources={**resources(database_url), "spotify": spotify},
            instance=instance,
            partition_key="api-user",  # the person
            run_config={
                "ops": {
                    "playlists": {"config": {"source": "spotify"}},
                    "candidates": {"config": {"source": "spotify", "list": "liked"}},
                }
            },
        )
        assert result.success
        assert server.count("/api/token") >= 2  # the expired token was refreshed
    loaded = meta(result, "playlists")
    assert loaded["playlists"] == 3
    assert loaded["memberships"] == sum(len(p["tracks"]) for p in lists[:3])
    assert loaded["tracks_not_in_catalog"] == 1
    assert meta(result, "candidates")["songs"] == 5
    with psycopg.connect(database_url) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM playlists WHERE person = 'api-user'")}
        order = [
            r[0]
            for r in conn.execute(
                """SELECT m.track_id FROM playlist_tracks m JOIN playlists p USING (playlist_id)
                   WHERE p.person = 'api-user' AND p.name = %s ORDER BY m.position""",
                (lists[1]["name"],),
            )
        ]
    assert names == {p["name"] for p in lists[:3]}
    assert order == lists[1]["tracks"]
