"""A person's coverage (the person page, `import`'s summary): every item counted once per item,
plays counted in SQL; kept per process until the library, the catalog or the vectors change."""

import numpy as np
import pandas as pd

from spotify_assets.lib.bundles import EmbeddingSpec, ModelBundle
from spotify_assets.lib.catalog import coverage
from spotify_assets.lib.catalog.coverage import CoverageRow, library_coverage
from spotify_assets.lib.features import MOOD_FEATURES_NEEDED
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.people import PersonRepository

SMALL = ModelBundle("cover", EmbeddingSpec(model="synthetic/cover", dims=4))


def _world(db):
    ids = ["c1", "c2", "l1"]  # two catalog tracks with features, one library song
    tracks = pd.DataFrame({"track_id": ids, "name": ["One", "Two", "Three"],
                           "source_format": ["test", "test", "library"], "source_file": "-",
                           "row_hash": ids})  # fmt: skip
    for column in MOOD_FEATURES_NEEDED:
        tracks[column] = [0.5, 0.5, None]
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(SMALL)
        both = tracks[tracks["track_id"] != "c2"]  # c2 has no vector
        repo.upsert(SMALL, both.assign(content_hash=both["track_id"]), np.eye(4, dtype=np.float32)[:2])
        PersonRepository(conn).ensure("u")
        conn.execute("INSERT INTO playlists (playlist_id, name, source, person) "
                     "VALUES ('pl', 'Mine', 'export', 'u')")  # fmt: skip
        conn.execute("INSERT INTO playlist_tracks VALUES ('pl', 'c1', 0), ('pl', 'l1', 1)")
        CandidateRepository(conn).replace("u", "liked", ["c2", "l1"])
        # plays: c1 three times, l1 twice, a song no catalog has (joined to nothing) once, and
        # one play whose key has no join on record
        keys = ["c1", "c1", "c1", "l1", "l1", "name:x|y", "name:new|one"]
        for i, key in enumerate(keys):
            conn.execute(
                "INSERT INTO plays (person, play_key, played_at, ended_at, ms_played, source) "
                "VALUES ('u', %s, now() - make_interval(mins => %s), now(), 200000, 'basic_export')",
                (key, i),
            )
        conn.execute("INSERT INTO play_joins (play_key, catalog_track_id, join_method) VALUES "
                     "('c1', 'c1', 'id'), ('l1', 'l1', 'id'), ('name:x|y', NULL, 'none')")  # fmt: skip


def test_coverage_counts_each_item_and_is_recomputed_only_after_a_change(db):
    _world(db)
    coverage._coverage.clear()
    before = coverage._coverage.computed
    rows = library_coverage(db, "u", SMALL.hash)
    assert rows == [
        CoverageRow("playlist items", 2, 2, 1, 2, 1),
        CoverageRow("liked songs", 2, 2, 1, 1, 1),
        CoverageRow("plays", 7, 5, 3, 5, 3),
    ]
    assert library_coverage(db, "u", SMALL.hash) == rows
    assert coverage._coverage.computed == before + 1  # the second view read the cache

    with db.connect() as conn:  # a new play of c2 (a catalog track without a vector)
        conn.execute("INSERT INTO plays (person, play_key, played_at, ended_at, ms_played, source) "
                     "VALUES ('u', 'c2', now() - interval '1 day', now(), 200000, 'basic_export')")  # fmt: skip
        conn.execute("INSERT INTO play_joins (play_key, catalog_track_id, join_method) "
                     "VALUES ('c2', 'c2', 'id')")  # fmt: skip
    assert library_coverage(db, "u", SMALL.hash)[2] == CoverageRow("plays", 8, 6, 4, 5, 4)
    assert coverage._coverage.computed == before + 2

    with db.connect() as conn:  # c2 embedded: a vector write
        c2 = pd.DataFrame({"track_id": ["c2"], "content_hash": ["c2"]})
        EmbeddingRepository(conn).upsert(SMALL, c2, np.eye(4, dtype=np.float32)[2:3])
    assert library_coverage(db, "u", SMALL.hash)[1] == CoverageRow("liked songs", 2, 2, 1, 2, 1)
    assert coverage._coverage.computed == before + 3


def test_a_person_without_plays_has_none(db):
    _world(db)
    with db.connect() as conn:
        PersonRepository(conn).ensure("v")
    assert library_coverage(db, "v", SMALL.hash)[2] == CoverageRow("plays", 0, 0, 0, 0, 0)


def test_another_persons_playlists_and_plays_are_not_counted(db):
    _world(db)
    coverage._coverage.clear()
    mine = library_coverage(db, "u", SMALL.hash)
    with db.connect() as conn:  # v: a playlist of the same songs and more, and plays
        PersonRepository(conn).ensure("v")
        conn.execute("INSERT INTO playlists (playlist_id, name, source, person) "
                     "VALUES ('pv', 'Theirs', 'export', 'v')")  # fmt: skip
        conn.execute("INSERT INTO playlist_tracks VALUES ('pv', 'c1', 0), ('pv', 'c2', 1)")
        conn.execute("INSERT INTO plays (person, play_key, played_at, ended_at, ms_played, source) "
                     "VALUES ('v', 'c1', now(), now(), 200000, 'basic_export')")  # fmt: skip
    assert library_coverage(db, "u", SMALL.hash) == mine
    theirs = library_coverage(db, "v", SMALL.hash)
    assert theirs[0] == CoverageRow("playlist items", 2, 2, 2, 1, 2)
    assert theirs[2] == CoverageRow("plays", 1, 1, 1, 1, 1)
