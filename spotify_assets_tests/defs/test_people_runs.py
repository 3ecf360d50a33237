"""A person in Dagster: forgetting them deletes their runs (by partition, tag or config) and
their partition, and nobody else's; an older instance's `listener` keys are adopted."""

import logging

import dagster as dg

from spotify_assets.cli import OneLineRetries
from spotify_assets.defs.partitions import people
from spotify_assets.defs.people import (
    LEGACY_PARTITIONS,
    adopt_legacy_partitions,
    forget_in_dagster,
    runs_of,
)


class NoteConfig(dg.Config):
    person: str = ""
    path: str = ""


@dg.asset(partitions_def=people)
def personal_note(context: dg.AssetExecutionContext) -> None:
    context.log.info(f"note for {context.partition_key}")


@dg.asset
def bundle_note(config: NoteConfig) -> None:
    """A bundle-level step whose config names the person (as match_results does)."""


def test_forget_deletes_the_persons_runs_and_partition_only(instance):
    instance.add_dynamic_partitions(people.name, ["ana", "ben"])
    for person in ("ana", "ben"):
        assert dg.materialize([personal_note], instance=instance, partition_key=person).success
    tagged = dg.materialize([bundle_note], instance=instance, tags={"person": "ana"},
                            run_config={"ops": {"bundle_note": {"config": {"path": "/x"}}}})  # fmt: skip
    named = dg.materialize(
        [bundle_note], instance=instance,
        run_config={"ops": {"bundle_note": {"config": {"person": "ana", "path": "/home/ana"}}}},
    )  # fmt: skip
    bens = {r.dagster_run.run_id for r in instance.get_run_records()} - set(runs_of(instance, "ana"))
    assert tagged.run_id in runs_of(instance, "ana") and named.run_id in runs_of(instance, "ana")
    assert len(runs_of(instance, "ana")) == 3 and len(bens) == 1

    assert forget_in_dagster(instance, "ana") == 3
    left = {r.dagster_run.run_id for r in instance.get_run_records()}
    assert left == bens
    assert instance.get_dynamic_partitions(people.name) == ["ben"]
    for run_id in (tagged.run_id, named.run_id):
        assert not instance.all_logs(run_id)  # the event log goes with the run


def test_an_older_instances_listener_partitions_become_people(instance):
    instance.add_dynamic_partitions(LEGACY_PARTITIONS, ["ana", "ben"])
    instance.add_dynamic_partitions(people.name, ["ben"])
    assert adopt_legacy_partitions(instance) == ["ana"]
    assert sorted(instance.get_dynamic_partitions(people.name)) == ["ana", "ben"]
    assert adopt_legacy_partitions(instance) == []


def test_a_lost_instance_database_is_one_line_per_retry(caplog):
    error = Exception(
        '(psycopg2.OperationalError) connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused\n\tIs the server running on that host?\n\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    root = logging.getLogger()
    quiet = OneLineRetries()
    root.addFilter(quiet)
    try:
        with caplog.at_level(logging.WARNING):
            for _ in range(2):
                logging.warning("Retrying failed database connection: %s", error)
    finally:
        root.removeFilter(quiet)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "the Dagster instance's database does not answer (connection to server at "
        f'"127.0.0.1", port 5432 failed: Connection refused); retrying, attempt {n}'
        for n in (1, 2)
    ]
