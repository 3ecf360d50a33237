"""Where model files and report/dashboard outputs go: a local folder or an S3 bucket.

Keys are relative POSIX paths ("models/mood/2026-11-22/model.json") so the same key means the
same thing in both stores; anything that could escape the store's root is refused up front.
"""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path, PurePosixPath
from typing import IO, Any

from botocore.exceptions import BotoCoreError, ClientError

from spotify_assets.settings import home_dir, settings

_TMP_SUFFIX = ".artifact-tmp"  # in-progress local writes; never a key, never listed
_CHUNK = 1024 * 1024


class ArtifactError(ValueError):
    """A bad key or location, or a store that refused the operation."""


class ArtifactNotFound(ArtifactError, KeyError):
    """No artifact under that key."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def check_key(key: str) -> str:
    """`key` if it is a clean relative POSIX path, else ArtifactError saying why."""
    if not isinstance(key, str) or not key:
        raise ArtifactError(f"artifact key must be a non-empty string, got {key!r}")
    if "\\" in key:
        raise ArtifactError(f"artifact key {key!r} contains a backslash; use '/' between parts")
    if key.startswith("/"):
        raise ArtifactError(f"artifact key {key!r} is absolute; keys are relative to the store")
    parts = key.split("/")
    if ".." in parts:
        raise ArtifactError(f"artifact key {key!r} has a '..' segment")
    if any(part in ("", ".") for part in parts):
        raise ArtifactError(f"artifact key {key!r} has an empty or '.' segment")
    if key.endswith(_TMP_SUFFIX):
        raise ArtifactError(f"artifact key {key!r} ends with the reserved {_TMP_SUFFIX!r}")
    return key


def _check_prefix(prefix: str) -> str:
    """A list prefix: like a key, but may be empty or end with '/'."""
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


class ArtifactStore(ABC):
    """Put and get artifacts by key; `location` names the store in messages."""

    location: str

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        """Store `data` under `key` (replacing it); returns the artifact's URI."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> str:
        """Store the file at `path` under `key`; returns the artifact's URI."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """The artifact's content; ArtifactNotFound when there is none."""

    @abstractmethod
    def get_file(self, key: str, dest: Path) -> Path:
        """Write the artifact to `dest` (a file, or a folder to put it in by name)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Sorted keys starting with `prefix` (a plain string prefix, as in S3)."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove the artifact; False when there was none."""

    @abstractmethod
    def uri(self, key: str) -> str: ...

    def put_json(self, key: str, obj: Any) -> str:
        data = json.dumps(obj, indent=2, ensure_ascii=False).encode()
        return self.put_bytes(key, data, content_type="application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def _not_found(self, key: str) -> ArtifactNotFound:
        return ArtifactNotFound(f"no artifact {key!r} in {self.location}")


def _target(key: str, dest: Path) -> Path:
    dest = Path(dest)
    return dest / PurePosixPath(key).name if dest.is_dir() else dest


def _atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    """Readers see the old file or the whole new one, never a partial write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{_TMP_SUFFIX}")
    # os.open (not mkstemp) so the file gets the umask's permissions, not 0600
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_chunks(stream: IO[bytes]) -> Iterable[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk


class LocalArtifactStore(ArtifactStore):
    """Artifacts as files under `root`, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.location = str(self.root)

    def __repr__(self) -> str:
        return f"LocalArtifactStore({self.location!r})"

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        _atomic_write(self.path(key), [data])
        return self.uri(key)

    def put_file(self, key: str, path: Path) -> str:
        target = self.path(key)
        with open(path, "rb") as src:
            _atomic_write(target, _read_chunks(src))
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        path = self.path(key)
        if not path.is_file():
            raise self._not_found(key)
        return path.read_bytes()

    def get_file(self, key: str, dest: Path) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise self._not_found(key)
        dest = _target(key, dest)
        with open(path, "rb") as src:
            _atomic_write(dest, _read_chunks(src))
        return dest

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> bool:
        path = self.path(key)
        if not path.is_file():
            return False
        path.unlink()
        return True

    def list(self, prefix: str = "") -> list[str]:
        _check_prefix(prefix)
        base = self.root / prefix.rpartition("/")[0]  # only walk the folder the prefix is in
        if not base.is_dir():
            return []
        keys = (
            path.relative_to(self.root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.endswith(_TMP_SUFFIX)
        )
        return sorted(key for key in keys if key.startswith(prefix))

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()


class S3ArtifactStore(ArtifactStore):
    """Artifacts as objects under `prefix` in an S3 (or S3-compatible) bucket.

    `client` is any boto3 S3 client; the store never creates buckets.
    """

    page_size = 1000  # keys per list request (S3's maximum)

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        if not bucket:
            raise ArtifactError("S3 artifact store needs a bucket name")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.location = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._bucket_seen = False

    def __repr__(self) -> str:
        return f"S3ArtifactStore({self.location!r})"

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        extra = {"ContentType": content_type} if content_type else {}
        self._call("put", key, "put_object", Key=self.object_key(key), Body=data, **extra)
        return self.uri(key)

    def put_file(self, key: str, path: Path) -> str:
        content_type = mimetypes.guess_type(key)[0]
        extra = {"ContentType": content_type} if content_type else {}
        with open(path, "rb") as body:
            self._call("put", key, "put_object", Key=self.object_key(key), Body=body, **extra)
        return self.uri(key)

    def get_bytes(self, key: str) -> bytes:
        # closing(), not `with body`: StreamingBody.__enter__ hands back the raw urllib3 stream,
        # which skips botocore's check that the whole object arrived
        with closing(self._get(key)) as body:
            return body.read()

    def get_file(self, key: str, dest: Path) -> Path:
        dest = _target(key, dest)
        with closing(self._get(key)) as body:
            _atomic_write(dest, body.iter_chunks(_CHUNK))
        return dest

    def exists(self, key: str) -> bool:
        try:
            self._call("head", key, "head_object", Key=self.object_key(key), missing_ok=True)
        except _Missing:
            self._check_bucket(key)  # HEAD answers a bare 404 for a missing bucket too
            return False
        return True

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        self._call("delete", key, "delete_object", Key=self.object_key(key))
        return True

    def list(self, prefix: str = "") -> list[str]:
        _check_prefix(prefix)
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + prefix, PaginationConfig={"PageSize": self.page_size}
        )
        try:
            keys = [obj["Key"][len(base) :] for page in pages for obj in page.get("Contents", [])]
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc, "list", prefix) from exc
        return sorted(key for key in keys if key and not key.endswith("/"))  # no folder markers

    def _get(self, key: str) -> Any:
        try:
            response = self._call(
                "get", key, "get_object", Key=self.object_key(key), missing_ok=True
            )
        except _Missing as exc:
            raise self._not_found(key) from exc.__cause__
        return response["Body"]

    def _check_bucket(self, key: str) -> None:
        if self._bucket_seen:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            code = "NoSuchBucket" if _code(exc) in _MISSING_CODES else None
            raise self._error(exc, "head", key, code) from exc
        self._bucket_seen = True

    def _call(self, action: str, key: str, method: str, missing_ok: bool = False, **kw: Any) -> Any:
        """`client.method(Bucket=..., **kw)` with AWS errors turned into ArtifactError (or
        _Missing for a missing object, when `missing_ok`)."""
        try:
            result = getattr(self.client, method)(Bucket=self.bucket, **kw)
        except (ClientError, BotoCoreError) as exc:
            if missing_ok and _code(exc) in _MISSING_CODES:
                raise _Missing from exc
            raise self._error(exc, action, key) from exc
        self._bucket_seen = True
        return result

    def _error(
        self, exc: Exception, action: str, key: str, code: str | None = None
    ) -> ArtifactError:
        code = code or _code(exc)
        hint = _HINTS.get(code, "check the bucket name, credentials and endpoint_url")
        return ArtifactError(
            f"S3 {action} of {key!r} in {self.location} failed (bucket {self.bucket!r}): "
            f"{code}: {exc}. Fix: {hint}"
        )


_MISSING_CODES = ("NoSuchKey", "404", "NotFound")


class _Missing(Exception):
    """Internal: the object (or, for HEAD, possibly the bucket) is not there."""


_ACCESS_HINT = (
    "the credentials must allow s3:GetObject, s3:PutObject and s3:ListBucket on the bucket "
    "(without ListBucket, S3 answers 403 for missing keys)"
)
_HINTS = {
    "NoSuchBucket": "create the bucket, or point the artifacts location at an existing one",
    "AccessDenied": _ACCESS_HINT,
    "403": _ACCESS_HINT,
    "Forbidden": _ACCESS_HINT,
    "InvalidAccessKeyId": "check AWS_ACCESS_KEY_ID (or the profile) for this endpoint",
    "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY (or the profile) for this endpoint",
    "NoCredentialsError": "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or an AWS profile",
    "EndpointConnectionError": "check endpoint_url / AWS_ENDPOINT_URL and that the server is up",
    "PermanentRedirect": "set region_name to the bucket's region",
    "AuthorizationHeaderMalformed": "set region_name to the bucket's region",
}


def _code(exc: Exception) -> str:
    """The AWS error code of a ClientError, else the botocore exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return str(error.get("Code") or status)
    return type(exc).__name__


def parse_location(value: str) -> tuple[str, str, str]:
    """("s3", bucket, prefix) for "s3://bucket/prefix"; ("local", folder, "") for a path or
    "" (the default folder, `$SPOTIFY_ASSETS_HOME/artifacts`)."""
    value = value.strip()
    if value.startswith("s3://"):
        bucket, _, prefix = value.removeprefix("s3://").partition("/")
        if not bucket:
            raise ArtifactError(f"artifacts location {value!r} names no bucket (s3://BUCKET/...)")
        return "s3", bucket, prefix.strip("/")
    if value.startswith("file://"):
        value = value.removeprefix("file://")
    elif "://" in value:
        raise ArtifactError(
            f"artifacts location {value!r}: unsupported scheme; use a folder or s3://bucket/prefix"
        )
    folder = Path(value).expanduser() if value else home_dir() / "artifacts"
    return "local", str(folder), ""


def store_from_settings() -> ArtifactStore:
    """The store SPOTIFY_ASSETS_ARTIFACTS names (a folder, or S3 through boto3)."""
    kind, where, prefix = parse_location(settings().artifacts)
    if kind == "local":
        return LocalArtifactStore(Path(where))
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=settings().aws_endpoint_url or None,
        region_name=settings().aws_region or None,
    )
    return S3ArtifactStore(client, where, prefix)
