"""Keep `track_analyses` in step with `tracks`: recompute only what changed (by content hash)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd

from spotify_assets.lib import versions
from spotify_assets.lib.analyses.describe import (
    DESCRIPTION_INPUTS,
    analyze,
    artist_style,
    content_hash,
)
from spotify_assets.lib.catalog.artists import (
    ArtistRefresh,
    profiles_of,
    refresh_artist_profiles,
    refresh_artists,
)
from spotify_assets.lib.catalog.library import LIBRARY_FORMAT
from spotify_assets.lib.search.lexical import refresh_track_search
from spotify_assets.lib.store.analyses import AnalysisRepository
from spotify_assets.lib.store.bulk import frame_rows
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.tracks import TrackRepository

log = logging.getLogger(__name__)


@dataclass
class AnalysisReport:
    tracks: int  # looked at: the new or changed ones (every track with `full`)
    written: int
    unchanged: int  # every stored track not (re)written: looked at or not
    extractor_version: int
    seconds: float
    examples: list[str]
    artists: ArtistRefresh | None = None  # the artist profiles the descriptions read
    with_artist_style: int = 0  # tracks described with their artist's style (labelled)
    name_words: int = 0  # tracks whose name words (search's lexical leg) were (re)built

    def as_dict(self) -> dict:
        return asdict(self)


def update_track_analyses(
    db: Database,
    batch_size: int = 5000,
    progress: Callable[[str], None] = log.info,
    full: bool = False,
) -> AnalysisReport:
    """Analyse new or changed tracks, in batches that each commit on their own.

    Only tracks marked as changed since the last run (migration 0024) and the tracks of
    artists whose catalog songs changed are looked at, so a person's import costs what it
    brought; `full` (or analyses of another extractor version) looks at every track. A killed
    run keeps the batches it committed and the marks: the rerun skips those by content hash.
    """
    started = time.perf_counter()
    with db.connect() as conn, conn.transaction():
        if not full:
            full = AnalysisRepository(conn).other_versions(versions.EXTRACTOR_VERSION)
        # descriptions read the artist profiles: bring them in step with the catalog first
        marked = TrackRepository(conn).stale_derived()
        if full:
            artists = refresh_artist_profiles(conn)
            touched: list[str] = []
        else:
            touched = _artists_touched(marked)
            artists = refresh_artists(conn, touched)
    progress(
        f"artist profiles: {artists.artists} artists from {artists.catalog_tracks} catalog "
        f"tracks ({artists.written} new or changed)"
    )
    columns = ["track_id", *DESCRIPTION_INPUTS]
    with db.connect() as conn:
        repo = TrackRepository(conn)
        if full:
            tracks = repo.frame(columns)
        else:  # the marked tracks, and every song of an artist whose profile was redone
            tracks = repo.of_artists_or_ids(columns, marked["track_id"].tolist(), touched)
        stored = AnalysisRepository(conn).content_hashes(None if full else tracks["track_id"])
        primary = [a[0] if a is not None and len(a) else None for a in tracks["artists"]]
        profiles = profiles_of(conn, primary)
    records = [
        dict(zip(tracks.columns, row, strict=True)) for row in frame_rows(tracks, tracks.columns)
    ]
    for record, profile in zip(records, profiles, strict=True):
        record["artist_profile"] = profile
    with_style = sum(artist_style(r) is not None for r in records)
    hashes = [content_hash(r) for r in records]
    todo = [r for r, h in zip(records, hashes, strict=True) if stored.get(r["track_id"]) != h]
    progress(f"track_analyses: {len(records)} tracks, {len(todo)} new or changed")

    written = 0
    examples: list[str] = []
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        results = [analyze(r) for r in batch]
        frame = pd.DataFrame(
            {
                "track_id": [r["track_id"] for r in batch],
                "content_hash": [a.content_hash for a in results],
                "extractor_version": versions.EXTRACTOR_VERSION,
                "analysis": [a.analysis for a in results],
                "description": [a.description for a in results],
            }
        )
        with db.connect() as conn, conn.transaction():
            written += AnalysisRepository(conn).upsert(frame).written
        examples.extend(a.description for a in results[: max(0, 3 - len(examples))])
        elapsed = time.perf_counter() - started
        progress(f"track_analyses: {start + len(batch)}/{len(todo)} done ({elapsed:.1f}s)")

    # search's lexical leg reads the same names: keep it in step (a no-op when it is)
    name_words = refresh_track_search(db, progress, None if full else marked["track_id"])
    with db.connect() as conn, conn.transaction():
        TrackRepository(conn).clear_derived(marked)
        # every other track's analysis stands as it was: a rerun says "unchanged 300", not 0
        stored_tracks = TrackRepository(conn).count()
    return AnalysisReport(
        tracks=len(records),
        written=written,
        unchanged=stored_tracks - written,
        extractor_version=versions.EXTRACTOR_VERSION,
        seconds=time.perf_counter() - started,
        examples=examples,
        artists=artists,
        with_artist_style=with_style,
        name_words=name_words,
    )


def _artists_touched(marked: pd.DataFrame) -> list[str]:
    """The artists whose profile a marked row may change: a catalog row's artist now, and the
    artist it was counted for before (it may have changed name or artist)."""
    catalog = marked["source_format"].ne(LIBRARY_FORMAT)
    found = [*marked.loc[catalog, "artist_key"], *marked["profile_artist_key"]]
    return sorted({k for k in found if isinstance(k, str) and k})
