"""The one place a domain error becomes a Dagster failure.

An `InputError` (spotify_assets/lib/errors.py) is bad input a person can fix: retrying the step
with the same input fails the same way, so it becomes one `dg.Failure` that is not retried,
whose description is the error's message (which names the input and the remedy). Every other
exception propagates unchanged: it may be transient (a dropped connection, a 5xx), and the
step's RetryPolicy retries it.

    with input_errors(bundle.name, nothing_written=True):
        report = update_track_embeddings(...)
    ...
    raise InputError("no plays for 'me': import a history first")  # inside such a block
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg

from spotify_assets.lib.errors import InputError
from spotify_assets.lib.models.resolve import ModelNotAvailable

# Errors that retrying cannot fix. ModelNotAvailable (a model that is not on this machine, with
# the remedy in its message) is one too; it is listed here because lib/models/resolve.py keeps
# its RuntimeError base for now.
NOT_RETRIED: tuple[type[Exception], ...] = (InputError, ModelNotAvailable)


def input_failure(
    exc: Exception,
    where: str = "",
    *,
    nothing_written: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> dg.Failure:
    """The non-retried failure for `exc`: "WHERE: message[; nothing was written]"."""
    description = f"{where}: {exc}" if where else str(exc)
    if nothing_written:
        description += "; nothing was written"
    return dg.Failure(allow_retries=False, description=description, metadata=metadata)


@contextmanager
def input_errors(
    where: str = "",
    *,
    nothing_written: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """Inside this block an InputError fails the step once (see `input_failure`); anything
    else propagates as it is, so the step's RetryPolicy decides."""
    try:
        yield
    except NOT_RETRIED as exc:
        raise input_failure(exc, where, nothing_written=nothing_written, metadata=metadata) from exc
