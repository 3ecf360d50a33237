"""A person in Dagster: their `person` partition, and forgetting their runs.

A person's runs are those of their partition (imports, loads, retrains), those tagged with
them (`person`: matching and embedding runs the CLI launches for them) and those whose run
config names them (a UI launch of `match_results` with `person: ana`). Their configs hold what
the person typed (an export's path), their event logs what the steps said: `forget` deletes
these runs whole (Dagster deletes a run's event log with it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from spotify_assets.defs.partitions import people

PERSON_TAG = "person"
LEGACY_PARTITIONS = "listener"  # the person partition's name before migration 0013
_CONFIG_KEYS = ("person", "owner", "user")  # config fields that named a person, then and now


def person_tags(person: str) -> dict[str, str]:
    return {PERSON_TAG: person}


def _config_people(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _CONFIG_KEYS and isinstance(item, str):
                yield item
            else:
                yield from _config_people(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _config_people(item)


def runs_of(instance: dg.DagsterInstance, person: str) -> list[str]:
    """Ids of the runs that are the person's (see the module docstring)."""
    found = []
    for record in instance.get_run_records():
        run = record.dagster_run
        tags = run.tags or {}
        if (
            tags.get("dagster/partition") == person
            or tags.get(PERSON_TAG) == person
            or person in set(_config_people(run.run_config or {}))
        ):
            found.append(run.run_id)
    return found


def forget_in_dagster(instance: dg.DagsterInstance, person: str) -> int:
    """Delete the person's runs (with their event logs) and their partition; returns the runs
    deleted."""
    runs = runs_of(instance, person)
    for run_id in runs:
        instance.delete_run(run_id)
    for name in (people.name, LEGACY_PARTITIONS):
        if instance.has_dynamic_partition(name, person):
            instance.delete_dynamic_partition(name, person)
    return len(runs)


def adopt_legacy_partitions(instance: dg.DagsterInstance) -> list[str]:
    """People an older instance kept as `listener` partitions become `person` partitions."""
    old = set(instance.get_dynamic_partitions(LEGACY_PARTITIONS))
    missing = sorted(old - set(instance.get_dynamic_partitions(people.name)))
    if missing:
        instance.add_dynamic_partitions(people.name, missing)
    return missing
