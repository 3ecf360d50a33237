"""defs/run_config.py: every job's run config, built from the assets' Config classes, is config
the job accepts (checked against its schema, without running it)."""

import dagster as dg
import pytest
from pydantic import ValidationError

from spotify_assets.definitions import defs
from spotify_assets.defs import run_config

MATCH_STEPS = ["track_emotions", "playlist_profiles", "match_results", "match_evaluation"]
CASES = [
    ("load_catalog", run_config.catalog("dump.csv", "spotify_api")),
    ("refresh_catalog", run_config.catalog("tracks.csv")),
    ("import_history", run_config.history("/exports/e.zip", "Europe/Paris")),
    ("update", run_config.history("none")),
    ("full_retrain", run_config.retrain(200)),
    ("load_playlists", run_config.playlists("export", "/exports/e.zip")),
    ("load_candidates", run_config.candidates("liked", "sample")),
    ("match_bundle", run_config.matching(MATCH_STEPS, "ana", "liked", catalog_playlists=False)),
    ("suggest_playlists", run_config.matching(MATCH_STEPS[:3], "ana", "liked", True)),
    ("evaluate_matching", run_config.matching(
        ["track_emotions", "playlist_profiles", "match_evaluation"], "ana", None, True
    )),
]  # fmt: skip


@pytest.mark.parametrize(("job", "config"), CASES, ids=[job for job, _ in CASES])
def test_every_builder_gives_config_its_job_accepts(job, config):
    result = dg.validate_run_config(defs().resolve_job_def(job), config.to_config_dict())
    assert set(result["ops"]) >= set(config.to_config_dict()["ops"])


def test_matching_config_says_whose_songs_into_whose_playlists():
    own = run_config.matching(MATCH_STEPS, "ana", "liked", catalog_playlists=False)
    ops = own.to_config_dict()["ops"]
    assert set(ops) == {"playlist_profiles", "match_results", "match_evaluation"}
    assert ops["playlist_profiles"]["config"]["person"] == "ana"
    results = ops["match_results"]["config"]
    assert (results["person"], results["list"], results["playlists"]) == ("ana", "liked", "own")
    catalog = run_config.matching(MATCH_STEPS, "ana", "liked", True).to_config_dict()["ops"]
    # the catalog's playlists belong to no one (an empty person), the songs are still ana's
    assert catalog["playlist_profiles"]["config"]["person"] == ""
    assert catalog["match_evaluation"]["config"]["person"] == ""
    assert catalog["match_results"]["config"]["person"] == "ana"
    assert catalog["match_results"]["config"]["playlists"] == "catalog"
    with pytest.raises(ValueError, match="match_results needs a candidates list"):
        run_config.matching(MATCH_STEPS, "ana", None, False)


def test_a_wrongly_typed_value_fails_when_the_config_is_built():
    with pytest.raises(ValidationError):
        run_config.retrain("many")  # type: ignore[arg-type]
