"""Run config for every job the CLI, sensors and schedules launch, built in one place from the
assets' own Config classes: a renamed or mistyped field fails here, when the config is built,
not as a run that Dagster refuses (and no hand-written `{"ops": …}` dict elsewhere can drift).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from spotify_assets.defs.catalog.assets import CatalogConfig
from spotify_assets.defs.listening.history import HistoryConfig
from spotify_assets.defs.listening.models import ModelsConfig
from spotify_assets.defs.matching.assets import (
    MatchConfigDagster,
    MatchEvaluationConfig,
    ProfilesConfig,
)
from spotify_assets.defs.playlists.assets import CandidatesConfig, PlaylistsConfig
from spotify_assets.lib.people import CATALOG_PLAYLISTS


def catalog(path: str, fmt: str = "auto") -> dg.RunConfig:
    """`load_catalog` / `refresh_catalog`: one catalog file in one format."""
    return dg.RunConfig(ops={"catalog_tracks": CatalogConfig(path=path, format=fmt)})


def history(source: str, timezone: str = "") -> dg.RunConfig:
    """`import_history` / `update`: where the plays come from (sample | api | none | a path)."""
    return dg.RunConfig(ops={"listening_history": HistoryConfig(source=source, timezone=timezone)})


def retrain(bootstrap: int) -> dg.RunConfig:
    """`full_retrain`: bootstrap resamples for the CIs."""
    return dg.RunConfig(ops={"listening_models": ModelsConfig(bootstrap=bootstrap)})


def playlists(source: str, path: str = "") -> dg.RunConfig:
    """`load_playlists`: sample | catalog | export (with `path`) | spotify."""
    return dg.RunConfig(ops={"playlists": PlaylistsConfig(source=source, path=path)})


def candidates(list_name: str, source: str) -> dg.RunConfig:
    """`load_candidates`: which list (liked | recent | file) from where."""
    return dg.RunConfig(ops={"candidates": CandidatesConfig(list=list_name, source=source)})


def matching(
    steps: Iterable[str], person: str, candidates_list: str | None, catalog_playlists: bool
) -> dg.RunConfig:
    """`suggest_playlists` / `match_bundle` / `evaluate_matching` for the configured `steps`:
    sort `person`'s `candidates_list` into their own playlists, or into the catalog's (which
    belong to no one) with `catalog_playlists`."""
    scope = CATALOG_PLAYLISTS if catalog_playlists else person
    ops: dict[str, dg.Config] = {}
    for step in steps:
        if step == "playlist_profiles":
            ops[step] = ProfilesConfig(person=scope)
        elif step == "match_results":
            if candidates_list is None:
                raise ValueError("match_results needs a candidates list")
            ops[step] = MatchConfigDagster(
                person=person,
                list=candidates_list,
                playlists="catalog" if catalog_playlists else "own",
            )
        elif step == "match_evaluation":
            ops[step] = MatchEvaluationConfig(person=scope)
    return dg.RunConfig(ops=ops)
