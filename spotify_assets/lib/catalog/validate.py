"""Turn raw rows into canonical tracks; rows that fail get a reason instead of a place.

Everything is vectorized with pandas: a 600K-row file is validated in a few seconds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from spotify_assets.lib.catalog.formats import CatalogFormat
from spotify_assets.lib.catalog.reader import RawTable
from spotify_assets.lib.hashing import stable_hash, stable_hash_frame
from spotify_assets.lib.store.quarantine import QuarantineRecord
from spotify_assets.lib.versions import CATALOG_SCHEMA_VERSION

# canonical field -> (low, high, integer?)
FEATURE_RULES: dict[str, tuple[float, float, bool]] = {
    "danceability": (0, 1, False),
    "energy": (0, 1, False),
    "speechiness": (0, 1, False),
    "acousticness": (0, 1, False),
    "instrumentalness": (0, 1, False),
    "liveness": (0, 1, False),
    "valence": (0, 1, False),
    "tempo": (0, 260, False),
    "loudness": (-60, 5, False),
    "key": (-1, 11, True),
    "mode": (0, 1, True),
}
OPTIONAL_NUMBERS: dict[str, tuple[float, float, bool]] = {
    "popularity": (0, 100, True),
    "duration_ms": (1, 24 * 3600 * 1000, True),
    "time_signature": (0, 7, True),
}
TEXT_FIELDS = ("album_name", "album_id", "genre", "subgenre", "release_date")
# Fields that define a track's catalog content; their hash decides whether a reload rewrites it.
HASHED_FIELDS = (
    "name",
    "artists",
    *TEXT_FIELDS,
    "release_year",
    *OPTIONAL_NUMBERS,
    "explicit",
    *FEATURE_RULES,
)
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f"}
_QUOTED = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)\"""")


@dataclass
class ValidatedCatalog:
    format: str
    rows_read: int
    tracks: pd.DataFrame
    duplicates: int
    quarantine: list[QuarantineRecord]
    playlists: pd.DataFrame | None = None
    memberships: pd.DataFrame | None = None
    reasons: dict[str, int] = field(default_factory=dict)


@lru_cache(maxsize=200_000)
def _parse_artist_list(text: str) -> tuple[str, ...]:
    text = text.strip()
    if not text.startswith("["):
        return (text,) if text else ()
    if text.startswith('["'):
        try:
            return tuple(str(a) for a in json.loads(text))
        except json.JSONDecodeError:
            pass
    return tuple(
        (single if single or not double else double).replace("\\'", "'").replace('\\"', '"')
        for single, double in _QUOTED.findall(text)
    )


def parse_artists(values: pd.Series, style: str | None) -> pd.Series:
    """Artist lists as Python lists: `['A', 'B']`, `A;B`, or one name per cell."""
    text = values.fillna("").astype(str)
    if style == "list":
        return text.map(lambda t: list(_parse_artist_list(t)))
    if style == "semicolon":
        return text.map(lambda t: [a.strip() for a in t.split(";") if a.strip()])
    return text.map(lambda t: [t.strip()] if t.strip() else [])


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _explain(
    reason: pd.Series, mask: pd.Series, prefix: str, detail: pd.Series, suffix: str
) -> None:
    """Set `prefix + detail + suffix` as the reason of the rows in `mask`."""
    if mask.any():
        reason[mask] = [f"{prefix}{d!s}{suffix}" for d in detail[mask]]


def _numbers(
    raw: pd.Series, name: str, low: float, high: float, integer: bool, required: bool
) -> tuple[pd.Series, pd.Series]:
    """Parsed values and a reason per row ("" when fine)."""
    text = _as_text(raw)
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
    reason = pd.Series("", index=raw.index, dtype=object)
    empty = text == ""
    if required:
        reason[empty] = f"{name}: missing"
    unparsed = ~empty & values.isna()
    _explain(reason, unparsed, f"{name}: not a number (", text.str.slice(0, 40), ")")
    ok = values.notna()
    out_of_range = ok & ((values < low) | (values > high))
    _explain(reason, out_of_range, f"{name}: ", values, f" outside [{low:g}, {high:g}]")
    if integer:
        fractional = ok & ~out_of_range & (values != np.floor(values))
        _explain(reason, fractional, f"{name}: ", values, " is not an integer")
    return values, reason


def _booleans(raw: pd.Series, name: str) -> tuple[pd.Series, pd.Series]:
    text = _as_text(raw).str.lower()
    values = pd.Series(None, index=raw.index, dtype=object)
    values[text.isin(_TRUE)] = True
    values[text.isin(_FALSE)] = False
    reason = pd.Series("", index=raw.index, dtype=object)
    bad = (text != "") & values.isna()
    _explain(reason, bad, f"{name}: not a boolean (", text.str.slice(0, 20), ")")
    return values, reason


def _jsonable(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return str(value)


def row_hash(record: dict) -> str:
    """The hash of one normalized catalog record (what `stable_hash_frame` computes per row)."""
    return stable_hash("tr", {"schema": CATALOG_SCHEMA_VERSION, **record})


def validate(table: RawTable, fmt: CatalogFormat, source_sha256: str) -> ValidatedCatalog:
    raw = table.frame
    n = len(raw)
    src = {canonical: raw[column] for column, canonical in fmt.columns.items() if column in raw}
    reasons: list[pd.Series] = []
    out = pd.DataFrame(index=raw.index)

    out["track_id"] = _as_text(src["track_id"])
    reasons.append(pd.Series(np.where(out["track_id"] == "", "track_id: missing", ""), raw.index))
    out["name"] = _as_text(src["name"])
    reasons.append(pd.Series(np.where(out["name"] == "", "track_name: missing", ""), raw.index))
    if "artists" in src:
        out["artists"] = parse_artists(src["artists"], fmt.artists_style)
    else:
        out["artists"] = [[] for _ in range(n)]

    for name, (low, high, integer) in FEATURE_RULES.items():
        out[name], reason = _numbers(src[name], name, low, high, integer, required=True)
        reasons.append(reason)
    for name, (low, high, integer) in OPTIONAL_NUMBERS.items():
        if name in src:
            out[name], reason = _numbers(src[name], name, low, high, integer, required=False)
            reasons.append(reason)
        else:
            out[name] = np.nan
    if "explicit" in src:
        out["explicit"], reason = _booleans(src["explicit"], "explicit")
        reasons.append(reason)
    else:
        out["explicit"] = None
    for name in TEXT_FIELDS:
        text = _as_text(src[name]) if name in src else pd.Series("", index=raw.index)
        out[name] = text.where(text != "", None)
    year = out["release_date"].fillna("").str.extract(r"^(\d{4})", expand=False)
    out["release_year"] = pd.to_numeric(year, errors="coerce")

    problems = pd.concat(reasons, axis=1)
    bad = (problems != "").any(axis=1)
    quarantine = []
    counted: dict[str, int] = {}
    if bad.any():
        bad_rows = problems[bad]
        raw_bad = raw[bad]
        for idx in bad_rows.index:
            reason = "; ".join(r for r in bad_rows.loc[idx] if r)
            raw_record = {str(k): _jsonable(v) for k, v in raw_bad.loc[idx].items()}
            quarantine.append(
                QuarantineRecord(
                    line=table.line_of(int(idx)),
                    reason=reason,
                    record_id=out.at[idx, "track_id"] or None,
                    raw=raw_record,
                )
            )
            for part in reason.split("; "):
                key = part.split(":")[0]
                counted[key] = counted.get(key, 0) + 1

    valid = out[~bad]
    playlists = memberships = None
    if fmt.playlist_columns:
        playlists, memberships = _playlists(raw[~bad], fmt, valid["track_id"])

    first = ~valid["track_id"].duplicated(keep="first")
    tracks = valid[first].copy()
    duplicates = int(len(valid) - len(tracks))
    for name in ("popularity", "duration_ms", "time_signature", "key", "mode", "release_year"):
        tracks[name] = tracks[name].astype("Int64")
    tracks["row_hash"] = stable_hash_frame(
        "tr", tracks[list(HASHED_FIELDS)], {"schema": CATALOG_SCHEMA_VERSION}
    )
    tracks["source_format"] = fmt.name
    tracks["source_file"] = table.path
    return ValidatedCatalog(
        format=fmt.name,
        rows_read=n,
        tracks=tracks.reset_index(drop=True),
        duplicates=duplicates,
        quarantine=quarantine,
        playlists=playlists,
        memberships=memberships,
        reasons=counted,
    )


def _playlists(
    raw: pd.DataFrame, fmt: CatalogFormat, track_ids: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Playlists and ordered memberships from per-row playlist columns (file order)."""
    cols = {canonical: _as_text(raw[col]) for col, canonical in fmt.playlist_columns.items()}
    rows = pd.DataFrame(cols)
    rows["track_id"] = track_ids.values
    rows = rows[rows["playlist_id"] != ""]
    playlists = rows.drop_duplicates("playlist_id")[["playlist_id", "name", "genre", "subgenre"]]
    playlists = playlists.assign(source=fmt.name).replace({"": None})
    playlists["name"] = playlists["name"].fillna(playlists["playlist_id"])
    members = rows.drop_duplicates(["playlist_id", "track_id"])[["playlist_id", "track_id"]]
    members = members.assign(position=members.groupby("playlist_id").cumcount())
    return playlists.reset_index(drop=True), members.reset_index(drop=True)
