"""`spotify-assets search` with hostile arguments, in a subprocess, on a demo-embedded catalog:
exit 2 for a bad input and 1 for no results, each with one line on stderr, never a traceback."""

import os
import re
import subprocess
import sys

import pytest

from spotify_assets.lib.sample import generate_tracks


@pytest.fixture
def cli_env(tmp_path):
    env = {**os.environ, "SPOTIFY_ASSETS_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("DAGSTER_HOME", None)
    return env


def cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "spotify_assets.cli", *args],  # bytes args pass as raw argv
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=600,
    )


def said(run, prefix: str) -> str:
    """The one stderr line starting with `prefix` (log lines may come before it)."""
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, run.stderr
    return lines[0]


REFUSED = [
    (["x", "--where", "tempo='abc'"], "error: tempo is a number; 'abc' is not"),
    (["x", "--where", "genre=5"], "error: genre is text: write genre='5'"),
    (
        ["x", "--limit", "10000000000000000000"],
        "error: --limit must be a whole number from 1 to 500; got '10000000000000000000'",
    ),
    ([b"\xff"], "error: the query is empty after removing 1 invalid UTF-8 byte: "),
    (["x", "--limit", "-1"], "error: --limit must be a whole number from 1 to 500; got '-1'"),
    (["x", "--limit", "0"], "error: --limit must be a whole number from 1 to 500; got '0'"),
    (["x", "--limit", "1.5"], "error: --limit must be a whole number from 1 to 500; got '1.5'"),
    (["   "], "error: the query is empty: "),
    (["x", "--where", "tempo>1 or 1=1"], "error: only `and` joins filters"),
    (["x", "--where", "tempo>>1"], "error: unknown operator '>>'"),
    (["x", "--bundle", "nope"], "error: unknown bundle 'nope'"),
]


@pytest.mark.slow
def test_search_cli_exit_codes_and_one_line_messages(tmp_path, cli_env):
    # refusals come before the database is started: no catalog needed for them
    for args, message in REFUSED:
        run = cli(cli_env, "search", *args)
        assert run.returncode == 2, (args, run.stderr)
        assert run.stderr.startswith(message) and run.stderr.count("\n") == 1, (args, run.stderr)
        assert run.stdout == ""
    assert not (tmp_path / "home" / "pgdata").exists()

    catalog = tmp_path / "small.csv"
    generate_tracks(n_tracks=200, seed=8).to_csv(catalog, index=False)
    demo = cli(cli_env, "demo", "--catalog", str(catalog))
    assert demo.returncode == 0, demo.stderr[-3000:]

    impossible = cli(cli_env, "search", "fast songs", "--where", "tempo>300")
    assert impossible.returncode == 1, impossible.stderr
    assert re.fullmatch(
        r"no results: no track has tempo > 300 \(tempo in this catalog: [\d.]+ to [\d.]+\)",
        said(impossible, "no results:"),
    )
    assert said(impossible, "warning:") == (
        "warning: tempo > 300 is outside the plausible range of tempo (0 to 260 BPM)"
    )
    assert "embedded?" not in impossible.stderr and "no vectors" not in impossible.stderr
    assert impossible.stdout.startswith("query: fast songs\nfilters understood: tempo > 300\n")

    both = cli(cli_env, "search", "songs", "--where", "tempo>150 and tempo<100")
    assert both.returncode == 1
    assert "but tempo > 150 and tempo < 100 together match none" in said(both, "no results:")

    found = cli(cli_env, "search", "🎸 calm\tpiano ✨", "--limit", "3")
    assert found.returncode == 0, found.stderr
    assert "Traceback" not in found.stderr
    assert len(re.findall(r"^\s+\d\. .* score \d\.\d{3} ", found.stdout, re.M)) == 3

    listed = cli(cli_env, "search", "", "--where", "genre='ROCK'", "--limit", "4")
    assert listed.returncode == 0, listed.stderr
    assert len(re.findall(r"^\s+\d\. .*\[rock\] popularity \d+ ", listed.stdout, re.M)) == 4
