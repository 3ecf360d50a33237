"""Two people's runs at once on one database (real Postgres, the real MiniLM embedder).

The daemon starts up to four runs together, and `many_people.py`'s two build processes did:
one person's embedding run failed on a foreign key when another person's import moved a
`lib:` track it was embedding to the song's Spotify id meanwhile.
"""

from __future__ import annotations

import functools
import json

import pytest

from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog.known import known_in
from spotify_assets.lib.catalog.library import library_track_id
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.playlists.ingest import store_playlists
from spotify_assets.lib.playlists.sources import export_playlists
from spotify_assets.lib.store.embeddings import EmbeddingRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import TrackRepository

BUNDLE = load_bundles().default_bundle
URI = "4uLU6hMCjMI75M1A2tKUQC"
quiet = lambda _: None  # noqa: E731


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(BUNDLE.embedding, "cpu", "fp32")


def _import_playlist(db, folder, person: str, items: list[dict]) -> None:
    folder.mkdir()
    (folder / "Playlist1.json").write_text(json.dumps({"playlists": [
        {"name": f"{person}'s", "items": [{"track": t} for t in items]}]}))  # fmt: skip
    with db.connect() as conn:
        aliases = TrackRepository(conn).aliases()
    store_playlists(
        db,
        export_playlists(folder, functools.partial(known_in, db), person, aliases),
        person,
        "export",
    )


class ImportMeanwhile:
    """The real embedder; while it embeds its first batch, another person's import runs."""

    def __init__(self, inner, other_import):
        self.inner, self.other_import, self.precision = inner, other_import, inner.precision

    def embed(self, texts, kind="document"):
        if self.other_import is not None:
            self.other_import()
            self.other_import = None
        return self.inner.embed(texts, kind)


def test_an_embedding_run_skips_a_track_another_import_moved_meanwhile(db, tmp_path, embedder):
    song = {"trackName": "Quiet Song", "artistName": "Band", "albumName": "LP"}
    other = {"trackName": "Other Song", "artistName": "Band", "albumName": "LP"}
    _import_playlist(db, tmp_path / "ben", "ben", [song, other])  # no URIs: `lib:` tracks
    moved = library_track_id("Band", "Quiet Song")
    update_track_analyses(db, progress=quiet)

    def ana_imports_the_song_with_its_uri() -> None:
        _import_playlist(
            db, tmp_path / "ana", "ana", [{**song, "trackUri": f"spotify:track:{URI}"}]
        )

    first = update_track_embeddings(
        db, BUNDLE, ImportMeanwhile(embedder, ana_imports_the_song_with_its_uri), progress=quiet
    )
    assert (first.embedded, first.gone) == (2, 1)  # the moved track's vector is not kept
    with db.connect() as conn:
        vectors = set(EmbeddingRepository(conn).content_hashes(BUNDLE.hash))
        assert vectors == {library_track_id("Band", "Other Song")}
        assert TrackRepository(conn).sources([moved, URI]) == {URI: "library"}
        _, members = PlaylistRepository(conn).frames("ben")
        assert URI in set(members["track_id"]) and moved not in set(members["track_id"])
    # the next run describes and embeds the song under its Spotify id: nothing is missing
    update_track_analyses(db, progress=quiet)
    again = update_track_embeddings(db, BUNDLE, embedder, progress=quiet)
    assert again.embedded == 1
    with db.connect() as conn:
        assert URI in EmbeddingRepository(conn).content_hashes(BUNDLE.hash)
