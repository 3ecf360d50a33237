import dagster as dg

# One partition per model bundle, keyed by its hex hash (see lib/bundles.py).
model_bundles = dg.DynamicPartitionsDefinition(name="model_bundle")

# Steps that talk to a database, a model server or an API retry transient failures (a dropped
# connection, a 5xx after the client's own retries); their writes are idempotent, so a retry
# only does the work the failed attempt had not committed.
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL)

# One partition per listener (a person's history, models and dashboard), keyed by the name used
# with `--user`; added on import, like bundles.
listeners = dg.DynamicPartitionsDefinition(name="listener")
