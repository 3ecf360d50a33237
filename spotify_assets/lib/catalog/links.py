"""Keep library tracks linked to the catalog as catalogs arrive (lib/catalog/library.py).

A library track is linked when it is created; a catalog loaded afterwards may know songs the
library named first. After every catalog load: a `lib:` track (a song known only by name)
whose exact identity a catalog track has moves to that track (every reference follows: it is
the same song, now with an id), and library tracks without a link get one where a catalog
track has their recording ('name', which fills their empty measured fields) or song ('song').
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg

from spotify_assets.lib.catalog.library import (
    KNOWN_COLUMNS,
    LIBRARY_FORMAT,
    LIBRARY_ID_PREFIX,
    NAME_LINK,
    SONG_LINK,
    link,
)
from spotify_assets.lib.names import keys, lookup
from spotify_assets.lib.store.tracks import LINK_COLUMNS, TrackRepository


@dataclass(frozen=True)
class LinkReport:
    library_tracks: int
    moved_to_catalog: int  # `lib:` tracks whose exact song a catalog has
    linked_by_name: int
    linked_by_song: int

    def as_dict(self) -> dict:
        return asdict(self)


def refresh_links(conn: psycopg.Connection) -> LinkReport:
    """Move and link library tracks against the catalog as it is now; in the caller's
    transaction."""
    repo = TrackRepository(conn)
    frame = repo.frame([*KNOWN_COLUMNS, *LINK_COLUMNS])
    library = frame[frame["source_format"] == LIBRARY_FORMAT]
    catalog = frame[frame["source_format"] != LIBRARY_FORMAT]
    if library.empty or catalog.empty:
        return LinkReport(len(library), 0, 0, 0)
    placeholders = library[library["track_id"].str.startswith(LIBRARY_ID_PREFIX)]
    primary = placeholders["artists"].map(lambda a: a[0] if len(a) else None)
    same = keys(primary, placeholders["name"], "identity").map(lookup(catalog, "identity"))
    merges = dict(zip(placeholders["track_id"][same.notna()], same[same.notna()], strict=True))
    moved = repo.merge_library_ids(merges)
    unlinked = library[~library["track_id"].isin(merges) & library["linked_track_id"].isna()]
    linked = link(unlinked[["track_id", "name", "artists"]], catalog)
    linked = linked[linked["linked_track_id"].notna()]
    repo.set_links(linked[["track_id", *LINK_COLUMNS]])
    methods = linked["link_method"]
    return LinkReport(
        library_tracks=len(library) - moved,
        moved_to_catalog=moved,
        linked_by_name=int((methods == NAME_LINK).sum()),
        linked_by_song=int((methods == SONG_LINK).sum()),
    )
