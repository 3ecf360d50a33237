"""The catalog stage's automation: `load_catalog` (the CLI's and the UI's), and a sensor that
watches the catalog file: when it changes, load it and embed what is new, per bundle."""

import json
from pathlib import Path

import dagster as dg

from spotify_assets.defs import run_config
from spotify_assets.defs.analyses.assets import track_analyses
from spotify_assets.defs.catalog.assets import catalog_source, catalog_tracks
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.partitions import BUNDLE_RUN_CONFIG, bundle_tags, model_bundles
from spotify_assets.lib.hashing import file_sha256

load_catalog_job = dg.define_asset_job(
    "load_catalog",
    selection=[catalog_tracks, track_analyses],
    description="Load a catalog file (config: catalog_tracks.path) and describe its tracks.",
)
refresh_catalog_job = dg.define_asset_job(
    "refresh_catalog",
    selection=[catalog_tracks, track_analyses, track_embeddings],
    config=BUNDLE_RUN_CONFIG,
    description="Load the catalog file and embed new or changed tracks for one bundle.",
)


def fingerprint(path: Path, previous: dict | None) -> dict:
    """Size, mtime and content hash; the hash is reused while size and mtime are unchanged,
    and it decides (a touched but identical file is not a change)."""
    stat = path.stat()
    if (
        previous
        and previous.get("size") == stat.st_size
        and previous.get("mtime_ns") == stat.st_mtime_ns
    ):
        return previous
    return {
        "path": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": file_sha256(path),
    }


@dg.sensor(
    jobs=[refresh_catalog_job],
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Catalog file ($SPOTIFY_ASSETS_CATALOG, else the sample) changed → one run per "
    "registered bundle: load, describe and embed only what is new.",
)
def catalog_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    path = Path(catalog_source(""))
    if not path.exists():
        return dg.SkipReason(f"catalog file {path} does not exist")
    previous = json.loads(context.cursor) if context.cursor else None
    current = fingerprint(path, previous)
    if (
        previous
        and previous.get("sha256") == current["sha256"]
        and previous.get("path") == current["path"]
    ):
        return dg.SkipReason(f"{path.name} unchanged")
    bundles = context.instance.get_dynamic_partitions(model_bundles.name)
    if not bundles:
        return dg.SkipReason("no model bundle is registered yet (the bundle sensor adds them)")
    config = run_config.catalog(str(path))
    digest = current["sha256"][:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                job_name=refresh_catalog_job.name,
                partition_key=bundle,
                run_key=f"catalog-{digest}-{bundle}",
                run_config=config,
                tags={"catalog_sha256": current["sha256"], **bundle_tags(bundle)},
            )
            for bundle in bundles
        ],
        cursor=json.dumps(current),
    )
