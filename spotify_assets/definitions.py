"""The Dagster code location: every definition under `spotify_assets/defs/`.

Each asset links to the function that computes it (`dagster/code_references`, shown in the UI
as "Code references"): the definitions loaded from the defs folder are rebuilt with their assets
passed through `dg.with_source_code_references`, everything else as loaded.
"""

import functools
import warnings
from pathlib import Path

import dagster as dg


def with_code_references(loaded: dg.Definitions) -> dg.Definitions:
    """`loaded`, with a local source reference (file and line) on every asset."""
    # The defs folder yields an asset once per module that imports it: keep one of each, or the
    # copies with_source_code_references makes would be duplicate keys.
    assets = list({id(a): a for a in loaded.assets or []}.values())
    with warnings.catch_warnings():  # the code-reference API is beta: say so once, not per asset
        warnings.simplefilter("ignore", dg.BetaWarning)
        referenced = dg.with_source_code_references(assets)
    fields = {name: getattr(loaded, name) for name in dg.Definitions._fields}
    return dg.Definitions(**{**fields, "assets": referenced})


@functools.cache
def _loaded() -> dg.Definitions:
    """Built once per process: a CLI command launches several runs, and Dagster reconstructs
    the definitions for each (about 2 s a time, most of it the components' plugin scan)."""
    return with_code_references(dg.load_from_defs_folder(path_within_project=Path(__file__).parent))


@dg.definitions
def defs() -> dg.Definitions:
    return _loaded()
