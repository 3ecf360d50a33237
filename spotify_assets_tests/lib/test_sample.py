import json

import pandas as pd

from spotify_assets.lib.sample import GENRES, LABEL, ensure_sample, write_sample


def test_generator_is_deterministic(tmp_path):
    a = write_sample(tmp_path / "a", n_tracks=600, seed=3)
    b = write_sample(tmp_path / "b", n_tracks=600, seed=3)
    for name in ("tracks.csv", "playlists.json", "history/Streaming_History_Audio_2026.json"):
        assert (a.root / name).read_bytes() == (b.root / name).read_bytes()
    c = write_sample(tmp_path / "c", n_tracks=600, seed=4)
    assert c.tracks_csv.read_bytes() != a.tracks_csv.read_bytes()


def test_default_world_is_realistic_and_labelled(tmp_path):
    world = ensure_sample(tmp_path)
    assert LABEL in (world.root / "README.txt").read_text()
    tracks = pd.read_csv(world.tracks_csv)
    assert len(tracks) == 5000 and tracks.track_id.is_unique
    assert tracks.genre.nunique() == len(GENRES) == 20
    means = tracks.groupby("genre")[["energy", "acousticness", "speechiness"]].mean()
    assert means.loc["classical", "acousticness"] > 0.75 > means.loc["metal", "acousticness"]
    assert means.loc["metal", "energy"] > 0.75 > 0.3 > means.loc["ambient", "energy"]
    assert means.loc["hip hop", "speechiness"] > 2 * means.loc["folk", "speechiness"]

    payload = json.loads(world.playlists_json.read_text())
    assert payload["_label"] == LABEL
    playlists = payload["playlists"]
    assert len(playlists) == 25
    known = set(tracks.track_id)
    assert all(p["tracks"] and set(p["tracks"]) <= known for p in playlists)

    plays = json.loads((world.history_dir / "Streaming_History_Audio_2026.json").read_text())
    ts = pd.to_datetime([p["ts"] for p in plays])
    assert 80 <= (ts.max() - ts.min()).days <= 92 and len(plays) > 2000
    songs = [p for p in plays if p["spotify_track_uri"]]
    assert {p["spotify_track_uri"].split(":")[-1] for p in songs} <= known
    assert any(p["spotify_episode_uri"] for p in plays), "podcasts exist to be excluded later"
    skipped = sum(p["ms_played"] < 30_000 for p in songs) / len(songs)
    assert 0.05 < skipped < 0.25
    assert ensure_sample(tmp_path).root == world.root  # generated once, then reused
