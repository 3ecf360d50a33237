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
