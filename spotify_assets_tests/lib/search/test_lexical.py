"""Search's lexical leg: name words folded one way, typos corrected to known words, "by
<artist>", and fusion with the vector ranking weighed by how much the query is a name."""

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.bundles import EmbeddingSpec, ModelBundle
from spotify_assets.lib.search.lexical import (
    NAME_BOOST,
    NameRequest,
    artist_songs,
    fuse,
    name_query,
    name_weight,
    refresh_track_search,
    track_words,
    typo_variants,
    with_corrections,
)
from spotify_assets.lib.search.service import format_result, search
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.search import SearchRepository


def test_name_words_keep_symbols_and_fold_accents():
    words = track_words("Carnival", ["¥$", "Kanye West"], "VULTURES 1")
    assert words.name == ["carnival"] and words.artists == ["¥$", "kanye", "west"]
    assert words.album == ["vultures", "1"]
    assert track_words("Mi Vida Entera", ["Morat"], None).album == []
    assert track_words("Déjà Vu", ["Beyoncé"], "B'Day").all == ["deja", "vu", "beyonce", "bday"]


def test_typos_are_corrected_to_known_words_one_edit_away():
    assert "beyonce" in typo_variants("beyonse")  # replaced
    assert "rhapsody" in typo_variants("rhapsdy")  # inserted
    assert "queen" in typo_variants("queeen")  # deleted
    assert "bohemian" in typo_variants("bohemain")  # swapped
    assert typo_variants("abc") == set()  # too short to guess
    known = {"bohemian", "rhapsody"}
    assert with_corrections([["bohemain"], ["rhapsody"]], known) == [
        ["bohemain", "bohemian"], ["rhapsody"]
    ]  # fmt: skip


def test_a_query_splits_into_name_words_an_artist_and_what_was_understood():
    q = name_query("sad songs by ¥$", understood=["sad"])
    assert q.groups == [] and q.artist == [["¥$"]] and q.artist_text == "¥$"
    plain = name_query("Bohemian Rhapsody")
    assert plain.groups == [["bohemian"], ["rhapsody"]] and plain.plain
    asking = name_query("music for studying")
    assert asking.groups == [["studying"]] and not asking.plain
    described = name_query("songs like a rainy sunday")
    assert described.describing and name_weight(described, 1.0) == 0
    assert name_weight(plain, 1.0) == NAME_BOOST and name_weight(plain, 0.5) == 0.5
    assert name_weight(asking, 1.0) == 1.0 and name_weight(asking, 0.5) == 0


def test_fusion_lets_whole_name_matches_lead_and_keeps_the_vector_order_otherwise():
    semantic = ["a", "b", "c"]
    assert [t for t, _ in fuse(semantic, [("z", 1.0)], 0)] == semantic
    assert fuse(semantic, [("z", 1.0)], NAME_BOOST)[0][0] == "z"
    half = [t for t, _ in fuse(semantic, [("z", 0.5)], 0.25)]
    assert half.index("z") > half.index("a")  # a partial match weighed low does not lead


class _Fixed:
    precision = "fp32"

    def __init__(self, vector):
        self.vector = np.asarray(vector, dtype=np.float32)

    def embed(self, texts, kind="document"):
        return np.stack([self.vector for _ in texts])


SONGS = [  # (id, name, artists, album, similarity of its vector to every query)
    ("s1", "Stairway", ["Band A"], "Four", 0.99),
    ("s2", "Rainy Night", ["Band B"], "Weather", 0.98),
    ("s3", "Summer", ["Band C"], "Seasons", 0.97),
    ("q1", "Bohemian Rhapsody", ["Queen"], "A Night at the Opera", 0.50),
    ("y1", "Carnival", ["¥$", "Kanye West"], "VULTURES 1", 0.40),
    ("y2", "Talking", ["¥$"], "VULTURES 2", 0.45),
    ("m1", "Mi Vida Entera", ["Morat"], "Balas Perdidas", 0.30),
    ("r1", "Rainy Sunday", ["Band D"], "Weekend", 0.20),
    ("p1", "Rich & Sad", ["Post Malone"], "Beerbongs & Bentleys", 0.10),
    ("l1", "Loud Rock Anthem", ["Band E"], "Noise", 0.05),
]


@pytest.fixture
def catalog(db):
    ids = [s[0] for s in SONGS]
    tracks = pd.DataFrame(
        {"track_id": ids, "name": [s[1] for s in SONGS], "artists": [s[2] for s in SONGS],
         "album_name": [s[3] for s in SONGS], "popularity": 50, "source_format": "synthetic",
         "source_file": "-", "row_hash": ids}
    )  # fmt: skip
    vectors = np.array([[s, np.sqrt(1 - s * s), 0, 0] for *_, s in SONGS], dtype=np.float32)
    bundle = ModelBundle("names", EmbeddingSpec(model="synthetic/names", dims=4))
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(bundle)
        repo.upsert(bundle, tracks.assign(content_hash=ids), vectors)
    assert refresh_track_search(db) == len(SONGS)
    assert refresh_track_search(db) == 0  # in step: nothing to rebuild
    return bundle, _Fixed([1, 0, 0, 0])


def _ids(result) -> list[str]:
    return [h.track_id for h in result.hits]


def test_a_title_typed_whole_or_with_a_typo_comes_first(db, catalog):
    bundle, embedder = catalog
    assert _ids(search(db, bundle, embedder, "bohemian rhapsody", genres=[]))[0] == "q1"
    typo = search(db, bundle, embedder, "bohemain rhapsody", genres=[])
    assert _ids(typo)[0] == "q1"
    assert "read as: bohemain → bohemian" in dict(typo.terms)["bohemain rhapsody"]
    assert "name match (100% of the words)" in format_result(typo)
    assert _ids(search(db, bundle, embedder, "Mi vida entera", genres=[]))[0] == "m1"
    assert _ids(search(db, bundle, embedder, "balas perdidas", genres=[]))[0] == "m1"  # album


def test_a_title_whose_words_were_also_understood_is_still_found_by_name(db, catalog):
    bundle, embedder = catalog
    result = search(db, bundle, embedder, "Rich & Sad", genres=[])
    assert result.preferences  # "sad" is also a wish for sadder songs ...
    assert _ids(result)[0] == "p1"  # ... yet the song named so comes first
    assert "also read as a name" in dict(result.terms)["rich sad"]
    assert _ids(search(db, bundle, embedder, "sad songs", genres=[]))[0] != "p1"  # a request
    # words of a mood query inside a longer title name no song: "loud rock" is not a title
    assert "l1" not in _ids(search(db, bundle, embedder, "loud rock", limit=5, genres=[]))


def test_by_an_artist_keeps_only_their_songs_ranked_by_meaning(db, catalog):
    bundle, embedder = catalog
    result = search(db, bundle, embedder, "songs by ¥$", genres=[])
    assert _ids(result) == ["y2", "y1"]  # theirs only, the closer vector first
    assert result.plan.strategy.startswith("artist (2 songs)")
    assert _ids(search(db, bundle, embedder, "songs by queeen", genres=[])) == ["q1"]
    nobody = search(db, bundle, embedder, "songs by nobody known", genres=[])
    assert any("no artist here is named" in n for n in nobody.notes)
    assert len(nobody.hits) == len(SONGS)  # the page is not emptied


def test_the_artist_page_is_made_before_any_vector_search(db, catalog):
    """`search` asks `artist_songs` first and, when the artist is here, serves its page as
    is (no nearest-track search); an artist no track has, or none under the filters, is None:
    the vector search and the name words then make the page."""
    bundle, embedder = catalog
    vector = embedder.embed(["songs by ¥$"], "query")[0]
    dims = bundle.embedding.dims
    with db.connect() as conn:

        def page_for(query: str):
            request = NameRequest(bundle.hash, dims, vector, [], [], name_query(query), 10)
            return artist_songs(conn, request)

        page, nobody, plain = (page_for(q) for q in ("songs by ¥$", "songs by nobody known", "¥$"))
    assert page is not None and [h.track_id for h in page.hits] == ["y2", "y1"]
    assert page.hits[0].score >= page.hits[1].score  # the vector's order
    with db.connect() as conn:  # the similarity read with the names is the stored vector's
        rows = SearchRepository(conn).scored(bundle.hash, dims, vector, ["y1", "y2"], [])
    assert {h.track_id: round(h.score, 5) for h in page.hits} == {
        t: round(1.0 - d, 5) for t, d, _ in rows
    }
    assert all(h.details.get("name") and h.details["name_match"] == "artist" for h in page.hits)
    assert nobody is None and plain is None  # not an artist, or no "by"
    served = search(db, bundle, embedder, "songs by ¥$", genres=[])
    assert [(h.track_id, round(h.score, 6)) for h in served.hits] == [
        (h.track_id, round(h.score, 6)) for h in page.hits
    ]
    assert served.plan.strategy == page.strategy and served.plan.filtered_rows is None


def test_a_request_looks_for_an_artist_not_for_title_words(db, catalog):
    bundle, embedder = catalog
    plain = search(db, bundle, embedder, "songs", limit=9, genres=[])
    rainy = search(db, bundle, embedder, "rainy songs", limit=9, genres=[])
    assert _ids(rainy) == _ids(plain)  # a title word in a request is chance
    assert _ids(search(db, bundle, embedder, "morat songs", genres=[]))[0] == "m1"


def test_a_description_is_left_to_the_vectors(db, catalog):
    bundle, embedder = catalog
    plain = search(db, bundle, embedder, "songs", limit=8, genres=[])
    described = search(db, bundle, embedder, "songs like a rainy sunday", limit=8, genres=[])
    assert _ids(described) == _ids(plain)  # "Rainy Sunday" is not pulled up by its title
    off = search(db, bundle, embedder, "bohemian rhapsody", understand=False, genres=[])
    assert _ids(off)[0] == "s1"  # --no-understand: the vectors alone


def test_a_renamed_track_gets_its_new_words(db, catalog):
    bundle, embedder = catalog
    with db.connect() as conn:
        conn.execute("UPDATE tracks SET name = 'Galileo Figaro' WHERE track_id = 'q1'")
    assert refresh_track_search(db) == 1
    assert _ids(search(db, bundle, embedder, "galileo figaro", genres=[]))[0] == "q1"


def test_common_words_do_not_choose_the_rows_read_when_a_rarer_word_is_asked(db, catalog):
    """"night" in three names here, "rainy" in two: with "night" common, "rainy night" reads
    only the tracks holding "rainy" and scores them on both words; with every word common
    only the tracks holding two of them are; "by <artist>" (every word required) is the
    same."""
    from spotify_assets.lib.search.lexical import common_words
    from spotify_assets.lib.store.search import where_sql
    from spotify_assets.lib.store.track_search import TrackSearchRepository

    bundle, _ = catalog
    where, params = where_sql([])
    with db.connect() as conn:
        names = TrackSearchRepository(conn)
        groups = [["rainy"], ["night"]]
        every = names.matches(bundle.hash, groups, where, params, 50)
        assert {t for t, *_ in every} == {"s2", "r1", "q1"}  # q1 holds "night" (its album)
        rare = names.matches(bundle.hash, groups, where, params, 50, common=frozenset(["night"]))
        assert rare == [r for r in every if r[0] != "q1"]  # same scores, same order
        both = frozenset(["night", "rainy"])
        two = [r for r in every if r[1] == 2]
        assert two and len(two) < len(every)
        assert names.matches(bundle.hash, groups, where, params, 50, common=both) == two
        alone = [["night"]]  # one group: no pair to ask for, every holder read
        assert names.matches(bundle.hash, alone, where, params, 50, common=both) == (
            names.matches(bundle.hash, alone, where, params, 50))
        artist = [["band"], ["d"]]
        assert names.matches(bundle.hash, artist, where, params, 50, "artist_words",
                             common=frozenset(["band"])) == names.matches(
            bundle.hash, artist, where, params, 50, "artist_words")  # fmt: skip
        conn.execute("ANALYZE track_search")
        stats = names.word_rows()
        assert stats and all(n > 0 for n in stats.values())
        assert common_words(conn) == frozenset()  # ten tracks: no word is held by 1,000
