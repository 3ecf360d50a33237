"""The artifact store: one contract for the local folder and S3 (moto in server mode, over HTTP)."""

from __future__ import annotations

import itertools
import json
import os
import urllib.request

import boto3
import dagster as dg
import pytest

from spotify_assets.defs.artifacts import ArtifactStoreResource, artifact_store_resource
from spotify_assets.lib.artifacts import (
    ArtifactError,
    ArtifactNotFound,
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    parse_location,
)

PREFIX = "runs/test"
_buckets = itertools.count()


@pytest.fixture(scope="module")
def moto_url():
    """A real S3-compatible HTTP endpoint on loopback, for this module only."""
    pytest.importorskip("flask", reason="moto server mode needs `pip install 'moto[server]'`")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()  # moto's state is process-global
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    """Dummy credentials, and nothing from a developer's AWS setup."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="module")
def raw_s3(moto_url):
    """A plain boto3 client on the moto endpoint, independent of the code under test."""
    return boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bucket(raw_s3, aws_env) -> str:
    name = f"artifacts-{os.getpid()}-{next(_buckets)}"
    raw_s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(moto_url, bucket) -> ArtifactStore:
    resource = ArtifactStoreResource(
        location=f"s3://{bucket}/{PREFIX}", endpoint_url=moto_url, region_name="us-east-1"
    )
    return resource.get()


@pytest.fixture
def local_store(tmp_path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture(params=["local", "s3"])
def store(request) -> ArtifactStore:
    return request.getfixturevalue(f"{request.param}_store")


# --- the contract, for both stores -------------------------------------------------------------


def test_bytes_roundtrip_and_uri(store):
    uri = store.put_bytes("models/mood/2026-11-22/model.json", b'{"trees": 3}')
    assert uri == store.uri("models/mood/2026-11-22/model.json")
    assert uri.endswith("/models/mood/2026-11-22/model.json")
    assert store.get_bytes("models/mood/2026-11-22/model.json") == b'{"trees": 3}'
    assert store.exists("models/mood/2026-11-22/model.json")
    assert not store.exists("models/mood/2026-11-22/other.json")


def test_file_roundtrip(store, tmp_path):
    src = tmp_path / "src" / "model.ubj"
    src.parent.mkdir()
    payload = os.urandom(3 * 1024 * 1024 + 17)  # spans several read chunks
    src.write_bytes(payload)
    store.put_file("models/mood/model.ubj", src)

    dest = store.get_file("models/mood/model.ubj", tmp_path / "out" / "copy.ubj")
    assert dest == tmp_path / "out" / "copy.ubj"
    assert dest.read_bytes() == payload
    into_folder = store.get_file("models/mood/model.ubj", tmp_path / "out")
    assert into_folder == tmp_path / "out" / "model.ubj"
    assert into_folder.read_bytes() == payload


def test_overwrite_replaces_content(store, tmp_path):
    store.put_bytes("reports/dashboard.html", b"<p>old</p>")
    store.put_bytes("reports/dashboard.html", b"<p>new</p>")
    assert store.get_bytes("reports/dashboard.html") == b"<p>new</p>"
    src = tmp_path / "chart.png"
    src.write_bytes(b"\x89PNG newest")
    store.put_file("reports/dashboard.html", src)
    assert store.get_bytes("reports/dashboard.html") == b"\x89PNG newest"
    assert store.list("reports/") == ["reports/dashboard.html"]


def test_list_with_prefix(store):
    for key in ["models/mood/a.json", "models/mood/b.json", "models/moody.json", "reports/x.png"]:
        store.put_bytes(key, b"x")
    assert store.list() == [
        "models/mood/a.json",
        "models/mood/b.json",
        "models/moody.json",
        "reports/x.png",
    ]
    assert store.list("models/mood/") == ["models/mood/a.json", "models/mood/b.json"]
    assert store.list("models/mood") == [
        "models/mood/a.json",
        "models/mood/b.json",
        "models/moody.json",
    ]
    assert store.list("nothing/here/") == []


def test_missing_key(store, tmp_path):
    for get in (store.get_bytes, store.get_json, lambda k: store.get_file(k, tmp_path / "f")):
        with pytest.raises(ArtifactNotFound, match=r"models/none\.json") as info:
            get("models/none.json")
        assert store.location in str(info.value)
        assert isinstance(info.value, KeyError)
        assert isinstance(info.value, ArtifactError)
    assert not (tmp_path / "f").exists()


BAD_KEYS = ["", "/etc/passwd", "../up.json", "models/../../x", "a\\b.json", "a//b", "./a", "m/"]


def test_bad_keys_rejected(store, tmp_path):
    calls = (
        lambda k: store.put_bytes(k, b"x"),
        lambda k: store.put_json(k, {}),
        store.get_bytes,
        lambda k: store.get_file(k, tmp_path),
        store.exists,
        store.uri,
    )
    for key in BAD_KEYS:
        for call in calls:
            with pytest.raises(ArtifactError, match="artifact key") as info:
                call(key)
            assert not isinstance(info.value, ArtifactNotFound), key
    with pytest.raises(ArtifactError, match=r"'\.\.' segment"):
        store.list("../")
    assert store.list() == []


def test_delete(store):
    store.put_bytes("a/one.json", b"1")
    store.put_bytes("a/two.json", b"2")
    assert store.delete("a/one.json") is True
    assert store.list("a/") == ["a/two.json"] and not store.exists("a/one.json")
    assert store.delete("a/one.json") is False


def test_json_roundtrip(store):
    report = {"model": "mood", "auc": 0.87, "labels": ["calm", "hype"], "note": "café ☕"}
    store.put_json("reports/mood/metrics.json", report)
    assert store.get_json("reports/mood/metrics.json") == report


# --- local specifics ---------------------------------------------------------------------------


def test_local_layout_and_uri(local_store):
    uri = local_store.put_bytes("a/b/c.txt", b"hi")
    path = local_store.root / "a" / "b" / "c.txt"
    assert path.read_bytes() == b"hi"
    assert uri == path.as_uri()


def test_local_failed_write_keeps_old_content(local_store, tmp_path, monkeypatch):
    local_store.put_bytes("models/m.json", b"old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        local_store.put_bytes("models/m.json", b"new")
    monkeypatch.undo()
    assert local_store.get_bytes("models/m.json") == b"old"
    assert sorted(p.name for p in (local_store.root / "models").iterdir()) == ["m.json"]
    with pytest.raises(FileNotFoundError):
        local_store.put_file("models/m.json", tmp_path / "absent.bin")
    assert local_store.list() == ["models/m.json"]


def test_local_respects_umask(local_store):
    old = os.umask(0o022)
    try:
        local_store.put_bytes("reports/index.html", b"<html/>")
    finally:
        os.umask(old)
    assert (local_store.root / "reports" / "index.html").stat().st_mode & 0o777 == 0o644


# --- S3 specifics ------------------------------------------------------------------------------


def test_s3_objects_live_under_the_prefix(s3_store, raw_s3, bucket):
    assert isinstance(s3_store, S3ArtifactStore)
    uri = s3_store.put_json("reports/metrics.json", {"ok": True})
    s3_store.put_bytes("models/model.ubj", b"\x00\x01")
    assert uri == f"s3://{bucket}/{PREFIX}/reports/metrics.json"
    raw_s3.put_object(Bucket=bucket, Key="elsewhere/x.json", Body=b"{}")
    raw_s3.put_object(Bucket=bucket, Key=f"{PREFIX}-sibling/y.json", Body=b"{}")

    listed = raw_s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(obj["Key"] for obj in listed) == [
        "elsewhere/x.json",
        f"{PREFIX}-sibling/y.json",
        f"{PREFIX}/models/model.ubj",
        f"{PREFIX}/reports/metrics.json",
    ]
    head = raw_s3.head_object(Bucket=bucket, Key=f"{PREFIX}/reports/metrics.json")
    assert head["ContentType"] == "application/json"
    body = raw_s3.get_object(Bucket=bucket, Key=f"{PREFIX}/reports/metrics.json")["Body"]
    assert json.loads(body.read()) == {"ok": True}
    assert s3_store.list() == ["models/model.ubj", "reports/metrics.json"]


def test_s3_put_file_sets_content_type(s3_store, raw_s3, bucket, tmp_path):
    src = tmp_path / "dashboard.html"
    src.write_text("<html/>")
    s3_store.put_file("reports/dashboard.html", src)
    head = raw_s3.head_object(Bucket=bucket, Key=f"{PREFIX}/reports/dashboard.html")
    assert head["ContentType"] == "text/html"


def test_s3_list_follows_pages(s3_store, monkeypatch):
    keys = [f"many/{i:02d}.json" for i in range(7)]
    for key in keys:
        s3_store.put_bytes(key, b"1")
    monkeypatch.setattr(s3_store, "page_size", 2)  # 4 list requests instead of 1001 objects
    assert s3_store.list("many/") == keys


def test_s3_missing_bucket_names_the_bucket(moto_url, aws_env, tmp_path):
    store = ArtifactStoreResource(
        location="s3://no-such-bucket/p", endpoint_url=moto_url, region_name="us-east-1"
    ).get()
    calls = {
        "put": lambda: store.put_bytes("a.json", b"{}"),
        "get": lambda: store.get_bytes("a.json"),
        "get_file": lambda: store.get_file("a.json", tmp_path / "a.json"),
        "exists": lambda: store.exists("a.json"),
        "list": lambda: store.list(),
    }
    for name, call in calls.items():
        with pytest.raises(ArtifactError, match="no-such-bucket") as info:
            call()
        assert not isinstance(info.value, ArtifactNotFound), name
        assert "NoSuchBucket" in str(info.value), name
        assert "create the bucket" in str(info.value), name


def test_s3_access_denied_maps_to_artifact_error(s3_store, monkeypatch):
    from botocore.exceptions import ClientError

    def denied(**kwargs):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")

    monkeypatch.setattr(s3_store.client, "get_object", denied)
    with pytest.raises(ArtifactError, match=r"AccessDenied.*s3:GetObject") as info:
        s3_store.get_bytes("a.json")
    assert not isinstance(info.value, ArtifactNotFound)


def test_endpoint_from_environment(moto_url, bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("SPOTIFY_ASSETS_ARTIFACTS", f"s3://{bucket}/from-env")
    resource = artifact_store_resource()
    assert resource.location == ""  # empty: read from the settings when the store is built
    store = resource.get()
    assert store.location == f"s3://{bucket}/from-env"
    store.put_bytes("k.txt", b"v")
    assert store.get_bytes("k.txt") == b"v"


# --- settings ----------------------------------------------------------------------------------


def test_default_location_is_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SPOTIFY_ASSETS_ARTIFACTS", raising=False)
    store = ArtifactStoreResource().get()
    assert isinstance(store, LocalArtifactStore)
    assert store.root == (tmp_path / "home" / "artifacts").resolve()
    assert artifact_store_resource().get().location == store.location


def test_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_ARTIFACTS", str(tmp_path / "elsewhere"))
    resource = artifact_store_resource()
    assert resource.location == ""  # empty: read from the settings when the store is built
    assert resource.get().location == str((tmp_path / "elsewhere").resolve())
    assert ArtifactStoreResource().get().location == str((tmp_path / "elsewhere").resolve())


def test_resource_in_a_dagster_run(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_ARTIFACTS", str(tmp_path / "run"))

    @dg.asset
    def report(artifacts: ArtifactStoreResource) -> str:
        return artifacts.get().put_json("reports/r.json", {"n": 1})

    result = dg.materialize([report], resources={"artifacts": artifact_store_resource()})
    assert result.success
    assert result.output_for_node("report") == (tmp_path / "run/reports/r.json").resolve().as_uri()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("s3://bucket/some/prefix/", ("s3", "bucket", "some/prefix")),
        ("s3://bucket", ("s3", "bucket", "")),
        ("/data/artifacts", ("local", "/data/artifacts", "")),
        ("file:///data/artifacts", ("local", "/data/artifacts", "")),
    ],
)
def test_parse_location(value, expected):
    assert parse_location(value) == expected


def test_parse_location_default_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOTIFY_ASSETS_HOME", str(tmp_path))
    assert parse_location("") == ("local", str(tmp_path.resolve() / "artifacts"), "")
    with pytest.raises(ArtifactError, match="no bucket"):
        parse_location("s3://")
    with pytest.raises(ArtifactError, match="unsupported scheme"):
        parse_location("gs://bucket/x")
