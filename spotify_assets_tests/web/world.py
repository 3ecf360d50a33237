"""Two people in one database, each with playlists, liked songs and a sorting run: what the
web app's tests read (real materializations, the real MiniLM model)."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import psycopg

from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.matching.assets import match_results, playlist_profiles
from spotify_assets.defs.playlists.assets import candidates, playlists
from spotify_assets.defs.resources import ComputeResource, DatabaseResource, SpotifyResource
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.sample import generate_liked, generate_playlists, generate_tracks
from spotify_assets.lib.store.server import with_database

ASSETS = [catalog_tracks, track_analyses, track_embeddings, track_emotions, playlists,
          candidates, playlist_profiles, match_results]  # fmt: skip
BUNDLED = [track_embeddings, track_emotions, playlist_profiles, match_results]
PEOPLE = ("ana", "ben")
BUNDLE = load_bundles().default_bundle


@dataclass
class World:
    database_url: str
    playlist_names: dict[str, list[str]]  # person → their playlists' names
    liked: dict[str, list[str]]  # person → liked track ids
    tracks: dict[str, str]  # track id → name


def resources(database_url: str) -> dict:
    return {
        "database": DatabaseResource(url=database_url),
        "compute": ComputeResource(device="cpu", precision="fp32"),
        "spotify": SpotifyResource(),
        "artifacts": ArtifactStoreResource(),
    }


def match(database_url: str, instance, person: str) -> dg.ExecuteInProcessResult:
    """The person's sorting run (profiles of their playlists, their liked songs sorted)."""
    result = dg.materialize(
        ASSETS, selection=BUNDLED, resources=resources(database_url), instance=instance,
        partition_key=BUNDLE.hash,
        run_config={"ops": {
            "playlist_profiles": {"config": {"person": person}},
            "match_results": {"config": {"list": "liked", "person": person, "playlists": "own"}},
        }},
    )  # fmt: skip
    assert result.success
    return result


_BUILDS = itertools.count()


def build(folder: Path, server_url: str, instance) -> World:
    # a new name each time: a process remembers which database URLs it has migrated
    name = f"web_{os.getpid()}_{next(_BUILDS)}"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    tracks = generate_tracks(n_tracks=300, seed=11)
    lists = [p for p in generate_playlists(tracks, seed=11) if len(p["tracks"]) >= 4][:8]
    catalog = folder / "tracks.csv"
    tracks.to_csv(catalog, index=False)
    res = resources(url)
    assert dg.materialize([catalog_tracks, track_analyses], resources=res, instance=instance,
                          run_config={"ops": {"catalog_tracks": {"config": {"path": str(catalog)}}}}
                          ).success  # fmt: skip
    names, liked = {}, {}
    for i, person in enumerate(PEOPLE):
        # each person their own playlists (names of their own) and liked songs
        own = [dict(p, playlist_id=f"{person}{p['playlist_id']}", name=f"{person.title()} {p['name']}")
               for p in lists[i::2]]  # fmt: skip
        songs = generate_liked(tracks, own, seed=11 + i, n=12)
        (folder / f"{person}.json").write_text(json.dumps({"playlists": own}))
        (folder / f"{person}-liked.json").write_text(json.dumps({"tracks": songs}))
        instance.add_dynamic_partitions("person", [person])
        assert dg.materialize(
            [catalog_tracks, track_analyses, playlists, candidates],
            selection=[playlists, candidates], resources=res, instance=instance,
            partition_key=person,
            run_config={"ops": {
                "playlists": {"config": {"source": "sample", "path": str(folder / f"{person}.json")}},
                "candidates": {"config": {"list": "liked",
                                          "source": str(folder / f"{person}-liked.json")}},
            }},
        ).success  # fmt: skip
        names[person] = [p["name"] for p in own]
        liked[person] = [t["uri"].removeprefix("spotify:track:") for t in songs]
    instance.add_dynamic_partitions("model_bundle", [BUNDLE.hash])
    for person in PEOPLE:
        match(url, instance, person)
    return World(
        url, names, liked, dict(zip(tracks["track_id"], tracks["track_name"], strict=True))
    )
