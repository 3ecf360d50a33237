"""The search service on a catalog where most songs have no audio features (library tracks):
a feature filter cannot match them, and the output says how many were left out that way."""

import numpy as np
import pandas as pd

from spotify_assets.lib.bundles import EmbeddingSpec, ModelBundle
from spotify_assets.lib.search.service import format_result, search
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository

ENERGY = {"a": 0.9, "b": 0.8, "c": 0.2, "d": None, "e": None, "f": None}


def test_a_feature_filter_says_how_many_songs_it_could_not_consider(db):
    ids = list(ENERGY)
    tracks = pd.DataFrame(
        {"track_id": ids, "name": [f"Song {i}" for i in ids], "energy": list(ENERGY.values()),
         "popularity": [50, 60, 70, None, None, None], "source_format": "synthetic",
         "source_file": "-", "row_hash": ids}
    )  # fmt: skip
    small = ModelBundle("energies", EmbeddingSpec(model="synthetic/energies", dims=4))
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(small)
        repo.upsert(
            small, tracks.assign(content_hash=ids), np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]]
        )

    result = search(db, small, embedder=None, query="", where="energy>0.5", understand=False)
    assert {h.track_id for h in result.hits} == {"a", "b"}
    assert result.without_values == 3
    text = format_result(result)
    assert "not considered: 3 tracks without energy" in text
    # a song's line shows the features it has and invents none
    assert "energy 0.90" in text and "tempo 0" not in text and "valence 0.00" not in text

    everything = search(db, small, embedder=None, query="", where="popularity>0", understand=False)
    assert everything.without_values == 3  # the library songs have no popularity either


class _Fixed:
    """An embedder that gives every query the same vector (the tracks' similarity to it is
    set by their own vectors)."""

    precision = "fp32"

    def __init__(self, vector):
        self.vector = np.asarray(vector, dtype=np.float32)

    def embed(self, texts, kind="document"):
        return np.stack([self.vector for _ in texts])


def _catalog(db, rows, dims=4):
    """Tracks from (track_id, name, artist, tempo, similarity) rows, with vectors whose cosine
    to the query vector e0 is `similarity`."""
    ids = [r[0] for r in rows]
    tracks = pd.DataFrame(
        {"track_id": ids, "name": [r[1] for r in rows], "artists": [[r[2]] for r in rows],
         "tempo": [r[3] for r in rows], "popularity": 50, "source_format": "synthetic",
         "source_file": "-", "row_hash": ids}
    )  # fmt: skip
    vectors = np.array(
        [[s, np.sqrt(1 - s * s), 0, 0] for s in (r[4] for r in rows)], dtype=np.float32
    )
    bundle = ModelBundle("tempos", EmbeddingSpec(model="synthetic/tempos", dims=dims))
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(bundle)
        repo.upsert(bundle, tracks.assign(content_hash=ids), vectors)
    return bundle, _Fixed([1, 0, 0, 0])


SONGS = [  # (id, name, artist, tempo, similarity to the query)
    ("a", "Alpha", "Ann", 90.0, 0.95), ("b", "Bravo", "Bob", 95.0, 0.94),
    ("c", "Charlie", "Cat", 100.0, 0.93), ("d", "Delta", "Dan", 170.0, 0.90),
    ("e", "Echo", "Eve", 165.0, 0.89), ("f", "Foxtrot", "Fay", None, 0.97),
]  # fmt: skip


def test_a_vague_word_reranks_without_removing_and_a_number_filters(db):
    bundle, embedder = _catalog(db, SONGS)
    plain = search(db, bundle, embedder, "songs", limit=6, genres=[])
    assert [h.track_id for h in plain.hits][:4] == ["f", "a", "b", "c"]  # similarity only
    fast = search(db, bundle, embedder, "fast songs", limit=6, genres=[])
    assert len(fast.hits) == len(plain.hits) == 6  # nothing removed, "f" (no tempo) included
    ranked = [h.track_id for h in fast.hits]
    assert ranked[:2] == ["d", "e"]  # the fast ones move up
    assert ranked.index("f") > ranked.index("e")  # without a tempo: kept, not preferred
    text = format_result(fast)
    assert "preferences (re-rank, remove nothing): prefer faster tempo" in text
    assert "“fast” → soft: prefer faster tempo" in text

    over = search(db, bundle, embedder, "songs over 140 bpm", limit=6, genres=[])
    assert {h.track_id for h in over.hits} == {"d", "e"}
    assert over.why_fewer == "only 2 tracks pass every filter (tempo > 140 (from “over 140 bpm”))"
    assert "fewer than 6: only 2 tracks pass every filter" in format_result(over)

    off = search(db, bundle, embedder, "fast songs", limit=6, understand=False, genres=[])
    assert [h.track_id for h in off.hits] == [h.track_id for h in plain.hits]


def test_on_a_large_catalog_the_preference_side_reads_each_columns_extremes(db):
    """Beyond the scan threshold the preferred candidates come from the column's index (its
    most extreme rows), not from scoring every row: the fast songs still rise, from a pool that
    holds only the fastest tracks."""
    from spotify_assets.lib.search.engine import preferred_search
    from spotify_assets.lib.search.understand import understand_query
    from spotify_assets.lib.store.search import SearchRepository, where_sql

    bundle, embedder = _catalog(db, SONGS)
    [prefer] = understand_query("fast songs").preferences
    vector = embedder.embed(["fast songs"])[0]
    with db.connect() as conn:
        where, params = where_sql([])
        extremes = SearchRepository(conn).most_extreme(bundle.hash, where, params, [prefer], 2)
        assert {r[0] for r in extremes} == {"d", "e"}  # the two fastest; "f" has no tempo
        scanned, _ = preferred_search(conn, bundle.hash, 4, vector, [], [prefer], 6)
        indexed, plan = preferred_search(
            conn, bundle.hash, 4, vector, [], [prefer], 6, pool=2, scan_threshold=0
        )
    assert [h.track_id for h in indexed][:2] == ["d", "e"]
    assert [h.track_id for h in indexed] == [h.track_id for h in scanned]
    assert plan.strategy.endswith("preference re-rank")


def test_versions_of_one_song_are_shown_once(db):
    rows = [
        ("v1", "Yesterday - Remastered 2009", "The Beatles", 97.0, 0.99),
        ("v2", "Yesterday (Live)", "The Beatles", 97.0, 0.98),
        ("v3", "Yesterday", "The Beatles feat. Someone", 97.0, 0.97),
        ("o1", "Yesterday", "Other Band", 97.0, 0.96),  # another artist's song: kept
        ("o2", "Tomorrow", "The Beatles", 97.0, 0.95),
        ("o3", "Today", "The Beatles", 97.0, 0.94),
    ]
    bundle, embedder = _catalog(db, rows)
    result = search(db, bundle, embedder, "songs", limit=3, genres=[])
    assert [h.track_id for h in result.hits] == ["v1", "o1", "o2"]  # the page is still full
    assert [h.rank for h in result.hits] == [1, 2, 3]
    assert result.hits[0].details["also_as"] == ["Yesterday (Live)", "Yesterday"]
    assert "also as: Yesterday (Live); Yesterday" in format_result(result)
    everything = search(db, bundle, embedder, "songs", limit=10, genres=[])
    assert len(everything.hits) == 4
    assert everything.why_fewer == (
        "6 tracks are embedded, but versions of the same songs were merged into one line each"
    )


def test_an_explicit_where_overrides_the_same_column_understood_from_words(db):
    bundle, embedder = _catalog(db, SONGS)
    result = search(db, bundle, embedder, "songs over 140 bpm", where="tempo<96", genres=[])
    assert [f.describe() for f in result.filters] == ["tempo < 96"]
    assert {h.track_id for h in result.hits} == {"a", "b"}
    assert dict(result.terms)["over 140 bpm"] == (
        "hard filter tempo > 140 (not applied: --where filters that column)"
    )


def test_a_decade_on_a_catalog_without_years_is_dropped_with_a_note_not_an_empty_page(db):
    bundle, embedder = _catalog(db, SONGS)  # tempo, no release years
    result = search(db, bundle, embedder, "80s songs", limit=6, genres=[])
    assert len(result.hits) == 6  # the decade could only have emptied the page
    assert result.filters == [] and result.why_empty is None
    [note] = result.notes  # the CLI prints notes as warnings
    assert note.startswith("not applied: release_year") and "no track in this catalog" in note
    assert "(not applied: no track here has release_year)" in dict(result.terms)["80s"]
    # a filter on a column the catalog has still filters, and one asked for by name stays
    both = search(db, bundle, embedder, "80s songs over 140 bpm", limit=6, genres=[])
    assert {h.track_id for h in both.hits} == {"d", "e"}
    asked = search(db, bundle, embedder, "songs", where="release_year>1980", genres=[])
    assert asked.hits == [] and "no track in this catalog has a release_year value" in (
        asked.why_empty
    )
    assert "search_index" not in asked.why_empty  # not the cause: no track has a year at all


def test_tracks_left_out_by_filters_are_named_by_the_column_they_lack(db):
    bundle, embedder = _catalog(db, SONGS)  # every song has a popularity, "f" has no tempo
    result = search(db, bundle, embedder, "songs", where="tempo > 0 and popularity > 0", genres=[])
    assert (result.without_values, result.without_by_column) == (1, {"popularity": 0, "tempo": 1})
    assert "not considered: 1 tracks without tempo (" in format_result(result)
