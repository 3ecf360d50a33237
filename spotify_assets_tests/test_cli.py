import contextlib
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
        [sys.executable, "-m", "spotify_assets.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_demo_passes_format_to_the_load_catalog_job():
    """`demo --catalog FILE --format NAME` launches load_catalog with that format, in run
    config the job accepts (checked against its config schema, without running it)."""
    import dagster as dg

    from spotify_assets.cli import build_parser
    from spotify_assets.definitions import defs
    from spotify_assets.defs import run_config

    args = build_parser().parse_args(["demo", "--catalog", "dump.csv", "--format", "spotify_api"])
    config = run_config.catalog(args.catalog, args.format).to_config_dict()
    catalog = config["ops"]["catalog_tracks"]["config"]
    assert (catalog["path"], catalog["format"]) == ("dump.csv", "spotify_api")
    dg.validate_run_config(defs().resolve_job_def("load_catalog"), config)
    assert build_parser().parse_args(["demo"]).format == "auto"


def test_a_renamed_metadata_key_fails_the_step_line_instead_of_printing_none():
    """Commands print typed reports (lib/reports.py): when an asset stops writing a key the
    report needs (`loaded` renamed `rows_loaded`), the command fails naming the asset and the
    key, where a read by string printed `loaded None`."""
    import dagster as dg

    from spotify_assets.cli.reports import step_lines
    from spotify_assets.cli.runtime import JobRun
    from spotify_assets.lib.reports import CatalogReport, ReportError

    report = CatalogReport(loaded=3, unchanged=0, duplicates=0, quarantined=0, coerced=0)

    def run(metadata: dict) -> JobRun:
        @dg.asset(name="catalog_tracks")
        def catalog_tracks() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata=metadata)

        return JobRun("load_catalog", dg.materialize([catalog_tracks]))

    written = report.to_metadata()
    assert step_lines(run(written).reports(["catalog_tracks"])) == [
        "  catalog_tracks    loaded 3, unchanged 0, duplicates 0, quarantined 0"
    ]
    written["rows_loaded"] = written.pop("loaded")
    with pytest.raises(ReportError, match=r"^catalog_tracks did not report 'loaded' .*rows_loaded"):
        step_lines(run(written).reports(["catalog_tracks"]))


@pytest.mark.parametrize("command", [["demo", "--catalog", "x.csv"], ["catalog", __file__]])
def test_an_unknown_format_is_refused_before_any_job_starts(command, capsys):
    from spotify_assets.cli import main

    assert main([*command, "--format", "xml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown catalog format 'xml'; use auto or one of: ")
    assert "spotify_api" in err and err.count("\n") == 1


@pytest.mark.slow
def test_demo_runs_end_to_end_on_the_embedded_database(tmp_path, cli_env):
    catalog = tmp_path / "small.csv"
    generate_tracks(n_tracks=200, seed=8).to_csv(catalog, index=False)
    first = cli(cli_env, "demo", "--catalog", str(catalog))
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    assert re.search(r"catalog_tracks\s+loaded 200, unchanged 0", out), out
    assert re.search(r"track_analyses\s+written 200, unchanged 0", out), out
    assert re.search(r"track_embeddings\s+embedded 200, reused 0", out), out
    assert "tracks 200, track_analyses 200, embeddings[minilm-offline] 200" in out
    assert out.count("query: ") == 3 and len(re.findall(r"^\s+1\. ", out, re.M)) == 3
    assert "preferences (re-rank, remove nothing): prefer lower valence (sadder)" in out
    assert (tmp_path / "home" / "pgdata" / "PG_VERSION").exists()

    second = cli(cli_env, "demo", "--catalog", str(catalog))
    assert second.returncode == 0, second.stderr[-3000:]
    assert re.search(r"catalog_tracks\s+loaded 0, unchanged 200", second.stdout)
    assert re.search(r"track_embeddings\s+embedded 0, reused 200", second.stdout)

    found = cli(cli_env, "search", "calm piano", "--where", "energy<0.5", "--limit", "3")
    assert found.returncode == 0, found.stderr[-3000:]
    assert "filters understood: energy < 0.5" in found.stdout
    assert len(re.findall(r"^\s+\d\. ", found.stdout, re.M)) == 3

    refused = cli(cli_env, "search", "x", "--where", "tempo>1; DROP TABLE tracks")
    assert refused.returncode == 2 and "cannot parse filter" in refused.stderr

    listed = cli(cli_env, "bundles")
    assert re.search(r"minilm-offline .*\[default registered\]", listed.stdout)
    assert re.search(r"e5-large-instruct .*\[not registered\]", listed.stdout)


@pytest.mark.slow
def test_demo_sorts_liked_songs_and_sort_reuses_the_cached_matches(tmp_path, cli_env):
    from spotify_assets.lib.sample import GENERATOR_VERSION, write_sample

    # a small sample world where the demo expects the generated one
    write_sample(tmp_path / "home" / "sample" / f"v{GENERATOR_VERSION}-seed42", n_tracks=400)
    demo = cli(cli_env, "demo")
    assert demo.returncode == 0, demo.stderr[-3000:]
    out = demo.stdout
    assert re.search(r"playlist_profiles recomputed \d+, reused 0", out), out
    assert re.search(r"match_results\s+\d+ songs × \d+ playlists: .*context miss", out), out
    assert re.search(r"match_evaluation\s+NDCG@10 0\.\d+ \(shipped\)", out), out
    # each printed song has numbered playlists with reasons, or says there is no good fit
    assert re.search(r"^\s+1\. .+ score 0\.\d\d\s+confidence 0\.\d\d\s+\S+", out, re.M), out
    # the listening jobs ran on the generated history
    assert re.search(r"listening_history\s+[\d,]+ plays read, [\d,]+ new", out), out
    assert re.search(r"mood_clusters\s+K=\d+ moods", out), out
    assert re.search(r"listening_models\s+retrain \S+: .*next mood: served by [\w ]+, macro-F1 0\.\d+", out), out
    assert (
        tmp_path / "home" / "artifacts" / "listening" / "me" / "dashboard" / "index.html"
    ).exists()

    again = cli(cli_env, "sort", "--candidates", "liked", "--limit", "3")
    assert again.returncode == 0, again.stderr[-3000:]
    assert re.search(r"context hit, embeddings computed 0, reranks 0", again.stdout), again.stdout
    assert re.search(r"playlist_profiles recomputed 0", again.stdout)

    one = cli(cli_env, "sort", "--playlist", "Morning Run")
    assert one.returncode == 0, one.stderr[-3000:]
    assert "songs for 'Morning Run':" in one.stdout or "no suggestions for playlist" in one.stdout

    missing = cli(cli_env, "sort", "--candidates", "file")
    assert missing.returncode == 2 and "--file" in missing.stderr


@pytest.mark.slow
def test_dev_runs_dagster_on_a_separate_instance_database(tmp_path, cli_env):
    """`spotify-assets dev`: embedded Postgres, a `dagster` database for the instance, the UI."""
    import signal
    import time

    import httpx
    import psycopg

    from spotify_assets_tests.ops.services import free_port

    port = free_port()
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spotify_assets.cli", "dev", "--port", str(port)],
        env=cli_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, answer = time.monotonic() + 180, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/graphql",
                    json={"query": "{ instance { runQueuingSupported } assetNodes { id } }"},
                    timeout=5,
                ).json()
                if answer.get("data", {}).get("assetNodes"):
                    break
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(2)
        output = (tmp_path / "dev.log").read_text(errors="replace")
        assert answer and answer["data"]["assetNodes"], output[-3000:]
        assert answer["data"]["instance"]["runQueuingSupported"] is True
        assert "Dagster instance: postgres" in output
        # nothing at start that a user must puzzle over (issue 24 #12)
        assert "dagster.yaml) in the current folder" not in output, output[-3000:]
        assert "superseded" not in output and "Use 'dg dev'" not in output, output[-3000:]
        pgdata = tmp_path / "home" / "pgdata"
        with psycopg.connect(f"dbname=postgres user=postgres host={pgdata}") as conn:
            databases = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        assert {"dagster", "spotify_assets"} <= databases
        with psycopg.connect(f"dbname=dagster user=postgres host={pgdata}") as conn:
            tables = {
                r[0]
                for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
        assert {"runs", "event_logs"} <= tables  # the instance's storage lives there

        # SIGTERM to the wrapper alone stops the whole group and then the embedded server
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(timeout=90) == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _session_processes(process.pid):
            time.sleep(1)
        assert _session_processes(process.pid) == [], "dagster processes were left behind"
        postmaster = pgdata / "postmaster.pid"
        while time.monotonic() < deadline and postmaster.exists():
            time.sleep(1)
        assert not postmaster.exists(), "the embedded server kept running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        # `dagster dev` runs in a session of its own: after a failure above, end it too
        for line in subprocess.run(["ps", "-eo", "sid=,args="], capture_output=True,
                                   text=True).stdout.splitlines():  # fmt: skip
            if f"--port {port}" in line and "dagster dev" in line:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(int(line.split()[0]), signal.SIGKILL)


def _session_processes(session: int) -> list[str]:
    """Processes (pid and command) still in the session a test started."""
    out = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[1:2] == [str(session)]]


@pytest.mark.slow
def test_listening_commands_for_a_named_listener(tmp_path, cli_env):
    import json

    from spotify_assets.lib.sample import generate_history, generate_playlists

    tracks = generate_tracks(n_tracks=300, seed=5)
    catalog = tmp_path / "tracks.csv"
    tracks.to_csv(catalog, index=False)
    plays = generate_history(tracks, generate_playlists(tracks, seed=5), seed=5, days=45)
    for play in plays:
        play["conn_country"] = "IN"
    export = tmp_path / "export"
    export.mkdir()
    (export / "Streaming_History_Audio_2026.json").write_text(json.dumps(plays))

    early = cli(cli_env, "listening", "retrain", "--user", "ravi")
    assert early.returncode == 2 and "no person 'ravi'" in early.stderr
    assert "listening import PATH --person ravi" in early.stderr

    loaded = cli(cli_env, "catalog", str(catalog))
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    imported = cli(cli_env, "listening", "import", str(export), "--user", "ravi")
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert re.search(r"listening_history\s+[\d,]+ plays read, [\d,]+ new", imported.stdout)

    retrained = cli(cli_env, "listening", "retrain", "--user", "ravi", "--bootstrap", "50")
    assert retrained.returncode == 0, retrained.stderr[-3000:]
    out = retrained.stdout
    for step in ("play_features", "mood_clusters", "listening_models", "listening_predictions",
                 "drift_report", "listening_dashboard"):  # fmt: skip
        assert len(re.findall(rf"^\s+{step}\s", out, re.M)) == 1, out  # one line per step
    assert "times in Asia/Kolkata (country IN)" in out
    assert "{" not in out  # readable lines, not dicts

    status = cli(cli_env, "listening", "status", "--user", "ravi")
    assert status.returncode == 0, status.stderr[-3000:]
    assert re.search(r"retrain\s+\d{8}T\d{6}Z-\w+ .*K=\d+ moods", status.stdout), status.stdout
    assert re.search(r"session\s+PR-AUC 0\.\d+ \[", status.stdout)
    assert re.search(r"features\s+[\d,]+ plays \(100%\)", status.stdout)

    zoned = cli(cli_env, "listening", "update", "--user", "ravi", "--timezone", "Europe/Paris")
    assert zoned.returncode == 0, zoned.stderr[-3000:]
    assert "Europe/Paris (setting)" in cli(cli_env, "listening", "status", "--user", "ravi").stdout
    bad_zone = cli(cli_env, "listening", "update", "--user", "ravi", "--timezone", "Moon/Base")
    assert bad_zone.returncode == 2 and "unknown time zone" in bad_zone.stderr

    truncated = tmp_path / "StreamingHistory0.json"
    truncated.write_text('[{"endTime": "2020-01-01 10:00", "artistName": "A", "ms')
    failed = cli(cli_env, "listening", "import", str(truncated), "--user", "ravi")
    assert failed.returncode == 1
    assert failed.stderr.count("StreamingHistory0.json: truncated JSON") == 1, failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    # a new person whose first import fails is not left behind as an empty partition
    assert cli(cli_env, "listening", "import", str(truncated), "--user", "nobody").returncode == 1
    gone = cli(cli_env, "listening", "retrain", "--user", "nobody")
    assert gone.returncode == 2 and "no person 'nobody'" in gone.stderr
    api = cli(cli_env, "listening", "update", "--user", "ravi", "--source", "api")
    assert api.returncode == 2 and "Spotify account of person 'me'" in api.stderr

    # forget one person: everything of theirs goes, another person's data stays
    other = tmp_path / "other"
    other.mkdir()
    (other / "Streaming_History_Audio_2026.json").write_text(json.dumps(plays[:200]))
    assert cli(cli_env, "listening", "import", str(other), "--user", "mina").returncode == 0
    assert cli(cli_env, "forget", "--user", "ravi").returncode == 2  # needs --yes
    forgot = cli(cli_env, "forget", "--user", "ravi", "--yes")
    assert forgot.returncode == 0, forgot.stderr[-2000:]
    assert re.search(r"plays \d+", forgot.stdout) and "and the partition" in forgot.stdout
    assert "ravi: 0 plays" in cli(cli_env, "listening", "status", "--user", "ravi").stdout
    assert not (tmp_path / "home" / "artifacts" / "listening" / "ravi").exists() or not any(
        p.is_file() for p in (tmp_path / "home" / "artifacts" / "listening" / "ravi").rglob("*")
    )
    kept = sum(1 for p in plays[:200] if not p["spotify_episode_uri"])
    assert f"mina: {kept} plays" in cli(cli_env, "listening", "status", "--user", "mina").stdout
    again = cli(cli_env, "listening", "retrain", "--user", "ravi")
    assert again.returncode == 2 and "no person 'ravi'" in again.stderr


def _small_export(folder, tracks) -> None:
    """A privacy export as Spotify ships it: playlists, liked songs and a basic history, half of
    its songs in the catalog (`tracks`) and half not."""
    import json

    folder.mkdir()
    known = tracks.head(12)
    songs = [
        {"trackName": t.track_name, "artistName": json.loads(t.artists)[0], "albumName": "",
         "trackUri": f"spotify:track:{t.track_id}"}
        for t in known.itertuples()
    ] + [
        {"trackName": f"Unreleased Demo {i}", "artistName": f"Garage Band {i % 3}",
         "albumName": "Tapes"}  # an old export item: no URI
        for i in range(12)
    ]  # fmt: skip
    items = [{"track": s, "episode": None, "localTrack": None} for s in songs]
    local = {"track": None, "episode": None, "localTrack": {"trackName": "x", "uri": "y"}}
    playlists = [
        {"name": f"Mix {n}", "items": [*items[n::3], local]} for n in range(3)
    ]  # fmt: skip
    (folder / "Playlist1.json").write_text(json.dumps({"playlists": playlists}))
    liked = [{"artist": s["artistName"], "album": s["albumName"], "track": s["trackName"],
              "uri": s.get("trackUri", "")} for s in songs[::2]]  # fmt: skip
    (folder / "YourLibrary.json").write_text(json.dumps({"tracks": liked}))
    plays = [
        {"endTime": f"2024-03-{1 + i % 28:02d} {8 + i % 12:02d}:{i % 60:02d}",
         "artistName": s["artistName"], "trackName": s["trackName"], "msPlayed": 200000}
        for i, s in enumerate(songs * 4)
    ]  # fmt: skip
    (folder / "StreamingHistory0.json").write_text(json.dumps(plays))


@pytest.mark.slow
def test_import_a_whole_export_then_sort_that_persons_songs(tmp_path, cli_env):
    tracks = generate_tracks(n_tracks=150, seed=4)
    catalog = tmp_path / "tracks.csv"
    tracks.to_csv(catalog, index=False)
    export = tmp_path / "my_spotify_data"
    _small_export(export, tracks)
    assert cli(cli_env, "catalog", str(catalog)).returncode == 0

    first = cli(cli_env, "import", str(export), "--user", "ana")
    assert first.returncode == 0, first.stderr[-3000:]
    out = first.stdout
    assert "1 playlist file(s), YourLibrary.json, 1 streaming-history file(s)" in out
    # 24 songs: 12 in the catalog, 12 new library tracks (one local file per playlist skipped)
    assert re.search(r"playlists\s+3 playlists, 24 members; 50\.0% of 24 items in a catalog "
                     r"file, 12 songs new to the catalog", out), out  # fmt: skip
    assert re.search(r"candidates\s+12 songs to sort \(6 in a catalog file, 0 new", out), out
    assert re.search(r"listening_history\s+96 plays read, 96 new;", out), out
    # learned in the import's second process, beside the embedding, and reported here
    assert re.search(r"co_listening\s+learned in [\d.]+ s: \w+ for \d+ of \d+ songs", out), out
    for what in ("playlist items", "liked songs", "plays"):
        line = re.search(rf"^\s+{what}\s.*$", out, re.M).group(0)
        assert "with a track 100.0%" in line and "with a vector 100.0%" in line, line
    assert re.search(r"playlist items\s+24\s+in a catalog file\s+50\.0%", out), out
    # every row of every file accounted for (a local file per playlist is excluded)
    assert "Playlist1.json: 27 rows = 24 stored + 3 excluded (3 local files) + 0 quarantined" in out
    assert "YourLibrary.json: 12 rows = 12 stored + 0 excluded + 0 quarantined" in out
    assert "StreamingHistory0.json: 96 rows = 96 stored + 0 excluded" in out
    # a long step's progress reaches the terminal (Dagster's own log is off in the CLI)
    assert re.search(r"spotify_assets\.progress: track_embeddings: \d+/\d+ \(", first.stderr)

    again = cli(cli_env, "import", str(export), "--user", "ana")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "0 songs new to the catalog" in again.stdout and "96 plays read, 0 new" in again.stdout

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Playlist1.json").write_text('{"playlists": [{"name": "A", "items": [')
    failed = cli(cli_env, "import", str(broken), "--user", "ana")
    assert failed.returncode == 1
    assert failed.stderr.count("Playlist1.json: truncated JSON") == 1, failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    # an export that cannot be read whole writes nothing for the person: a zip refused for one
    # member, a folder whose YourLibrary.json is cut short (its playlists are fine)
    import shutil
    import zipfile

    hostile_zip = tmp_path / "my_spotify_data.zip"
    with zipfile.ZipFile(hostile_zip, "w") as archive:
        for file in export.iterdir():
            archive.write(file, f"Spotify Account Data/{file.name}")
        archive.writestr("../outside.json", "{}")
    cut = tmp_path / "cut"
    shutil.copytree(export, cut)
    library = (cut / "YourLibrary.json").read_text()
    (cut / "YourLibrary.json").write_text(library[: len(library) // 2])
    for path, reason in ((hostile_zip, "path traversal"), (cut, "YourLibrary.json: truncated")):
        refused = cli(cli_env, "import", str(path), "--person", "bo")
        assert refused.returncode == 1 and reason in refused.stderr, refused.stderr
        assert "nothing of" in refused.stderr and "Traceback" not in refused.stderr
        gone = cli(cli_env, "forget", "--person", "bo", "--yes")
        assert gone.returncode == 0 and "nothing stored for 'bo'" in gone.stdout, gone.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = cli(cli_env, "import", str(empty), "--user", "ana")
    assert refused.returncode == 2 and "YourLibrary.json" in refused.stderr

    sorted_ = cli(cli_env, "sort", "--user", "ana")
    assert sorted_.returncode == 0, sorted_.stderr[-3000:]
    assert re.search(r"match_results\s+12 songs × 3 playlists", sorted_.stdout), sorted_.stdout
    assert "Unreleased Demo" in sorted_.stdout  # a library song is sorted like any other


def test_serve_keeps_to_this_machine_unless_told(capsys):
    """The app has no accounts: another host is refused (exit 2, one line) before anything
    starts; `--public` is the explicit way."""
    from spotify_assets.cli import main

    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--public" in err and "no accounts" in err


def test_serve_refuses_no_workers_and_an_unknown_bundle_in_one_line(capsys):
    from spotify_assets.cli import main

    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers 0" in capsys.readouterr().err
    assert main(["serve", "--workers", "2", "--bundle", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown bundle 'nope'" in err


@pytest.mark.slow
def test_serve_with_two_workers_answers_and_stops_with_them(tmp_path, cli_env):
    """`serve --workers 2`: two worker processes answer on one port (each loads the app), and
    Ctrl-C stops both, then the embedded server."""
    import signal
    import time

    import httpx
    import psutil

    from spotify_assets_tests.ops.services import free_port

    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "spotify_assets.cli", "serve", "--workers", "2", "--port", str(port)],
        env=cli_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip

    def workers() -> list[psutil.Process]:
        with contextlib.suppress(psutil.NoSuchProcess):
            return [c for c in psutil.Process(process.pid).children(recursive=True)
                    if "spawn_main" in " ".join(c.cmdline())]  # fmt: skip
        return []

    try:
        deadline, answered = time.monotonic() + 180, 0
        while time.monotonic() < deadline and process.poll() is None and answered < 20:
            try:  # a new connection each time: either worker may take it
                answered += httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.5)
        assert answered == 20, (tmp_path / "serve.log").read_text()[-3000:]
        assert len(workers()) == 2
        assert "with 2 worker processes" in (tmp_path / "serve.log").read_text()

        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=90) == 0, (tmp_path / "serve.log").read_text()[-3000:]
        postmaster = tmp_path / "home" / "pgdata" / "postmaster.pid"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (postmaster.exists() or workers()):
            time.sleep(0.5)
        assert not postmaster.exists(), "the embedded server kept running"
        # an exited child nobody reaped (the parent gone, no init reaping in a container)
        # holds nothing: only a live one is left behind
        alive = [p for p in _session_processes(process.pid) if "<defunct>" not in p]
        assert alive == [], "workers were left behind"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
