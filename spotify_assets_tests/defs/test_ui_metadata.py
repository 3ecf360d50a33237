"""What the Dagster UI shows about this code location: kinds, owners, descriptions, column
schemas, code references and freshness on the definitions; row counts and check sentences on a
materialization; and the one translation of input errors into non-retried failures."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import pytest
import yaml

from spotify_assets.definitions import defs
from spotify_assets.defs import models
from spotify_assets.defs.catalog.assets import QUARANTINE_CHECK, catalog_tracks
from spotify_assets.defs.catalog.checks import no_duplicate_track_ids
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.matching.assets import results_tables
from spotify_assets.defs.playlists.assets import playlists
from spotify_assets.defs.resources import ComputeResource, DatabaseResource, SpotifyResource
from spotify_assets.defs.verdicts import difference_metadata, difference_sentence
from spotify_assets.lib.bundles import BundleError, load_bundles
from spotify_assets.lib.catalog import CatalogError
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.export.history import HistoryError
from spotify_assets.lib.export.playlists import ExportError
from spotify_assets.lib.listening.retrain import RetrainError
from spotify_assets.lib.listening.sparklines import MARKDOWN_INLINE_LIMIT, bars_markdown
from spotify_assets.lib.listening.timezones import TimezoneError
from spotify_assets.lib.matching.run import MatchError
from spotify_assets.lib.models.embedder import DimensionMismatch
from spotify_assets.lib.models.loading import model_source
from spotify_assets.lib.playlists.sources import PlaylistSourceError
from spotify_assets_tests.dagster_helpers import check_evaluations, one_sentence, write_catalog
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFS = REPO_ROOT / "spotify_assets" / "defs"
TABLE_ASSETS = {
    "catalog_tracks", "track_analyses", "track_embeddings", "track_emotions", "playlists",
    "candidates", "playlist_profiles", "match_results", "listening_history", "play_features",
}  # fmt: skip
UPDATED_EVERY_30_MINUTES = {
    "listening_history", "play_features", "listening_predictions", "drift_report",
    "listening_dashboard",
}  # fmt: skip
RETRAINED_DAILY = {"mood_clusters", "listening_models"}


@pytest.fixture(scope="module")
def graph():
    return defs().resolve_asset_graph()


@pytest.fixture(scope="module")
def nodes(graph):
    return {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}


# ---- definitions ----------------------------------------------------------------------------


def test_every_asset_has_kinds_owners_and_a_description(nodes):
    assert len(nodes) == 22  # co_listening joined the 21
    for name, node in nodes.items():
        assert node.kinds, f"{name} has no kinds"
        assert node.owners and all(o.startswith("team:") for o in node.owners), name
        assert node.description and len(node.description) > 20, name


def test_every_sensor_has_a_description():
    sensors = {s.name: s for s in defs().sensors}
    assert {"history_drop_sensor", "catalog_sensor", "model_bundle_sensor"} <= set(sensors)
    for name, sensor in sensors.items():
        assert sensor.description and len(sensor.description) > 20, name


def test_table_assets_declare_their_postgres_columns(nodes):
    for name in TABLE_ASSETS:
        metadata = nodes[name].metadata
        schema = metadata.get("dagster/column_schema")
        assert isinstance(schema, dg.TableSchema), name
        assert len(schema.columns) >= 4, name
        assert all(c.description and c.type for c in schema.columns), name
        assert metadata["dagster/table_name"].startswith("public."), name
    tracks = nodes["catalog_tracks"].metadata["dagster/column_schema"]
    assert {"track_id", "name", "energy", "valence"} <= {c.name for c in tracks.columns}


def test_every_asset_references_the_code_that_computes_it(nodes):
    for name, node in nodes.items():
        references = node.metadata["dagster/code_references"].code_references
        [reference] = references
        path = Path(reference.file_path)
        # a stage's assets.py; the listening stage has a module per step (history, features, …)
        stage_module = path.name == "assets.py" or path.parent == DEFS / "listening"
        assert path.is_relative_to(DEFS) and stage_module, (name, path)
        lines = path.read_text().splitlines()
        # the decorator that starts the definition, and the function a few lines below it
        assert lines[reference.line_number - 1].startswith("@dg.asset"), (name, reference)
        assert any(
            line.startswith(f"def {name}(") for line in lines[reference.line_number - 1 :]
        ), name


def test_the_scheduled_listening_assets_declare_their_freshness(nodes):
    for name in UPDATED_EVERY_30_MINUTES:
        policy = nodes[name].freshness_policy
        assert type(policy).__name__ == "TimeWindowFreshnessPolicy", name
        assert policy.fail_window.to_timedelta() == timedelta(hours=1)
        assert policy.warn_window.to_timedelta() == timedelta(minutes=40)
    for name in RETRAINED_DAILY:
        policy = nodes[name].freshness_policy
        assert type(policy).__name__ == "CronFreshnessPolicy", name
        # full_retrain_schedule runs at 00:15 UTC: due within the hour after
        assert (policy.deadline_cron, policy.timezone) == ("15 1 * * *", "UTC")
        assert policy.lower_bound_delta == timedelta(hours=1)
    schedules = {s.name: s.cron_schedule for s in defs().schedules}
    assert schedules == {"update_schedule": "*/30 * * * *", "full_retrain_schedule": "15 0 * * *"}


def test_one_code_location_name_everywhere():
    """The dg project, the local workspace and the Docker workspace name the location alike, so
    Dagster does not warn that the project's name differs from the workspace's."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["dg"]["project"]
    [local] = yaml.safe_load((REPO_ROOT / "workspace.yaml").read_text())["load_from"]
    [docker] = yaml.safe_load((REPO_ROOT / "docker" / "workspace.yaml").read_text())["load_from"]
    assert (
        project["code_location_name"]
        == local["python_module"]["location_name"]
        == docker["grpc_server"]["location_name"]
        == "spotify_assets"
    )


# ---- check sentences, tables and plots ------------------------------------------------------


def test_a_difference_reads_as_numbers_and_one_sentence():
    above = {"baseline": "same_as_previous", "value": 0.055, "lo": 0.011, "hi": 0.128}
    sentence = difference_sentence("macro_f1", above, days=20)
    assert sentence == (
        "macro-F1 +0.055 over same as previous, 95% CI [+0.011, +0.128] lies above 0: the model "
        "beats same as previous."
    )
    assert difference_metadata(above, 20) == {
        "value": 0.055, "lower": 0.011, "upper": 0.128, "threshold": 0.0, "days": 20,
        "min_days": 7,
    }  # fmt: skip
    across = {"baseline": "hour_of_week_prior", "value": -0.004, "lo": -0.053, "hi": 0.045}
    assert difference_sentence("pr_auc", across, 20).endswith(
        "95% CI [−0.053, +0.045] includes 0: no evidence the model beats hour-of-week prior."
    )
    assert "lies below 0" in difference_sentence("pr_auc", {**across, "hi": -0.01}, 20)
    assert "not yet evidence" in difference_sentence("macro_f1", above, days=3)
    missing = {"baseline": "majority", "value": 0.1, "lo": float("nan"), "hi": float("nan")}
    assert "no confidence interval" in difference_sentence("macro_f1", missing)
    assert set(difference_metadata(missing)) == {"value", "threshold"}  # NaN is left out
    for text in (sentence, difference_sentence("pr_auc", across, 20)):
        assert one_sentence(text), text


def test_the_matching_results_are_narrow_tables():
    rows = [
        {"system": "stage1", "mrr": 0.5, "recall@1": 0.3, "recall@5": 0.7, "ndcg@10": 0.6,
         "recall@10": 0.8, "mrr_subgenre": 0.4, "recall@1_subgenre": 0.2,
         "recall@5_subgenre": 0.6, "ndcg@10_subgenre": 0.5, "recall@10_subgenre": 0.7},
        {"system": "baseline_popular", "mrr": 0.1, "recall@1": 0.05, "recall@5": 0.2,
         "ndcg@10": 0.15, "recall@10": 0.3},
    ]  # fmt: skip
    tables = results_tables(rows, final="stage1")
    assert set(tables) == {"results", "results_same_subgenre"}
    for table in tables.values():
        assert isinstance(table, dg.TableMetadataValue)
        assert [c.name for c in table.schema.columns] == ["system", "ndcg@10", "mrr", "recall@10"]
    assert [r.data for r in tables["results"].records] == [
        {"system": "stage1 (final)", "ndcg@10": 0.6, "mrr": 0.5, "recall@10": 0.8},
        {"system": "baseline_popular", "ndcg@10": 0.15, "mrr": 0.1, "recall@10": 0.3},
    ]
    assert [r.data["system"] for r in tables["results_same_subgenre"].records] == ["stage1 (final)"]


def test_a_glance_plot_fits_the_uis_inline_markdown_limit():
    text = bars_markdown(
        "Session-start probability, next 24 hours, from Mon 13:00 (America/Argentina/Buenos_Aires)",
        [i * 0.037 for i in range(24)],
    )
    assert len(text) < MARKDOWN_INLINE_LIMIT
    image = re.search(r"!\[[^\]]*\]\((data:image/svg\+xml,[^\s)]+)\)", text)
    assert image and " " not in image.group(1) and "#" not in image.group(1)


# ---- a materialization ----------------------------------------------------------------------


def test_catalog_tracks_reports_its_row_count_and_checks_say_what_they_found(
    database_url, instance, db, tmp_path
):
    path, _ = write_catalog(tmp_path, n_tracks=120, seed=3)
    result = dg.materialize(
        [catalog_tracks, no_duplicate_track_ids],
        resources={"database": DatabaseResource(url=database_url)},
        instance=instance,
        run_config={"ops": {"catalog_tracks": {"config": {"path": str(path)}}}},
    )
    assert result.success
    with db.connect() as conn:
        stored = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
    assert meta(result, "catalog_tracks")["dagster/row_count"] == stored == 120

    checks = check_evaluations(result)
    quarantine = checks[QUARANTINE_CHECK]
    numbers = {k: v.value for k, v in quarantine.metadata.items()}
    assert numbers["ratio"] == 0.0 and numbers["threshold"] == 0.05
    assert (numbers["quarantined"], numbers["rows_read"]) == (0, 120)
    assert quarantine.description == "0 of 120 rows rejected (0.0%), within the 5.0% threshold."
    duplicates = checks["no_duplicate_track_ids"]
    assert {k: v.value for k, v in duplicates.metadata.items()} == {
        "duplicate_ids": 0,
        "tracks": 120,
        "threshold": 0,
    }
    assert duplicates.description == "No duplicate ids among 120 tracks."
    for check in checks.values():
        assert one_sentence(check.description), check.description


def test_a_model_load_is_announced_and_timed():
    class FakeCompute(ComputeResource):
        def embedder(self, bundle):
            return "a model"

    lines: list[str] = []
    context = SimpleNamespace(log=SimpleNamespace(info=lines.append))
    bundle = load_bundles().default_bundle  # its model comes from a package
    assert models.embedder(context, FakeCompute(), bundle) == "a model"
    assert lines[0] == (
        f"loading embedding model {bundle.embedding.model} from the package "
        f"{bundle.embedding.source.removeprefix('package:')}…"
    )
    model = re.escape(bundle.embedding.model)
    assert re.fullmatch(rf"loaded embedding model {model} in \d+\.\d s", lines[1])
    models.lazy_embedder(context, FakeCompute(), bundle)
    assert len(lines) == 2  # a lazy embedder loads (and says so) on first use only
    assert model_source("org/name") == "$SPOTIFY_ASSETS_MODELS/org__name or the Hugging Face cache"


# ---- input errors ---------------------------------------------------------------------------


def test_every_user_fixable_error_is_an_input_error():
    for error in (
        CatalogError, HistoryError, ExportError, PlaylistSourceError, BundleError, RetrainError,
        TimezoneError, MatchError, DimensionMismatch,
    ):  # fmt: skip
        assert issubclass(error, InputError) and issubclass(error, ValueError), error
    assert not issubclass(HistoryError, CatalogError)  # a history is not a catalog
    assert not issubclass(ExportError, CatalogError)
    assert not issubclass(PlaylistSourceError, CatalogError)


def _events(result, kind: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind]


def test_an_input_error_fails_once_with_its_message(instance):
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def reads_a_file() -> None:
        with input_errors("history.json", nothing_written=True):
            raise HistoryError("not a streaming history: export it again from Spotify")

    result = dg.materialize([reads_a_file], instance=instance, raise_on_error=False)
    assert not result.success
    assert _events(result, "STEP_UP_FOR_RETRY") == []
    [failure] = _events(result, "STEP_FAILURE")
    error = failure.event_specific_data.error
    assert error.cls_name == "Failure"
    assert error.message.strip().endswith(
        "history.json: not a streaming history: export it again from Spotify; nothing was written"
    )


def test_any_other_error_is_retried_by_the_retry_policy(instance):
    attempts = []

    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky() -> None:
        with input_errors("anything"):
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("connection reset by peer")

    result = dg.materialize([flaky], instance=instance)
    assert result.success and len(attempts) == 2
    [retry] = _events(result, "STEP_UP_FOR_RETRY")
    assert "connection reset by peer" in str(retry.event_specific_data.error.cause.message)


def test_a_real_asset_refuses_bad_config_without_retrying(database_url, instance):
    instance.add_dynamic_partitions("person", ["me"])
    result = dg.materialize(
        [playlists],
        resources={"database": DatabaseResource(url=database_url), "spotify": SpotifyResource()},
        instance=instance,
        partition_key="me",
        run_config={"ops": {"playlists": {"config": {"source": "myspace"}}}},
        raise_on_error=False,
    )
    assert not result.success
    assert _events(result, "STEP_UP_FOR_RETRY") == []  # playlists has a RetryPolicy
    failure = result.failure_data_for_node("playlists")
    assert "unknown playlist source 'myspace'" in failure.error.message
    assert "nothing was written" in failure.error.message
