"""The artifact store as a Dagster resource: a local folder by default, S3 via dagster-aws."""

from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from spotify_assets.defs.failures import input_failure
from spotify_assets.lib.artifacts import (
    ArtifactNotFound,
    ArtifactStore,
    LocalArtifactStore,
    S3ArtifactStore,
    parse_location,
)
from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.errors import InputError
from spotify_assets.settings import settings


class ArtifactStoreResource(dg.ConfigurableResource):
    """Where models and reports go. `location`: a folder or `s3://bucket/prefix`; empty:
    `$SPOTIFY_ASSETS_ARTIFACTS`, else `$SPOTIFY_ASSETS_HOME/artifacts`. For S3, `endpoint_url`
    (empty: `$AWS_ENDPOINT_URL`) points at an S3-compatible server; credentials and a missing
    `region_name` come from boto3's usual chain."""

    location: str = ""
    region_name: str = ""
    endpoint_url: str = ""
    _store: ArtifactStore | None = PrivateAttr(default=None)

    def get(self) -> ArtifactStore:
        if self._store is None:
            location = self.location or settings().artifacts
            kind, where, prefix = parse_location(location)
            if kind == "local":
                self._store = LocalArtifactStore(Path(where))
            else:
                self._store = S3ArtifactStore(self._s3_client(), where, prefix)
        return self._store

    def where(self) -> str:
        return self.get().location

    def _s3_client(self):
        from dagster_aws.s3 import S3Resource  # boto3: a second to import, S3 only

        endpoint = self.endpoint_url or settings().aws_endpoint_url
        region = self.region_name or settings().aws_region
        s3 = S3Resource(region_name=region or None, endpoint_url=endpoint or None)
        return s3.get_client()


def artifact_store_resource() -> ArtifactStoreResource:
    """Empty fields: the settings (SPOTIFY_ASSETS_ARTIFACTS, AWS_REGION, AWS_ENDPOINT_URL)."""
    return ArtifactStoreResource()


class DocumentIOManager(dg.ConfigurableIOManager):
    """Asset outputs that are JSON documents (a clustering, a retrain's summary, predictions),
    kept in the artifact store at `assets/<asset>/<partition>.json`, so a later run (an
    `update` after the daily retrain) loads what an earlier one made, locally or from S3."""

    artifacts: ArtifactStoreResource

    @staticmethod
    def key(context: dg.OutputContext | dg.InputContext) -> str:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        return document_key(context.asset_key.to_user_string(), partition)

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        if obj is None:
            return
        uri = self.artifacts.get().put_json(self.key(context), to_jsonable(obj))
        context.add_output_metadata({"document": dg.MetadataValue.url(uri)})

    def load_input(self, context: dg.InputContext) -> object:
        try:
            return self.artifacts.get().get_json(self.key(context))
        except ArtifactNotFound as exc:
            asset = context.asset_key.to_user_string()
            where = f" for {context.asset_partition_key!r}" if context.has_asset_partitions else ""
            raise input_failure(
                InputError(
                    f"{asset} has not been materialized{where} yet: run the job that makes it "
                    f"first (for listening: `spotify-assets listening retrain`) ({exc})"
                )
            ) from exc


def document_key(asset: str, partition: str | None = None) -> str:
    """Where `DocumentIOManager` keeps an asset's document (for readers outside a run)."""
    return f"assets/{asset}/{partition or 'all'}.json"


def document_io_manager() -> DocumentIOManager:
    return DocumentIOManager(artifacts=artifact_store_resource())


def artifact_run_resources() -> dict[str, dg.ConfigurableResource]:
    """These resources by the keys assets ask for (built alone by cli/runtime.resources too)."""
    return {"artifacts": artifact_store_resource(), "documents": document_io_manager()}


@dg.definitions
def artifact_resources() -> dg.Definitions:
    return dg.Definitions(resources=artifact_run_resources())
