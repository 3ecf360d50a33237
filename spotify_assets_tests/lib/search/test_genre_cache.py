"""Search's known genres are cached per process and rescanned only after a catalog write."""

import pandas as pd
import pytest

from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.search import service
from spotify_assets.lib.store.tracks import TrackRepository


def write_catalog(path, genres: dict[str, str]):
    frame = pd.DataFrame(
        {"track_id": list(genres), "track_name": [f"Song {i}" for i in genres],
         "artists": "Someone", "track_genre": list(genres.values())}
    )  # fmt: skip
    for column in AUDIO_FEATURES:
        frame[column] = 0.5 if column not in ("key", "mode", "tempo", "loudness") else 1
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def scans(monkeypatch):
    calls = []
    original = TrackRepository.genres
    monkeypatch.setattr(TrackRepository, "genres", lambda self: calls.append(1) or original(self))
    return calls


def test_genres_are_reused_until_the_catalog_changes(db, tmp_path, scans):
    load_catalog(db, write_catalog(tmp_path / "a.csv", {"t1": "pop", "t2": "rock;indie"}))
    assert sorted(service.known_genres(db)) == ["indie", "pop", "rock"]
    assert sorted(service.known_genres(db)) == ["indie", "pop", "rock"]
    assert len(scans) == 1  # the second call checked the version only

    load_catalog(db, write_catalog(tmp_path / "b.csv", {"t3": "polka"}))
    assert sorted(service.known_genres(db)) == ["indie", "polka", "pop", "rock"]
    assert len(scans) == 2

    with db.connect() as conn:  # any committed write of tracks counts, not only the loader
        conn.execute("UPDATE tracks SET genre = 'bossa nova' WHERE track_id = 't3'")
    assert "bossa nova" in service.known_genres(db) and "polka" not in service.known_genres(db)

    with pytest.raises(RuntimeError), db.connect() as conn:  # a rolled-back write does not
        conn.execute("UPDATE tracks SET genre = 'zydeco' WHERE track_id = 't3'")
        raise RuntimeError("abort")
    before = len(scans)
    assert "zydeco" not in service.known_genres(db)
    assert len(scans) == before
