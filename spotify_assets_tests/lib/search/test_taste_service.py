"""The taste search on the real Postgres with the real MiniLM model: a small catalog, a
person's liked songs (one a library song without features), "rock songs I like"."""

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.search.taste import TasteConfig
from spotify_assets.lib.search.taste_service import (
    ReferenceUnavailable,
    format_taste,
    taste_search,
)
from spotify_assets.lib.store.bulk import copy_frame
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.people import PersonRepository

BUNDLE = load_bundles().default_bundle
# (id, name, artist, genre or None for a library song, description the model reads)
SONGS = [
    ("r1", "Northern Lights", "Amber Vale", "rock", "Northern Lights by Amber Vale (genre: rock). Driving guitars."),
    ("r2", "Iron Horse", "The Gravel Kings", "rock", "Iron Horse by The Gravel Kings (genre: rock). Heavy riffs."),
    ("r3", "Stone Cold", "Rust Republic", "rock", "Stone Cold by Rust Republic (genre: rock). Loud drums."),
    ("r4", "Lantern Coast", "Amber Vale", "rock", "Lantern Coast by Amber Vale (genre: rock). Guitars."),
    ("p1", "Sugar Rush", "Amber Vale", "pop", "Sugar Rush by Amber Vale (genre: pop). Bright synths."),
    ("p2", "Neon Kiss", "Glitter Coast", "pop", "Neon Kiss by Glitter Coast (genre: pop). Dance pop."),
    ("lib:glass", "Glass Harbor", "Amber Vale", None, "Glass Harbor by Amber Vale (album: Tides)."),
]  # fmt: skip
LIKED = ["lib:glass", "r4"]


@pytest.fixture(scope="module")
def minilm():
    return load_embedder(BUNDLE.embedding, "cpu", "fp32")


@pytest.fixture
def library_db(db, minilm):
    tracks = pd.DataFrame(
        {"track_id": [s[0] for s in SONGS], "name": [s[1] for s in SONGS],
         "artists": [[s[2]] for s in SONGS], "genre": [s[3] for s in SONGS],
         "popularity": [60, 60, 60, 50, 70, 95, None],
         "source_format": ["test" if s[3] else "library" for s in SONGS],
         "source_file": "-", "row_hash": [s[0] for s in SONGS]}
    )  # fmt: skip
    vectors = minilm.embed([s[4] for s in SONGS], "document")
    with db.connect() as conn:
        copy_frame(conn, "tracks", tracks)
        repo = EmbeddingRepository(conn)
        repo.register_bundle(BUNDLE)
        repo.upsert(BUNDLE, tracks.assign(content_hash=tracks["track_id"]), vectors)
        PersonRepository(conn).ensure("u")
        CandidateRepository(conn).replace("u", "liked", LIKED)
        conn.commit()
    return db, dict(zip(tracks["track_id"], vectors, strict=True))


def test_results_are_of_the_style_leave_out_your_songs_and_the_nearest_ranks_first(
    library_db, minilm
):
    db, vectors = library_db
    genres = ["rock", "pop"]
    result = taste_search(db, BUNDLE, minilm, "rock songs I like", "u", genres=genres,
                          config=TasteConfig(k=1, profile_weight=1.0))  # fmt: skip
    ids = [h.hit.track_id for h in result.hits]
    assert ids and all(h.hit.details["genre"] == "rock" for h in result.hits)
    assert not set(ids) & set(LIKED)
    assert (result.references, result.embedded, result.candidates) == (2, 2, 3)
    # first: the rock candidate with the highest cosine to one of the liked songs
    references = np.stack([vectors[t] for t in LIKED])
    nearest = max(("r1", "r2", "r3"), key=lambda t: float((references @ vectors[t]).max()))
    assert ids[0] == nearest == "r1"
    text = format_taste(result)
    closest = LIKED[int(np.argmax(references @ vectors["r1"]))]
    name = {s[0]: s[1] for s in SONGS}[closest]
    assert f"closest to your liked song '{name}' by Amber Vale" in text.splitlines()[4]
    assert "genre = 'rock'" in text
    # the default blend (style and popularity too): among equally popular rock songs, the
    # liked artist's comes first
    blended = taste_search(db, BUNDLE, minilm, "rock songs I like", "u", genres=genres)
    assert blended.hits[0].hit.track_id == "r1"


def test_a_missing_reference_set_says_what_is_missing(library_db, minilm):
    db, _ = library_db
    with pytest.raises(ReferenceUnavailable, match="nothing is stored for person 'nobody'"):
        taste_search(db, BUNDLE, minilm, "rock songs I like", "nobody", genres=["rock"])
    with db.connect() as conn:
        PersonRepository(conn).ensure("v")
        CandidateRepository(conn).replace("v", "recent", ["r1"])
        conn.commit()
    with pytest.raises(ReferenceUnavailable, match=r"no liked songs stored for v: .*YourLibrary"):
        taste_search(db, BUNDLE, minilm, "rock songs I like", "v", genres=["rock"])
    with pytest.raises(ReferenceUnavailable, match="no plays joined to songs for u"):
        taste_search(db, BUNDLE, minilm, "rock from my most played", "u", genres=["rock"])
    with pytest.raises(ReferenceUnavailable, match="u has no playlist named 'Gym'"):
        taste_search(db, BUNDLE, minilm, "rock from my playlist Gym", "u", genres=["rock"])


def test_a_reference_set_is_read_again_only_after_the_library_or_vectors_change(library_db, minilm):
    from spotify_assets.lib.search import taste_service

    db, vectors = library_db
    taste_service._reference_sets.clear()
    taste_service._profiles.clear()
    sets, profiles = taste_service._reference_sets.computed, taste_service._profiles.computed
    search = lambda: taste_search(db, BUNDLE, minilm, "rock songs I like", "u",  # noqa: E731
                                  genres=["rock", "pop"])  # fmt: skip
    first = search()
    assert search().hits[0].hit.track_id == first.hits[0].hit.track_id
    assert taste_service._reference_sets.computed == sets + 1
    assert taste_service._profiles.computed == profiles + 1

    with db.connect() as conn:  # a new liked song: the reference set and its profile change
        CandidateRepository(conn).replace("u", "liked", [*LIKED, "r1"])
    changed = search()
    assert (changed.references, changed.embedded) == (3, 3)
    assert "r1" not in {h.hit.track_id for h in changed.hits}  # now one of their own songs
    assert taste_service._reference_sets.computed == sets + 2
    assert taste_service._profiles.computed == profiles + 2

    with db.connect() as conn:  # a vector written again (a re-embedded song): profile re-read
        EmbeddingRepository(conn).upsert(
            BUNDLE, pd.DataFrame({"track_id": ["r4"], "content_hash": ["r4-v2"]}),
            vectors["r4"][None, :],
        )  # fmt: skip
    search()
    assert taste_service._reference_sets.computed == sets + 2
    assert taste_service._profiles.computed == profiles + 3


def test_a_playlist_named_with_double_blanks_is_found(library_db, minilm):
    """A query's blanks are collapsed (normalize_query), so a name's are too."""
    db, _ = library_db
    with db.connect() as conn:
        conn.execute("INSERT INTO playlists (playlist_id, name, source, person) "
                     "VALUES ('u1', '2020 Hits  &  More', 'export', 'u')")  # fmt: skip
        conn.execute("INSERT INTO playlist_tracks VALUES ('u1', 'r1', 0), ('u1', 'p1', 1)")
    result = taste_search(db, BUNDLE, minilm, "songs from my playlist 2020 hits & more", "u",
                          genres=["rock", "pop"])  # fmt: skip
    assert result.references == 2
    assert not {"r1", "p1"} & {h.hit.track_id for h in result.hits}
