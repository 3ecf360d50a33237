import dagster as dg

from spotify_assets.lib.bundles import load_bundles

# One partition per model bundle, keyed by its hex hash (see lib/bundles.py).
model_bundles = dg.DynamicPartitionsDefinition(name="model_bundle")


def bundle_tags(bundle_hash: str) -> dict[str, str]:
    """Tags naming the bundle of a run, so runs read "minilm-offline", not a bare hash."""
    return {"bundle": load_bundles().name_of(bundle_hash)}


# Runs of a bundle-partitioned job carry the bundle's name as a tag (UI launches included).
BUNDLE_RUN_CONFIG = dg.PartitionedConfig(
    partitions_def=model_bundles,
    run_config_for_partition_key_fn=lambda _key: {},
    tags_for_partition_key_fn=bundle_tags,
)

# Steps that talk to a database, a model server or an API retry transient failures (a dropped
# connection, a 5xx after the client's own retries); their writes are idempotent, so a retry
# only does the work the failed attempt had not committed.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)

# One partition per person, keyed by the name used with `--person` and added on import like
# bundles: their history, models and dashboard, and their playlists and candidate lists, so
# several people live side by side and the UI shows whose data each run touched.
people = dg.DynamicPartitionsDefinition(name="person")


def ensure_person_partition(instance: dg.DagsterInstance, person: str) -> bool:
    """Add the person as a `person` partition unless they are one; True when added."""
    if instance.has_dynamic_partition(people.name, person):
        return False
    instance.add_dynamic_partitions(people.name, [person])
    return True


# A bundle's matching reads the playlists and candidate lists of every person (its config
# names whose): each bundle partition depends on all person partitions.
EVERY_PERSON = dg.AllPartitionMapping()


def ensure_bundle_partition(instance: dg.DagsterInstance, bundle_hash: str) -> bool:
    """Add the bundle as a `model_bundle` partition unless it is one; True when added."""
    if instance.has_dynamic_partition(model_bundles.name, bundle_hash):
        return False
    instance.add_dynamic_partitions(model_bundles.name, [bundle_hash])
    return True
