import os
import re
import subprocess
import sys


def test_demo_runs_end_to_end_on_the_embedded_database(tmp_path):
    env = {**os.environ, "SPOTIFY_ASSETS_HOME": str(tmp_path / "home")}
    env.pop("DATABASE_URL", None)
    env.pop("DAGSTER_HOME", None)
    command = [sys.executable, "-m", "spotify_assets.cli", "demo"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    assert re.search(r"catalog_tracks\s+loaded 5000, unchanged 0", out), out
    assert re.search(r"track_analyses\s+written 5000, unchanged 0", out), out
    assert "tracks 5000, track_analyses 5000" in out
    assert "GENERATED SAMPLE DATA" in out
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert re.search(r"catalog_tracks\s+loaded 0, unchanged 5000", second.stdout)
    assert re.search(r"track_analyses\s+written 0, unchanged 5000", second.stdout)
