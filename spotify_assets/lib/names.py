"""Keys for rows that only name a song (artist + title), at three strengths.

- `identity_key`: which song a row *is*. Primary artist + the whole title (case, accents and
  punctuation folded; every version note kept), so "Anti-Hero - ILLENIUM Remix" and "Anti-Hero
  - Acoustic Version" are two songs and two plays of them in one minute are two plays. A part
  with no letters or digits ("¥$", ":)", "★") keeps its raw text instead of vanishing. Play
  keys and `lib:` track ids are built from it.
- `recording_key`: the same recording under another name: featured-artist credits and
  remaster / explicit notes dropped ("Song (feat. X) - 2011 Remaster" = "Song"). A song linked
  to a catalog track by it may use that track's measured features.
- `song_key`: the bare song, every version note dropped ("Song (Live)" = "Song - Remix" =
  "Song"). Deliberately lossy: a *link* to the catalog's original (recorded as such, never a
  reason to merge two plays or two liked songs), and search's one-hit-per-song.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

KEY_SEPARATOR = "|"  # never inside a part: normalization drops it, raw parts escape it
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


_SEPARATORS = " \t-–—&/,.;:()[]{}!?'\"’‘`´*+|"


def fold_words(text: object) -> list[str]:
    """A name's words for search: folded and cleaned as titles are ("Beyoncé" → "beyonce",
    "Anti-Hero" → "anti", "hero"); a word with no letter or digit keeps its own text ("¥$",
    "★"), so a name made of symbols can still be searched for."""
    if not isinstance(text, str):
        return []
    out: list[str] = []
    for raw in _fold(text).split():
        cleaned = _clean(raw)
        if cleaned:
            out.extend(cleaned.split())
        elif kept := raw.strip(_SEPARATORS):
            out.append(kept)
    return out


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


# Notes that name the same recording: featured artists, remasters, explicit / clean.
_SAME_RECORDING = re.compile(
    r"^(?:feat|ft|featuring|with)\b.*$"
    r"|^(?:\d{4}\s+)?(?:digital(?:ly)?\s+)?remaster(?:ed)?(?:\s+\d{4})?(?:\s+version)?$"
    r"|^(?:explicit|clean)(?:\s+version)?$"
)
_NOTE = re.compile(r"\s*(\([^()]*\)|\[[^\[\]]*\])|\s+[-–—]\s+([^-–—]*)$")


def _raw_part(text: object) -> str:
    """A part made only of symbols keeps its text: casefolded, spaces collapsed, the key
    separator escaped."""
    if not isinstance(text, str):
        return ""
    raw = " ".join(text.casefold().split())
    return raw.replace("%", "%25").replace(KEY_SEPARATOR, "%7C")


def _identity_title(title: object) -> str:
    return _clean(_fold(title)) if isinstance(title, str) else ""


def _recording_title(title: object) -> str:
    """The title without notes that name the same recording (feat., remaster, explicit)."""
    if not isinstance(title, str):
        return ""
    folded = _fold(title).strip()

    def drop(match: re.Match) -> str:
        note = _clean(match.group(1) or match.group(2) or "")
        return "" if _SAME_RECORDING.match(note) else match.group(0)

    text = folded
    while (stripped := _NOTE.sub(drop, text)) != text:
        text = stripped
    if "f" in text:
        text = _FEAT_TAIL.sub("", text)
    return _clean(text) or _clean(folded)


def _key(artist: str, title: str, raw_artist: object, raw_title: object) -> str:
    a = artist or _raw_part(raw_artist)
    t = title or _raw_part(raw_title)
    return f"{a}{KEY_SEPARATOR}{t}" if a and t else ""


def identity_key(artist: object, title: object) -> str:
    """`artist|title` with every version note kept; "" only when a part is absent."""
    return _key(normalize_artist(artist), _identity_title(title), artist, title)


def recording_key(artist: object, title: object) -> str:
    """`artist|title` without featured-artist, remaster and explicit notes."""
    return _key(normalize_artist(artist), _recording_title(title), artist, title)


def song_key(artist: object, title: object) -> str:
    """`artist|title` of the bare song (every version note dropped)."""
    return _key(normalize_artist(artist), normalize_title(title), artist, title)


KEYS: dict[str, Callable[[object, object], str]] = {
    "identity": identity_key, "recording": recording_key, "song": song_key,
}  # fmt: skip


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


def keys(artists: pd.Series, titles: pd.Series, kind: str = "song") -> pd.Series:
    """The `kind` key ("identity", "recording" or "song") of each row, None where it has none;
    computed once per distinct (artist, title): catalogs and histories repeat names a lot."""
    make = KEYS[kind]
    pairs = list(zip(artists, titles, strict=True))
    cache = {pair: make(*pair) for pair in dict.fromkeys(pairs)}
    out = pd.Series([cache[pair] or None for pair in pairs], index=artists.index, dtype=object)
    return out


def name_keys(artists: pd.Series, names: pd.Series) -> pd.DataFrame:
    """What `lookup` and artist profiles key a stored track by (its primary artist + name),
    as `tracks` keeps them (migration 0024): identity_key, recording_key, song_key and
    artist_key (normalize_artist of the primary artist), None where there is none."""
    primary = artists.map(_primary)
    out = pd.DataFrame(
        {f"{kind}_key": keys(primary, names, kind) for kind in KEYS}, index=artists.index
    )
    out["artist_key"] = [normalize_artist(p) or None for p in primary]
    return out


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


def lookup(catalog: pd.DataFrame, kind: str = "song") -> pd.Series:
    """`kind` key → track id over `catalog` (track_id, name, artists with the primary first,
    optionally popularity and a `rank` column that orders ties before popularity does): where
    several tracks share a key, the lowest rank, then the best-known recording, then the
    smallest id wins, so the choice does not depend on row order."""
    _require(catalog, ("track_id", "name", "artists"), "catalog")
    keyed = pd.DataFrame(
        {
            "key": keys(catalog["artists"].map(_primary), catalog["name"], kind).to_numpy(),
            "track_id": catalog["track_id"].to_numpy(dtype=object),
            "rank": catalog["rank"].to_numpy() if "rank" in catalog.columns else 0,
            "popularity": (
                pd.to_numeric(catalog["popularity"], errors="coerce").to_numpy()
                if "popularity" in catalog.columns else np.nan
            ),
        }
    )  # fmt: skip
    keyed = keyed[keyed["key"].notna() & keyed["track_id"].notna()]
    keyed = keyed.sort_values(
        ["rank", "popularity", "track_id"], ascending=[True, False, True], na_position="last"
    ).drop_duplicates("key")
    return pd.Series(keyed["track_id"].to_numpy(dtype=object), index=keyed["key"].to_numpy())


def match_tracks(
    items: pd.DataFrame, catalog: pd.DataFrame, kind: str = "song"
) -> tuple[pd.Series, MatchReport]:
    """`match_by_name` plus counts of how each row was matched."""
    _require(items, ("artist", "title"), "items")
    by_name = keys(items["artist"], items["title"], kind).map(lookup(catalog, kind))
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


def match_by_name(items: pd.DataFrame, catalog: pd.DataFrame, kind: str = "song") -> pd.Series:
    """Catalog track_id per item row (aligned with `items`), or None.

    `items` has artist, title and optionally track_id (from a URI; it wins when the catalog has
    it); `catalog` has track_id, name, artists (primary = first) and optionally popularity.
    `kind`: which key joins the names (see the module's docstring).
    """
    return match_tracks(items, catalog, kind)[0]
