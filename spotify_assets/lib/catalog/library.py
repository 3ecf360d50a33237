"""Songs a person's library names that no catalog file has: they become tracks too.

Most of a real person's songs are missing from any public catalog (a median of about a fifth
of their playlist items is known), so dropping them would sort a fifth of their library. Each
song an export names gets a `tracks` row with `source_format = 'library'`: the id from its
Spotify URI, else a stable id from the normalised primary artist + title (`lib:…`), so a
re-import finds the same row. Only what the export says is stored (name, artists, album); no
audio features are invented, and a later catalog file or enrichment fills the rest field by
field (`TrackRepository.upsert` never wipes a known value).

A song the catalog already knows, by id or by artist + title, keeps the catalog's track (it has
features); a `lib:` track found again by name is reused, so re-imports add nothing. When a
`lib:` track's song turns up with its Spotify URI (an old export item had none, a newer one
does), it moves to the Spotify id: `merges` maps the old id to the new one and
`TrackRepository.merge_library_ids` re-points every reference in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from spotify_assets.lib.catalog.names import match_tracks, name_key
from spotify_assets.lib.catalog.validate import row_hash
from spotify_assets.lib.hashing import stable_hash

LIBRARY_FORMAT = "library"
LIBRARY_ID_PREFIX = "lib:"
ID_HEX_CHARS = 16
ITEM_COLUMNS = ("artist", "title", "album", "track_id")
# What `resolve_library` needs of the stored tracks (TrackRepository.frame(KNOWN_COLUMNS)).
KNOWN_COLUMNS = ["track_id", "name", "artists", "popularity", "source_format"]


@dataclass
class LibraryResolution:
    track_ids: pd.Series  # aligned with the items: a track id, or None (nothing to name it by)
    new_tracks: pd.DataFrame  # rows for `TrackRepository.add_missing`
    in_catalog: int  # items matched (by id or artist + title) to a catalog file's track
    from_library: int  # items that are library tracks (new ones and ones stored before)
    unnamed: int  # items the catalog lacks with no title to name a track by
    # `lib:` id → Spotify id: a song first known by name whose URI has now appeared
    merges: dict[str, str] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return len(self.track_ids)

    def as_dict(self) -> dict:
        return {"items": self.items, "in_catalog": self.in_catalog,
                "from_library": self.from_library, "new_library_tracks": len(self.new_tracks),
                "unnamed": self.unnamed}  # fmt: skip


def library_track_id(artist: object, title: object) -> str | None:
    """`lib:<16 hex>` from the normalised primary artist + title; None when either is empty."""
    key = name_key(artist, title)
    if not key:
        return None
    digest = stable_hash("lt", {"name_key": key}).rsplit("_", 1)[1]
    return f"{LIBRARY_ID_PREFIX}{digest[:ID_HEX_CHARS]}"


def resolve_library(
    items: pd.DataFrame, known: pd.DataFrame, source_file: str
) -> LibraryResolution:
    """A track id for every item that names a song, and the track rows that are new.

    `items`: track_id (from a URI) and/or artist + title, optionally album. `known`: the stored
    tracks (track_id, name, artists, popularity, source_format), library tracks included. An
    item with only an id the table lacks cannot become a track (no name): it stays unresolved.
    """
    items = items.reset_index(drop=True).copy()
    for column in ITEM_COLUMNS:
        if column not in items.columns:
            items[column] = None
    if items.empty:
        return LibraryResolution(pd.Series([], dtype=object), _rows(items, items["track_id"],
                                 source_file), 0, 0, 0)  # fmt: skip
    matched, _ = match_tracks(items, known)
    named = items["title"].map(lambda t: isinstance(t, str) and bool(t.strip()))
    own = items["track_id"].astype(object).where(items["track_id"].notna() & named, None)
    by_name = pd.Series(
        [library_track_id(a, t) for a, t in zip(items["artist"], items["title"], strict=True)],
        index=items.index,
        dtype=object,
    )
    # a song stored under a `lib:` id (named before its URI was seen) moves to its Spotify id
    by_uri = pd.Series(
        [isinstance(m, str) and m.startswith(LIBRARY_ID_PREFIX) and isinstance(o, str)
         for m, o in zip(matched, own, strict=True)],
        index=items.index,
    )  # fmt: skip
    merges = dict(zip(matched[by_uri], own[by_uri], strict=True))
    matched = matched.where(~by_uri, None)
    ids = matched.where(matched.notna(), own)
    ids = ids.where(ids.notna(), by_name).astype(object)
    if merges:  # every mention of a moved track follows it
        ids = pd.Series([merges.get(t, t) for t in ids], index=ids.index, dtype=object)
    ids = ids.where(ids.notna(), None)
    sources = known.set_index("track_id")["source_format"] if "source_format" in known else None
    library_known = (
        matched.map(sources).eq(LIBRARY_FORMAT) if sources is not None
        else matched.str.startswith(LIBRARY_ID_PREFIX, na=False)
    )  # fmt: skip
    new = ids.notna() & matched.isna()
    new_tracks = _rows(items[new], ids[new], source_file)
    new_tracks = new_tracks[~new_tracks["track_id"].isin(set(known["track_id"]))]
    return LibraryResolution(
        track_ids=ids,
        new_tracks=new_tracks.reset_index(drop=True),
        in_catalog=int((matched.notna() & ~library_known).sum()),
        from_library=int((new | library_known).sum()),
        unnamed=int(ids.isna().sum()),
        merges=merges,
    )


def _rows(items: pd.DataFrame, ids: pd.Series, source_file: str) -> pd.DataFrame:
    """One `tracks` row per distinct new id (its first mention names it)."""
    frame = pd.DataFrame(
        {
            "track_id": ids.to_numpy(dtype=object),
            "name": items["title"].to_numpy(dtype=object),
            "artists": [[a] if isinstance(a, str) and a else [] for a in items["artist"]],
            "album_name": items["album"].where(items["album"].notna(), None).to_numpy(object),
        }
    ).drop_duplicates("track_id")
    frame["source_format"] = LIBRARY_FORMAT
    frame["source_file"] = source_file
    frame["row_hash"] = [
        row_hash({"track_id": t, "name": n, "artists": list(a), "album_name": al,
                  "source": LIBRARY_FORMAT})
        for t, n, a, al in frame[["track_id", "name", "artists", "album_name"]].itertuples(
            index=False
        )
    ]  # fmt: skip
    return frame.reset_index(drop=True)
