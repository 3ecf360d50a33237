"""One world for the web app's tests (two people, one database), built once per package: the
page tests read and decide on it, the browser tests drive the same pages."""

import dagster as dg
import pytest

from spotify_assets.cli.runtime import query_embedder
from spotify_assets_tests.web.world import BUNDLE, build


@pytest.fixture(scope="package")
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="package")
def world(tmp_path_factory, server_url, instance):
    return build(tmp_path_factory.mktemp("web"), server_url, instance)


@pytest.fixture(scope="package")
def embedder():
    return query_embedder(BUNDLE)
