"""Match rows that only name a song (artist + title) to catalog tracks.

Exports and other sources spell the same recording differently ("Song (feat. X) - 2011
Remaster" vs "Song", "Beyoncé" vs "Beyonce"), so both sides are reduced to one key, primary
artist + bare title, and joined on it. The reduction is deliberately lossy: a live or remixed
version matches the studio one, which is the same song for playlist purposes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

KEY_SEPARATOR = "|"  # punctuation never survives normalization, so this cannot be ambiguous
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_DASH_SUFFIX = re.compile(r"\s+[-–—]\s+.*$")  # " - Remastered 2011", " – Live", ...
_FEAT_TAIL = re.compile(r"\s(?:feat|ft|featuring)\b\.?.*$")
_ARTIST_SPLIT = re.compile(r",\s|;\s*|\s&\s|\s(?:feat|ft|featuring)\b\.?|\sx\s|\s/\s")
_APOSTROPHES = re.compile(r"['’‘`´]")  # dropped: "don't" → "dont", not "don t"
_NON_WORD = re.compile(r"[\W_]+")  # punctuation and whitespace runs → one space


def _fold(text: str) -> str:
    """Casefold and strip accents: "Beyoncé" → "beyonce", "Straße" → "strasse"."""
    if text.isascii():  # most names: skip the per-character work
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _clean(text: str) -> str:
    text = _APOSTROPHES.sub("", text.replace("&", " and "))
    return _NON_WORD.sub(" ", text).strip()


def normalize_title(title: object) -> str:
    """The bare title: no featured artists, no version/remaster notes, no punctuation."""
    if not isinstance(title, str):
        return ""
    folded = _fold(title)
    text = folded
    while (stripped := _BRACKETED.sub(" ", text)) != text:  # nested brackets: innermost first
        text = stripped
    text = _DASH_SUFFIX.sub("", text.strip())
    if "f" in text:  # cheap guard: most titles have no feat./ft. tail
        text = _FEAT_TAIL.sub("", text)
    # a title that is only brackets ("(Untitled)") keeps its words rather than becoming ""
    return _clean(text) or _clean(folded)


def normalize_artist(artist: object) -> str:
    """The primary artist: the part before ", ", " & ", " feat", " x "."""
    if not isinstance(artist, str):
        return ""
    folded = _fold(artist).strip()
    primary = _ARTIST_SPLIT.split(folded, maxsplit=1)[0]
    return _clean(primary) or _clean(folded)


def name_key(artist: object, title: object) -> str:
    """`artist|title` after normalization; "" when either part is empty (never matches)."""
    a, t = normalize_artist(artist), normalize_title(title)
    return f"{a}{KEY_SEPARATOR}{t}" if a and t else ""


@dataclass(frozen=True)
class MatchReport:
    items: int
    matched: int
    by_id: int  # the row's own track id exists in the catalog
    by_name: int  # matched on artist + title
    unmatched: int
    rate: float  # matched / items (0.0 for no items)

    def as_dict(self) -> dict:
        return asdict(self)


def _normalized(values: pd.Series, normalize: Callable[[object], str]) -> np.ndarray:
    """`normalize` over the distinct values only: catalogs repeat names a lot."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array([normalize(u) for u in uniques] + [""], dtype=object)
    return table[codes]  # code -1 (missing) picks the trailing ""


def _keys(artists: pd.Series, titles: pd.Series) -> pd.Series:
    a = _normalized(artists, normalize_artist)
    t = _normalized(titles, normalize_title)
    keys = pd.Series(a + KEY_SEPARATOR + t, index=artists.index, dtype=object)
    return keys.where((a != "") & (t != ""), None)


def _primary(artists: object) -> str | None:
    if isinstance(artists, str):
        return artists
    if isinstance(artists, Sequence | np.ndarray) and len(artists):
        first = artists[0]
        return first if isinstance(first, str) else None
    return None


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame lacks columns {missing}; it has {list(frame.columns)}")


def match_tracks(items: pd.DataFrame, catalog: pd.DataFrame) -> tuple[pd.Series, MatchReport]:
    """`match_by_name` plus counts of how each row was matched."""
    _require(items, ("artist", "title"), "items")
    _require(catalog, ("track_id", "name", "artists"), "catalog")

    keyed = pd.DataFrame(
        {
            "key": _keys(catalog["artists"].map(_primary), catalog["name"]).to_numpy(),
            "track_id": catalog["track_id"].to_numpy(dtype=object),
        }
    )
    if "popularity" in catalog.columns:  # ambiguous key: the best-known recording wins
        keyed["popularity"] = pd.to_numeric(catalog["popularity"], errors="coerce").to_numpy()
        keyed = keyed.sort_values("popularity", ascending=False, kind="stable", na_position="last")
    keyed = keyed[keyed["key"].notna() & keyed["track_id"].notna()].drop_duplicates("key")
    by_key = pd.Series(keyed["track_id"].to_numpy(dtype=object), index=keyed["key"].to_numpy())

    by_name = _keys(items["artist"], items["title"]).map(by_key)
    if "track_id" in items.columns:
        own = items["track_id"].astype(object)
        known = own.notna() & own.isin(set(catalog["track_id"].dropna()))
    else:
        own = pd.Series(None, index=items.index, dtype=object)
        known = pd.Series(False, index=items.index)
    matched = own.where(known, by_name).astype(object)
    matched = matched.where(matched.notna(), None)

    n, hits, ids = len(items), int(matched.notna().sum()), int(known.sum())
    report = MatchReport(
        items=n,
        matched=hits,
        by_id=ids,
        by_name=hits - ids,
        unmatched=n - hits,
        rate=hits / n if n else 0.0,
    )
    return matched, report


def match_by_name(items: pd.DataFrame, catalog: pd.DataFrame) -> pd.Series:
    """Catalog track_id per item row (aligned with `items`), or None.

    `items` has artist, title and optionally track_id (from a URI; it wins when the catalog has
    it); `catalog` has track_id, name, artists (primary = first) and optionally popularity.
    """
    return match_tracks(items, catalog)[0]
