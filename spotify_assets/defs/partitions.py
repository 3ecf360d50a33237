import dagster as dg

# One partition per model bundle, keyed by its hex hash (see lib/bundles.py).
model_bundles = dg.DynamicPartitionsDefinition(name="model_bundle")
