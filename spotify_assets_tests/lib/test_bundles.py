import dataclasses

import pytest

from spotify_assets.lib import versions
from spotify_assets.lib.bundles import BundleError, load_bundles, validate_bundle_hash
from spotify_assets_tests.tiny_models import write_bundles_file


def test_configured_bundles_have_distinct_hex_hashes():
    catalog = load_bundles()
    assert catalog.default == "minilm-offline"
    hashes = [b.hash for b in catalog.bundles.values()]
    assert len(set(hashes)) == len(hashes) >= 2
    assert all(validate_bundle_hash(h) == h for h in hashes)
    e5 = catalog.by_name("e5-large-instruct")
    assert e5.embedding.dims == 1024 and e5.reranker.model == "cross-encoder/ms-marco-MiniLM-L6-v2"
    assert e5.embedding.format("sad songs", "query").startswith("Instruct: ")
    assert e5.embedding.format("sad songs", "query").endswith("\nQuery: sad songs")
    assert e5.embedding.format("a track", "document") == "a track"


def test_hash_follows_what_shapes_outputs_not_the_name(monkeypatch):
    bundle = load_bundles().default_bundle
    renamed = dataclasses.replace(bundle, name="another name", description="x")
    assert renamed.hash == bundle.hash
    wider = dataclasses.replace(bundle, embedding=dataclasses.replace(bundle.embedding, dims=768))
    assert wider.hash != bundle.hash
    before = bundle.hash
    monkeypatch.setattr(versions, "MATCHING_ALGO_VERSION", versions.MATCHING_ALGO_VERSION + 1)
    assert bundle.hash != before


def test_extra_bundles_file_adds_bundles(tmp_path, monkeypatch):
    path = write_bundles_file(tmp_path / "bundles.yaml", tmp_path, name="tiny", dims=32)
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(path))
    catalog = load_bundles()
    tiny = catalog.by_name("tiny")
    assert catalog.by_hash(tiny.hash) is tiny
    assert "minilm-offline" in catalog.bundles


@pytest.mark.parametrize("bad", ["", "abc", "C2604C156E3E35BF", "c2604c156e3e35b'; drop", "a,b|c"])
def test_partition_keys_must_be_hex(bad):
    with pytest.raises(BundleError):
        validate_bundle_hash(bad)


def test_unknown_hash_is_a_clear_error():
    with pytest.raises(BundleError, match="no configured bundle has hash 0000000000000000"):
        load_bundles().by_hash("0000000000000000")
