"""Songs a person's library names: which track each one is, and the tracks that are new.

Most of a real person's songs are missing from any public catalog (a median of about a fifth
of their playlist items is known), so every song an export names gets a `tracks` row with
`source_format = 'library'`: its Spotify id when the export gives its URI, else a stable id
from its `identity_key` (`lib:…`), so a re-import finds the same row. Only what the export
says is stored (name, artists, album); no audio features are invented.

One resolution, used by playlists, liked songs and plays alike, so a song is the same track
wherever the person has it (`resolve_library`):
1. The item's own Spotify id is its track: a stored one, or a new library row. Two liked songs
   with two URIs stay two songs even when their names match ("Unica" and "Unica - Remix").
2. Without an id, a stored track with the same `identity_key` is the song (catalog tracks
   first, then library tracks with a Spotify id, then `lib:` rows).
3. Otherwise a new `lib:` row.
A new library row is *linked* to a catalog track when one has its name (never merged into it):
`link_method = 'name'` for the same recording (`recording_key`: only featured-artist and
remaster notes differ), whose measured fields then fill the row's empty ones (the catalog's
features for the same recording); `'song'` for another version of the song (`song_key`), kept
as a pointer and never presented as the song's own. `link_library` links library rows to a
catalog loaded after them.

When a `lib:` track's song turns up with its Spotify URI, it moves to the Spotify id: `merges`
maps the old id to the new one and `TrackRepository.merge_library_ids` re-points every
reference in the same transaction; the same happens when a catalog brings the exact song. An
item with its URI also leaves the `lib:` id its name would get as an alias of that URI, so
the order an export's parts arrive in does not decide what a song is (an import is a fixed
point: importing it again changes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from spotify_assets.lib.catalog.validate import row_hash
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.names import identity_key, keys, lookup

LIBRARY_FORMAT = "library"
LIBRARY_ID_PREFIX = "lib:"
ID_HEX_CHARS = 16
ITEM_COLUMNS = ("artist", "title", "album", "track_id")
# What `resolve_library` needs of the stored tracks (TrackRepository.frame(KNOWN_COLUMNS)).
KNOWN_COLUMNS = ["track_id", "name", "artists", "popularity", "source_format"]
NAME_LINK, SONG_LINK = "name", "song"  # tracks.link_method
# How an item found its track (per item, see LibraryResolution.methods).
BY_ID, BY_NAME, LIBRARY, UNRESOLVED = "id", "name", "library", "none"


@dataclass
class LibraryResolution:
    track_ids: pd.Series  # aligned with the items: a track id, or None (nothing to name it by)
    new_tracks: pd.DataFrame  # rows for `TrackRepository.add_missing` (links included)
    # per item: BY_ID (its own id is a catalog track), BY_NAME (a catalog track of the same
    # identity), LIBRARY (a library track, new or stored) or UNRESOLVED
    methods: pd.Series
    # `lib:` id → Spotify id: a song first known by name whose URI has now appeared, and the
    # `lib:` id an item with its URI would get by name alone (an alias, no row moves)
    merges: dict[str, str] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return len(self.track_ids)

    @property
    def in_catalog(self) -> int:
        """Items whose track is a catalog file's (by id or the same name)."""
        return int(self.methods.isin([BY_ID, BY_NAME]).sum())

    @property
    def from_library(self) -> int:
        return int((self.methods == LIBRARY).sum())

    @property
    def unnamed(self) -> int:
        return int((self.methods == UNRESOLVED).sum())

    def as_dict(self) -> dict:
        return {"items": self.items, "in_catalog": self.in_catalog,
                "from_library": self.from_library, "new_library_tracks": len(self.new_tracks),
                "linked_by_name": _links(self.new_tracks, NAME_LINK),
                "linked_by_song": _links(self.new_tracks, SONG_LINK),
                "unnamed": self.unnamed}  # fmt: skip


def _links(frame: pd.DataFrame, method: str) -> int:
    return int((frame["link_method"] == method).sum()) if "link_method" in frame else 0


def library_track_id(artist: object, title: object) -> str | None:
    """`lib:<16 hex>` from the song's identity key; None when it has no artist or title."""
    key = identity_key(artist, title)
    return _library_id(key) if key else None


@dataclass(frozen=True)
class ItemKeys:
    """What `resolve_library` can read of the stored tracks for a batch of items: their own
    ids and `lib:` ids, and their identity / recording / song keys. The stored tracks with
    any of them (`TrackRepository.known_for`) resolve the items exactly as all would."""

    track_ids: list[str]
    identity: list[str]
    recording: list[str]
    song: list[str]
    library_ids: list[str]  # the items' `lib:` ids (`aliases` of them are read)


def item_keys(items: pd.DataFrame) -> ItemKeys:
    """The ids and keys of `items` (track_id and/or artist + title), each once."""
    items = _items(items)

    def distinct(values) -> list[str]:
        return sorted({v for v in values if isinstance(v, str) and v})

    found = {k: keys(items["artist"], items["title"], k) for k in ("identity", "recording", "song")}
    library_ids = distinct(_library_id(k) for k in found["identity"] if k)
    return ItemKeys(
        track_ids=distinct([*items["track_id"], *library_ids]),
        identity=distinct(found["identity"]),
        recording=distinct(found["recording"]),
        song=distinct(found["song"]),
        library_ids=library_ids,
    )


def _library_id(key: str) -> str:
    digest = stable_hash("lt", {"identity_key": key}).rsplit("_", 1)[1]
    return f"{LIBRARY_ID_PREFIX}{digest[:ID_HEX_CHARS]}"


def _items(items: pd.DataFrame) -> pd.DataFrame:
    items = items.reset_index(drop=True).copy()
    for column in ITEM_COLUMNS:
        if column not in items.columns:
            items[column] = None
        items[column] = items[column].astype(object).where(items[column].notna(), None)
    return items


def _known(known: pd.DataFrame) -> pd.DataFrame:
    """Stored tracks ranked for an identity match: catalog rows, then library rows with a
    Spotify id, then `lib:` rows."""
    known = known.copy()
    library = known.get("source_format", pd.Series(None, index=known.index)).eq(LIBRARY_FORMAT)
    placeholder = known["track_id"].astype(str).str.startswith(LIBRARY_ID_PREFIX)
    known["rank"] = np.where(~library, 0, np.where(placeholder, 2, 1))
    return known


def resolve_library(
    items: pd.DataFrame,
    known: pd.DataFrame,
    source_file: str,
    aliases: Mapping[str, str] | None = None,
) -> LibraryResolution:
    """A track id for every item that names a song, and the track rows that are new.

    `items`: track_id (from a URI) and/or artist + title, optionally album. `known`: the stored
    tracks (KNOWN_COLUMNS), library tracks included: all of them, or those with the items'
    ids or keys (`item_keys`, lib/catalog/known.py), which resolve them the same. `aliases`: former `lib:` ids → the track
    they moved to (TrackRepository.aliases): a song once met with its URI stays that track
    when named again. An item with only an id the table lacks cannot become a track (no
    name): it stays unresolved.
    """
    items = _items(items)
    if items.empty:
        empty = pd.Series([], dtype=object)
        return LibraryResolution(empty, _rows(items, empty, source_file), empty)
    known = _known(known)
    stored = set(known["track_id"])
    catalog_ids = set(known.loc[known["rank"] == 0, "track_id"])
    named = items["title"].map(lambda t: isinstance(t, str) and bool(t.strip()))
    own = items["track_id"]
    identity = keys(items["artist"], items["title"], "identity")
    # songs of this batch that bring their own id count as stored for the identity match, so
    # a play named "Song" and a liked song "Song" with its URI are one track in any order
    arriving = own.notna() & named & ~own.isin(stored)
    batch = pd.DataFrame(
        {"track_id": own[arriving], "name": items.loc[arriving, "title"],
         "artists": [[a] if isinstance(a, str) else [] for a in items.loc[arriving, "artist"]],
         "rank": 1},
    )  # fmt: skip
    candidates = pd.concat([known[["track_id", "name", "artists", "popularity", "rank"]], batch])

    # 1. the item's own id; 2. a stored track of the same identity; 3. a new `lib:` row
    by_identity = identity.map(lookup(candidates, "identity"))
    ids = own.where(own.isin(stored) | (own.notna() & named), None)
    from_name = ids.isna() & by_identity.notna()
    ids = ids.where(~from_name, by_identity)
    new_lib = ids.isna() & identity.notna()
    ids = ids.where(~new_lib, [library_track_id(a, t) if k else None for a, t, k in
                               zip(items["artist"], items["title"], identity, strict=True)])  # fmt: skip
    if aliases:
        moved = new_lib & ids.isin(list(aliases)) & ids.map(aliases).isin(stored)
        ids = ids.where(~moved, ids.map(aliases))

    # a `lib:` row whose song now comes with its Spotify id moves to that id
    stored_song = identity.map(lookup(known[known["rank"] == 2], "identity"))
    moving = own.notna() & stored_song.notna() & (named | own.isin(stored))
    merges = dict(zip(stored_song[moving], own[moving], strict=True))
    # the `lib:` id this item's name would get, when no such row is stored yet: an alias of
    # its Spotify id, so a later mention by name alone (a basic export's plays) is this track
    # at once. Without it the first import made a `lib:` row that the second merged away
    # (22 of F's plays moved to catalog tracks when the same export was imported again)
    carries = own.notna() & named & identity.notna() & ids.eq(own)
    claims: dict[str, set[str]] = {}
    for artist, title, track_id in zip(items.loc[carries, "artist"], items.loc[carries, "title"],
                                       own[carries], strict=True):  # fmt: skip
        claims.setdefault(library_track_id(artist, title), set()).add(track_id)
    for alias, track_ids in claims.items():
        # an alias that names a stored track stays: two ids under one name (a song on two
        # albums) would otherwise take it in turns, and a name-only play's join with it (E's
        # "Get Low" flipped between two catalog tracks on every import). A new alias goes to
        # the best-known of the ids, whatever order the items came in
        if alias not in stored and (aliases or {}).get(alias) not in stored:
            merges.setdefault(alias, min(track_ids, key=lambda t: (t not in catalog_ids, t)))
    if merges:
        ids = pd.Series([merges.get(t, t) for t in ids], index=ids.index, dtype=object)
    ids = ids.astype(object).where(ids.notna(), None)

    methods = pd.Series(LIBRARY, index=items.index, dtype=object)
    methods[ids.isin(catalog_ids) & own.eq(ids)] = BY_ID
    methods[ids.isin(catalog_ids) & ~own.eq(ids)] = BY_NAME
    methods[ids.isna()] = UNRESOLVED

    new = ids.notna() & ~ids.isin(stored)
    new_tracks = _rows(items[new], ids[new], source_file)
    new_tracks = link(new_tracks, known[known["rank"] == 0])
    return LibraryResolution(ids, new_tracks.reset_index(drop=True), methods, merges)


def link(tracks: pd.DataFrame, catalog: pd.DataFrame) -> pd.DataFrame:
    """`tracks` (library rows: track_id, name, artists) with `linked_track_id` and
    `link_method`: the catalog track of the same recording ('name'), else of the same song
    ('song'), else none. `catalog`: catalog files' tracks only."""
    tracks = tracks.copy()
    tracks["linked_track_id"] = None
    tracks["link_method"] = None
    if tracks.empty or catalog.empty:
        return tracks
    primary = tracks["artists"].map(lambda a: a[0] if len(a) else None)
    for kind, method in (("recording", NAME_LINK), ("song", SONG_LINK)):
        found = keys(primary, tracks["name"], kind).map(lookup(catalog, kind))
        open_ = tracks["linked_track_id"].isna() & found.notna() & found.ne(tracks["track_id"])
        tracks.loc[open_, "linked_track_id"] = found[open_]
        tracks.loc[open_, "link_method"] = method
    return tracks


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
