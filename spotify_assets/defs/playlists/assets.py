"""playlists (+ ordered memberships) and candidates (the songs to sort): one partition per
person (the `person` partition their listening history uses too)."""

from functools import partial
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from spotify_assets.defs import tables
from spotify_assets.defs.catalog.assets import catalog_tracks
from spotify_assets.defs.failures import input_errors
from spotify_assets.defs.partitions import TRANSIENT_RETRY, people
from spotify_assets.defs.resources import DatabaseResource, SpotifyResource
from spotify_assets.lib.catalog.known import known_in
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.export.library import LikedSongs, read_liked
from spotify_assets.lib.playlists.ingest import store_candidates, store_playlists
from spotify_assets.lib.playlists.sources import (
    ITEM_FRAME,
    PlaylistData,
    export_playlists,
    ids_from_csv,
    recent_items,
    sample_playlists,
)
from spotify_assets.lib.reports import CandidatesReport, PlaylistsReport
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store.matching import CandidateRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.settings import home_dir

PLAYLIST_SOURCES = ("sample", "catalog", "export", "spotify")
CANDIDATE_LISTS = ("liked", "recent", "file")
OWNERS = ["team:matching"]


class PlaylistsConfig(dg.Config):
    source: str = Field(
        default="sample",
        description="sample (generated) | catalog (playlists that came with the catalog file, "
        "e.g. TidyTuesday) | export (a privacy export's Playlist1.json, folder or zip) | spotify",
    )
    path: str = Field(
        default="",
        description="source=export: Playlist1.json, a folder or a zip; source=sample: a sample "
        "playlists.json (empty: the generated sample's).",
    )


def _spotify_playlists(spotify: SpotifyResource, person: str) -> PlaylistData:
    from spotify_assets.lib.spotify.convert import memberships_frame, playlists_frame

    with spotify.client() as client:
        playlists = client.user_playlists()
        frames = [memberships_frame(p["id"], client.playlist_tracks(p["id"])) for p in playlists]
    memberships = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["playlist_id", "track_id", "position"]
    )  # fmt: skip
    frame = playlists_frame(playlists, person)
    frame = frame.rename(columns={"snapshot_id": "snapshot"})
    return PlaylistData(frame, memberships, 0, len(memberships))


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="playlists",
    kinds={"python", "postgres"},
    owners=OWNERS,
    metadata=tables.PLAYLISTS,
    partitions_def=people,
    deps=[catalog_tracks],
    description="A person's playlists and their ordered members (tracks the catalog knows, in "
    "`playlist_tracks`).",
)
def playlists(
    context: dg.AssetExecutionContext,
    config: PlaylistsConfig,
    database: DatabaseResource,
    spotify: SpotifyResource,
) -> dg.MaterializeResult:
    db = database.get()
    person = context.partition_key  # the person
    with input_errors(nothing_written=True):
        if config.source not in PLAYLIST_SOURCES:
            raise InputError(
                f"unknown playlist source {config.source!r}; use one of {PLAYLIST_SOURCES}"
            )
        if config.source == "catalog":
            with db.connect() as conn:
                count, members = PlaylistRepository(conn).person_counts(None)
                stored, _ = PlaylistRepository(conn).counts()
            context.log.info(f"playlists: {count} playlists came with the catalog")
            line = PlaylistsReport(
                playlists=count, memberships=members, items=0, match_rate=None,
                library_tracks_added=0, files=[],
            )  # fmt: skip
            return dg.MaterializeResult(
                metadata={"source": "catalog", **line.to_metadata(), **tables.rows(stored)}
            )
        if config.source == "sample":
            data = sample_playlists(
                Path(config.path) if config.path else ensure_sample(home_dir()).playlists_json
            )
        elif config.source == "export":
            if not config.path:
                raise InputError("source=export needs `path` (Playlist1.json, folder or zip)")
            data = export_playlists(Path(config.path), partial(known_in, db), person)
        else:
            data = _spotify_playlists(spotify, person)
    report = store_playlists(db, data, person, config.source)
    with db.connect() as conn:
        stored, _ = PlaylistRepository(conn).counts()
    context.log.info(
        f"playlists[{config.source}]: {report.playlists} playlists, {report.memberships} "
        f"memberships ({report.memberships_written} written, {report.memberships_removed} "
        f"removed), {report.library_tracks_added} new library tracks (songs no catalog file "
        f"has), {report.match_rate:.1%} of items in the catalog"
    )
    metadata = report.as_dict()
    line = PlaylistsReport(
        playlists=report.playlists, memberships=report.memberships, items=report.items,
        match_rate=report.match_rate, library_tracks_added=report.library_tracks_added,
        files=metadata.pop("accounts"),
    )  # fmt: skip
    return dg.MaterializeResult(metadata={**metadata, **line.to_metadata(), **tables.rows(stored)})


class CandidatesConfig(dg.Config):
    list: str = Field(default="liked", description="liked | recent | file")
    source: str = Field(
        default="sample",
        description="sample (the generated library/history) | spotify (the Web API) | a path: "
        "YourLibrary.json for liked, a streaming-history file/folder for recent, a CSV for file",
    )
    recent_days: int = 14


def _candidate_songs(config: CandidatesConfig, spotify: SpotifyResource) -> LikedSongs:
    """The songs on the list as items (artist, title, album, track_id), most relevant first;
    for liked songs from an export, with its file's account and rejected entries."""
    if config.source == "spotify":
        with spotify.client() as client:
            if config.list == "liked":
                tracks = [item["track"] for item in client.liked_tracks() if item.get("track")]
            else:
                items, _ = client.recently_played()
                tracks = [i["track"] for i in items if i.get("track")]
        return LikedSongs(pd.DataFrame(
            [{"artist": (t.get("artists") or [{}])[0].get("name"), "title": t.get("name"),
              "album": (t.get("album") or {}).get("name"), "track_id": t.get("id")}
             for t in tracks],
            columns=list(ITEM_FRAME), dtype=object,
        ).drop_duplicates("track_id"))  # fmt: skip
    if config.source == "sample":
        sample = ensure_sample(home_dir())
        path = sample.library_json if config.list == "liked" else sample.history_dir
    else:
        path = Path(config.source)
    if config.list == "liked":
        return read_liked(path)
    if config.list == "recent":
        return LikedSongs(recent_items(path, config.recent_days))
    return LikedSongs(pd.DataFrame({"track_id": ids_from_csv(path)}, dtype=object))


@dg.asset(
    retry_policy=TRANSIENT_RETRY,
    group_name="playlists",
    kinds={"python", "postgres"},
    owners=OWNERS,
    metadata=tables.CANDIDATES,
    partitions_def=people,
    deps=[catalog_tracks],
    description="The songs to sort into playlists: liked songs, recent plays or a CSV of ids.",
)
def candidates(
    context: dg.AssetExecutionContext,
    config: CandidatesConfig,
    database: DatabaseResource,
    spotify: SpotifyResource,
) -> dg.MaterializeResult:
    with input_errors(nothing_written=True):
        if config.list not in CANDIDATE_LISTS:
            raise InputError(f"unknown list {config.list!r}; use one of {CANDIDATE_LISTS}")
        songs = _candidate_songs(config, spotify)
    report = store_candidates(
        database.get(), context.partition_key, config.list, songs.items, songs.accounts,
        songs.rejected,
    )  # fmt: skip
    with database.get().connect() as conn:
        table_rows = CandidateRepository(conn).count()
    context.log.info(
        f"candidates[{config.list}]: {report.stored} songs to sort ({report.in_catalog} in the "
        f"catalog, {report.library_tracks_added} new library tracks), {report.not_in_catalog} "
        "dropped (an id with no name the catalog lacks)"
    )
    return dg.MaterializeResult(
        metadata={
            "list": config.list,
            **CandidatesReport(
                songs=report.stored,
                in_catalog=report.in_catalog,
                library_tracks_added=report.library_tracks_added,
                not_in_catalog=report.not_in_catalog,
                files=list(report.accounts),
            ).to_metadata(),
            "source": config.source,
            **tables.rows(table_rows),
        }
    )
