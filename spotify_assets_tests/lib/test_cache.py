"""VersionedCache: a value is reused only at the version it was computed at; concurrent askers
of a missing value wait for one computation; the least recently used go beyond the size."""

import threading
import time

import pytest

from spotify_assets.lib.cache import VersionedCache


def test_a_value_is_recomputed_when_its_version_changes():
    cache: VersionedCache[int] = VersionedCache(size=4)
    calls = []
    compute = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert cache.get("k", (1, 10), compute) == 1
    assert cache.get("k", (1, 10), compute) == 1
    assert cache.get("k", (2, 11), compute) == 2
    assert cache.get("k", (1, 10), compute) == 3  # an older version is not kept beside it
    assert cache.computed == 3


def test_concurrent_askers_wait_for_one_computation():
    cache: VersionedCache[str] = VersionedCache(size=4)
    started = []

    def slow() -> str:
        started.append(1)
        time.sleep(0.2)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("k", 1, slow)))
               for _ in range(5)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["value"] * 5 and len(started) == 1


def test_the_least_recently_used_go_first():
    cache: VersionedCache[str] = VersionedCache(size=2)
    cache.get("a", 1, lambda: "a")
    cache.get("b", 1, lambda: "b")
    cache.get("a", 1, lambda: "again")  # a is used: b is the oldest now
    cache.get("c", 1, lambda: "c")
    assert cache.get("a", 1, lambda: "recomputed") == "a"
    assert cache.get("b", 1, lambda: "recomputed") == "recomputed"


def test_a_failed_computation_keeps_nothing():
    cache: VersionedCache[str] = VersionedCache(size=2)

    def fail() -> str:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get("k", 1, fail)
    assert cache.get("k", 1, lambda: "ok") == "ok"
