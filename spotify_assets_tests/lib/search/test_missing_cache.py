"""How many tracks a filter could not consider ("not considered: N tracks without energy") is
derived from the bundle's null patterns, scanned once per change of the vectors."""

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.bundles import EmbeddingSpec, ModelBundle
from spotify_assets.lib.search import service
from spotify_assets.lib.search.service import missing_counts, missing_values, search
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.search import SearchRepository

ROWS = {  # track_id: (energy, tempo, genre)
    "a": (0.9, 120.0, "rock"), "b": (0.8, None, "pop"), "c": (None, None, None),
    "d": (None, None, "jazz"), "e": (0.1, 90.0, None), "f": (None, 100.0, None),
}  # fmt: skip
SMALL = ModelBundle("patterns", EmbeddingSpec(model="synthetic/patterns", dims=4))


@pytest.fixture
def catalog(db):
    ids = list(ROWS)
    tracks = pd.DataFrame(
        {"track_id": ids, "name": [f"Song {i}" for i in ids],
         "energy": [ROWS[i][0] for i in ids], "tempo": [ROWS[i][1] for i in ids],
         "genre": [ROWS[i][2] for i in ids], "source_format": "synthetic",
         "source_file": "-", "row_hash": ids}
    )  # fmt: skip
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(SMALL)
        repo.upsert(SMALL, tracks.assign(content_hash=ids), np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]])
    return db


@pytest.fixture
def scans(monkeypatch):
    calls = []
    original = SearchRepository.null_patterns
    monkeypatch.setattr(SearchRepository, "null_patterns",
                        lambda self, b: calls.append(b) or original(self, b))  # fmt: skip
    service._null_patterns.clear()
    return calls


COLUMN_SETS = [["energy"], ["tempo"], ["genre"], ["energy", "tempo"], ["genre", "tempo"],
               ["energy", "genre", "tempo"], ["popularity", "energy"]]  # fmt: skip


def test_the_patterns_give_what_counting_gives_for_every_set_of_columns(catalog, scans):
    with catalog.connect() as conn:
        for columns in COLUMN_SETS:
            expected = SearchRepository(conn).count_missing(SMALL.hash, columns)
            assert missing_values(catalog, conn, SMALL.hash, columns) == expected, columns
        assert missing_values(catalog, conn, SMALL.hash, ["energy", "tempo"]) == (
            4, {"energy": 3, "tempo": 3})  # fmt: skip
        assert missing_values(catalog, conn, SMALL.hash, []) == (0, {})
    assert len(scans) == 1  # one scan served every set


def test_the_patterns_are_scanned_again_only_after_a_committed_write_of_the_vectors(catalog, scans):
    with catalog.connect() as conn:
        assert missing_values(catalog, conn, SMALL.hash, ["energy"])[0] == 3
        assert missing_values(catalog, conn, SMALL.hash, ["energy"])[0] == 3
    assert len(scans) == 1

    with catalog.connect() as conn:  # a write of tracks alone changes no vector row
        conn.execute("UPDATE tracks SET energy = 0.5 WHERE track_id = 'c'")
    with catalog.connect() as conn:
        assert missing_values(catalog, conn, SMALL.hash, ["energy"])[0] == 3
    assert len(scans) == 1

    with catalog.connect() as conn:  # search_index copies the filter columns: a vector write
        EmbeddingRepository(conn).sync_filter_columns(SMALL.hash)
    with catalog.connect() as conn:
        assert missing_values(catalog, conn, SMALL.hash, ["energy"]) == (2, {"energy": 2})
    assert len(scans) == 2

    with pytest.raises(RuntimeError), catalog.connect() as conn:  # rolled back: nothing changed
        conn.execute("UPDATE track_embeddings SET energy = 0.3 WHERE track_id = 'd'")
        raise RuntimeError("abort")
    with catalog.connect() as conn:
        assert missing_values(catalog, conn, SMALL.hash, ["energy"]) == (2, {"energy": 2})
    assert len(scans) == 2

    with catalog.connect() as conn:  # a deleted track takes its vector with it
        conn.execute("DELETE FROM tracks WHERE track_id = 'f'")
    with catalog.connect() as conn:
        assert missing_values(catalog, conn, SMALL.hash, ["energy"]) == (1, {"energy": 1})
    assert len(scans) == 3


def test_search_reports_the_tracks_a_filter_could_not_consider(catalog, scans):
    result = search(catalog, SMALL, embedder=None, query="", where="energy>0.5", understand=False)
    assert {h.track_id for h in result.hits} == {"a", "b"}
    assert (result.without_values, result.without_by_column) == (3, {"energy": 3})
    again = search(catalog, SMALL, embedder=None, query="", where="tempo>100 and energy>0.5",
                   understand=False)  # fmt: skip
    assert (again.without_values, again.without_by_column) == (4, {"energy": 3, "tempo": 3})
    assert len(scans) == 1


def test_missing_counts_from_patterns():
    patterns = [((), 10), (("energy", "tempo"), 4), (("genre",), 3), (("energy",), 1)]
    assert missing_counts(patterns, ["energy"]) == (5, {"energy": 5})
    assert missing_counts(patterns, ["genre", "tempo"]) == (7, {"genre": 3, "tempo": 4})
    assert missing_counts(patterns, ["popularity"]) == (0, {"popularity": 0})


def test_the_embedded_count_comes_from_the_patterns(catalog, scans, monkeypatch):
    from spotify_assets.lib.search.service import embedded_count

    with catalog.connect() as conn:
        assert embedded_count(catalog, conn, SMALL.hash) == SearchRepository(conn).count_matching(
            SMALL.hash, []) == 6  # fmt: skip
        counted = []
        original = SearchRepository.count_matching
        monkeypatch.setattr(SearchRepository, "count_matching",
                            lambda self, *a: counted.append(a) or original(self, *a))  # fmt: skip
        from spotify_assets.lib.search.explain import explain_fewer

        line = explain_fewer(conn, SMALL.hash, [], 2, 10, embedded_count(catalog, conn, SMALL.hash))
        assert line == "6 tracks are embedded, but versions of the same songs were merged into one line each"
        assert not counted and len(scans) == 1
