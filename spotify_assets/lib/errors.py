"""The one base class of errors a user can fix by changing what they gave us.

`InputError`: bad input a user can fix; the message names the input and the remedy (a file that
is not a history export, an unknown bundle name, a time zone that does not exist, too little
history for a retrain). Trying again with the same input fails the same way, so the Dagster
layer turns an InputError into one failure that is not retried
(`spotify_assets.defs.failures`); every other exception may be transient and keeps the step's
retry policy.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input a user can fix: the message names the input and the remedy."""
