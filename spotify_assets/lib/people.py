"""A person: whose playlists, liked songs, plays, models and runs they are.

One concept, one name (`person`) in code, schema (`people.person`, every personal table's
`person` column), CLI (`--person`, with `--user` kept as an alias), Dagster partitions (the
`person` dynamic partition) and metadata. A person's key is a partition key and part of
artifact paths, so it stays plain.
"""

from __future__ import annotations

import re

from spotify_assets.lib.errors import InputError

DEFAULT_PERSON = "me"  # whose data a command means when it names nobody
# Whose playlists a matching run reads: a person's key, or CATALOG_PLAYLISTS for the playlists
# that came with a catalog file (TidyTuesday's), which belong to no one.
CATALOG_PLAYLISTS = ""
_PERSON_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


class PersonNameError(InputError, ValueError):
    """A person key that cannot be a partition key or a folder name."""


def check_person(name: str) -> str:
    """`name` when it can name a person: 1-64 letters, digits, '_', '.', '@', '+' or '-',
    starting with a letter or digit."""
    if not isinstance(name, str) or not _PERSON_KEY.match(name):
        raise PersonNameError(
            f"person name {name!r} is not allowed: use 1-64 letters, digits, '_', '.', '@', "
            "'+' or '-', starting with a letter or digit"
        )
    return name


def playlists_scope(person: str | None) -> str | None:
    """A config's "whose playlists" value as the store reads it: None for the catalog's."""
    return person or None
