"""Turn raw rows into canonical tracks; rows that fail get a reason instead of a place.

Everything is vectorized with pandas: a 600K-row file is validated in a few seconds.

Every stored value is checked (see `values`): numbers must be finite and in range, text
(track id, name, each artist, album, genre, release date, playlist fields) must hold no NUL or
other control character and at most 1,000 characters, and a parquet cell holding a list,
object or bytes where text is expected is refused; a failing row is quarantined with one reason
per failing field ("track_name: contains a NUL character; energy: inf is not a finite number").

Only a field the format requires can cost a row. An optional number, boolean or release date
that cannot be read (text in a numeric column, out of range, `1e400`, `maybe`, `2019-13-01`)
becomes null and the row is kept, with a note counted in `coerced` ("duration_ms: not a
number (abc) → null"): one odd cell should not lose a track's name and features. Text that
cannot be stored (NUL, control characters, 1 MB) still quarantines: it means a corrupted row.

Integer fields are rounded when within `INTEGER_NOISE` of an integer (`99999.99999999999` is
float noise from a pandas round trip, not a different duration); `duration_ms` is rounded
whatever its fraction (a measurement in whole milliseconds, noted when the fraction is real);
other integer fields (key, mode, popularity, time_signature, release_year) are codes or
scores, so a real fraction (mode 0.5) is an error, not a value to round.

Genres are multi-valued: a cell may be `rap;pop rap`, a list literal `['rap', 'pop rap']` or a
parquet list; `genres` holds the list and `genre` the same genres joined with `;`, so a
single-genre catalog keeps its `genre` text as it was.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from spotify_assets.lib.catalog.formats import YEAR_COLUMNS, CatalogFormat
from spotify_assets.lib.catalog.reader import RawTable
from spotify_assets.lib.catalog.values import CONTROL, MAX_TEXT, kind_of, text_problem
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
PLAIN_TEXT_FIELDS = ("album_name", "album_id", "subgenre")  # genre and release_date: parsed
INTEGER_NOISE = 1e-6  # this close to an integer is float noise: rounded without a note
ROUNDED = frozenset({"duration_ms"})  # whole units of a measurement: any fraction is rounded
EARLIEST_RELEASE_YEAR = 1800  # before recorded sound; "0000" is Spotify's unknown date
# YYYY, YYYY-MM, YYYY-MM-DD ("/" too, one-digit parts, a time part ignored), or 2019.0
_DATE = re.compile(r"^(\d{4})(?:\.0+|[-/](\d{1,2})(?:[-/](\d{1,2}))?)?(?:[T ][0-9:.+\-Z]*)?$")
MAX_COERCION_EXAMPLES = 5
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
_MAX_ARTISTS_TEXT = 10 * MAX_TEXT  # a longer artists cell is not parsed (nor cached)
_CONTAINERS = (dict, list, tuple, set, np.ndarray, bytes, bytearray)


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
    # kept rows with at least one optional value rounded or set to null; notes per field
    coerced: int = 0
    coerced_fields: dict[str, int] = field(default_factory=dict)
    coerced_examples: list[str] = field(default_factory=list)


@lru_cache(maxsize=200_000)
def _parse_artist_list(text: str) -> tuple[str, ...]:
    text = text.strip()
    if not text.startswith("["):
        return (text,) if text else ()
    if text.startswith('["'):
        try:
            names = json.loads(text)
        except (ValueError, RecursionError):  # not JSON after all, or nested absurdly deep
            names = None
        if isinstance(names, list) and all(isinstance(a, str) for a in names):
            return tuple(names)
    return tuple(
        (single if single or not double else double).replace("\\'", "'").replace('\\"', '"')
        for single, double in _QUOTED.findall(text)
    )


def _is_list(value) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _listed_names(value) -> list[str]:
    """The names in a list cell (parquet), blanks dropped."""
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def _parse_names(value, separator: str) -> list[str]:
    """Names from a parquet list, a list literal (`['A', 'B']`, `["A"]`, `[A, B]`) or text
    split on `separator`; blanks dropped, order kept."""
    if _is_list(value):
        return _listed_names(value)
    text = "" if pd.isna(value) else str(value).strip()
    if len(text) > _MAX_ARTISTS_TEXT:  # stays one "name", refused by the length check
        return [text]
    if text.startswith("[") and text.endswith("]"):
        names = list(_parse_artist_list(text))
        inner = text[1:-1].strip()
        if not names and inner and not inner.startswith(("'", '"')):
            names = inner.split(",")  # [rap, pop rap]: a list written without quotes
    else:
        names = text.split(separator)
    return [n.strip() for n in names if n.strip()]


def _list_cell(value) -> list[str]:
    """A "list"-style artists cell: a parquet list, or text like `['A', 'B']` (an overlong
    cell stays one "name", refused by the length check)."""
    if _is_list(value):
        return _listed_names(value)
    text = "" if pd.isna(value) else str(value)
    return list(_parse_artist_list(text)) if len(text) <= _MAX_ARTISTS_TEXT else [text]


# a name part that belongs to the name before the comma ("Hank Williams, Jr.")
_NAME_SUFFIX = re.compile(r"^(jr|sr|ii|iii|iv|inc|ltd)\.?$", re.IGNORECASE)


def _comma_names(value) -> list[str]:
    """A Web API dump's artists cell: a list, `A;B` (a `;` anywhere separates, then commas
    are part of names), or `A, B` with suffixes kept on their name ("Hank Williams, Jr.")."""
    if not _is_list(value) and not pd.isna(value) and ";" in str(value):
        return _parse_names(value, ";")
    names: list[str] = []
    for part in _parse_names(value, ","):
        if names and _NAME_SUFFIX.match(part):
            names[-1] = f"{names[-1]}, {part}"
        else:
            names.append(part)
    return names


def parse_artists(values: pd.Series, style: str | None) -> pd.Series:
    """Artist lists as Python lists: `['A', 'B']`, `A;B`, `A, B`, or one name per cell."""
    if style == "comma":
        return values.astype(object).map(_comma_names)
    if style == "list":
        return values.astype(object).map(_list_cell)
    text = values.fillna("").astype(str)
    if style == "semicolon":
        return text.map(lambda t: [a.strip() for a in t.split(";") if a.strip()])
    return text.map(lambda t: [t.strip()] if t.strip() else [])


def parse_genres(values: pd.Series) -> pd.Series:
    """Genre lists: `rap;pop rap`, `['rap', 'pop rap']` or a parquet list; every element is
    split on `;` too (so `genre` joined with `;` splits back into exactly `genres`), and a
    genre named twice counts once."""

    def parse(value) -> list[str]:
        if _is_list(value):
            return _split_genres(tuple(_listed_names(value)))
        return [] if pd.isna(value) else _genre_text(str(value))

    return _per_value(values, parse)


def _per_value(values: pd.Series, parse) -> pd.Series:
    """`values.map(parse)`, calling `parse` once per distinct value (a catalog repeats its
    genres and dates); the rows of one value share its result, which must not be changed."""
    try:
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
    except TypeError:  # list cells (parquet) are not hashable
        return values.astype(object).map(parse)
    parsed = [parse(u) for u in uniques]
    return pd.Series([parsed[c] for c in codes], index=values.index, dtype=object)


def _split_genres(names: tuple[str, ...]) -> list[str]:
    parts = [g.strip() for name in names for g in name.split(";")]
    return list(dict.fromkeys(g for g in parts if g))


def _genre_text(text: str) -> list[str]:
    """One genre cell's text as a list."""
    return _split_genres(tuple(_parse_names(text, ";")))


def _as_text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def _explain(
    reason: pd.Series, mask: pd.Series, prefix: str, detail: pd.Series, suffix: str
) -> None:
    """Set `prefix + detail + suffix` as the reason of the rows in `mask`."""
    if mask.any():
        reason[mask] = [f"{prefix}{d!s}{suffix}" for d in detail[mask]]


def _blank(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype=object)


def _numbers(
    raw: pd.Series, name: str, low: float, high: float, integer: bool, required: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parsed values, a reason per row that refuses the value ("" when fine) and a note per
    row whose value was rounded. Not `required`: a refused value is null, its reason a note."""
    text = _as_text(raw)
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").astype(float)
    reason = _blank(raw.index)
    note = _blank(raw.index)
    empty = text == ""
    if required:
        reason[empty] = f"{name}: missing"
    unparsed = ~empty & values.isna()
    _explain(reason, unparsed, f"{name}: not a number (", text.str.slice(0, 40), ")")
    infinite = values.notna() & ~np.isfinite(values)
    _explain(reason, infinite, f"{name}: ", text.str.slice(0, 40), " is not a finite number")
    ok = values.notna() & ~infinite
    if integer:
        with np.errstate(invalid="ignore"):
            nearest = np.floor(values + 0.5)
            noise = ok & ((values - nearest).abs() <= INTEGER_NOISE)
        if name in ROUNDED:
            _explain(note, ok & ~noise, f"{name}: ", values, " rounded to a whole number")
            noise = ok
        values = values.where(~noise, nearest)
    out_of_range = ok & ((values < low) | (values > high))
    _explain(reason, out_of_range, f"{name}: ", values, f" outside [{low:g}, {high:g}]")
    if integer:
        fractional = ok & ~out_of_range & (values != np.floor(values))
        _explain(reason, fractional, f"{name}: ", values, " is not an integer")
    if not required:
        refused = reason != ""
        note[refused] = reason[refused] + " → null"
        values = values.where(~refused)
        reason = _blank(raw.index)
    return values, reason, note


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """Notes of two fields per row, joined with "; " where both have one."""
    both = (first != "") & (second != "")
    return (first + np.where(both, "; ", "") + second).astype(object)


def _read_date(text: str, latest: int) -> tuple[str | None, float, str]:
    """(release_date as YYYY[-MM[-DD]], its year, "") of one date text; (None, NaN, why →
    null) when it cannot be read; (None, NaN, "") when blank."""
    if not text:
        return None, math.nan, ""
    match = _DATE.match(text)
    if match is None:
        why = f"{text[:40]!r} is not YYYY, YYYY-MM or YYYY-MM-DD"
    else:
        year, month, day = match.groups()
        if (month and not 1 <= int(month) <= 12) or (day and not 1 <= int(day) <= 31):
            why = f"{text[:40]} is not a calendar date"
        elif not EARLIEST_RELEASE_YEAR <= int(year) <= latest:
            why = f"year {int(year)} outside [{EARLIEST_RELEASE_YEAR}, {latest}]"
        else:
            shown = "-".join([year, *(part.zfill(2) for part in (month, day) if part)])
            return shown, float(year), ""
    return None, math.nan, f"release_date: {why} → null"


def _release(
    date_raw: pd.Series | None, year_raw: pd.Series | None, index: pd.Index
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """release_date (YYYY, YYYY-MM or YYYY-MM-DD, a time part dropped) and release_year from
    it, else from a bare year column; anything unreadable is null with a note."""
    latest = date.today().year + 1
    if date_raw is None:
        release_date = pd.Series(None, index=index, dtype=object)
        release_year = pd.Series(math.nan, index=index)
        note = _blank(index)
    else:
        codes, uniques = pd.factorize(_as_text(date_raw))  # each distinct date read once
        read = [_read_date(str(u), latest) for u in uniques]
        release_date = pd.Series([read[c][0] for c in codes], index=index, dtype=object)
        release_year = pd.Series([read[c][1] for c in codes], index=index, dtype=float)
        note = pd.Series([read[c][2] for c in codes], index=index, dtype=object)
    if year_raw is not None:
        years, _, year_note = _numbers(
            year_raw, "release_year", EARLIEST_RELEASE_YEAR, latest, True, required=False
        )
        fallback = release_year.isna()  # a readable date wins over the year column
        release_year = release_year.where(~fallback, years)
        note = _joined(note, year_note.where(fallback, ""))
    return release_date, release_year, note


def _kind_reasons(raw: pd.Series, name: str, lists_ok: bool = False) -> pd.Series:
    """A reason for cells holding a list, an object or bytes where text is expected (parquet
    can hold them; CSV cells are always text). `lists_ok`: a multi-valued field, whose list
    cells are parsed."""
    reason = pd.Series("", index=raw.index, dtype=object)
    if raw.dtype == object:
        wrong = raw.map(
            lambda v: isinstance(v, _CONTAINERS) and not (lists_ok and _is_list(v))
        ).astype(bool)
        if wrong.any():
            reason[wrong] = [f"{name}: expected text, got {kind_of(v)}" for v in raw[wrong]]
    return reason


def _text_reasons(text: pd.Series, name: str, index: pd.Index) -> pd.Series:
    """A reason for text that cannot be stored (NUL or control characters, over MAX_TEXT);
    `text` may repeat index values (one row's artists), `index` is the rows'."""
    reason = pd.Series("", index=index, dtype=object)
    if text.empty:
        return reason
    flagged = (text.str.len() > MAX_TEXT) | text.str.contains(CONTROL, regex=True)
    for row, value in text[flagged.fillna(False).astype(bool)].items():
        if not reason.at[row] and (why := text_problem(value)):
            reason.at[row] = f"{name}: {why}"
    return reason


def _booleans(raw: pd.Series, name: str) -> tuple[pd.Series, pd.Series]:
    """Values (None when unreadable) and a note per unreadable cell (the field is optional)."""
    text = _as_text(raw).str.lower()
    values = pd.Series(None, index=raw.index, dtype=object)
    values[text.isin(_TRUE)] = True
    values[text.isin(_FALSE)] = False
    note = _blank(raw.index)
    bad = (text != "") & values.isna()
    _explain(note, bad, f"{name}: not a boolean (", text.str.slice(0, 20), ") → null")
    return values, note


def _jsonable(value):
    """A raw cell for the quarantine (which makes it safe for jsonb: NaN, inf, NUL, ...)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str | int | float | bool | dict | list | tuple | np.ndarray):
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
    required = fmt.required_fields
    reasons: list[pd.Series] = []
    notes: list[pd.Series] = []
    out = pd.DataFrame(index=raw.index)

    out["track_id"] = _as_text(src["track_id"])
    reasons.append(pd.Series(np.where(out["track_id"] == "", "track_id: missing", ""), raw.index))
    reasons.append(_kind_reasons(src["track_id"], "track_id"))
    reasons.append(_text_reasons(out["track_id"], "track_id", raw.index))
    out["name"] = _as_text(src["name"])
    reasons.append(pd.Series(np.where(out["name"] == "", "track_name: missing", ""), raw.index))
    reasons.append(_kind_reasons(src["name"], "track_name"))
    reasons.append(_text_reasons(out["name"], "track_name", raw.index))
    if "artists" in src:
        lists_ok = fmt.artists_style in ("list", "comma")
        reasons.append(_kind_reasons(src["artists"], "artists", lists_ok=lists_ok))
        out["artists"] = parse_artists(src["artists"], fmt.artists_style)
        names = out["artists"].explode().dropna().astype(str)
        reasons.append(_text_reasons(names, "artists", raw.index))
    else:
        out["artists"] = [[] for _ in range(n)]

    numbers = {**FEATURE_RULES, **OPTIONAL_NUMBERS}
    for name, (low, high, integer) in numbers.items():
        if name not in src:
            out[name] = np.nan
            continue
        out[name], reason, note = _numbers(
            src[name], name, low, high, integer, required=name in required
        )
        reasons.append(reason)
        notes.append(note)
    if "explicit" in src:
        out["explicit"], note = _booleans(src["explicit"], "explicit")
        notes.append(note)
    else:
        out["explicit"] = None
    for name in PLAIN_TEXT_FIELDS:
        text = _as_text(src[name]) if name in src else pd.Series("", index=raw.index)
        if name in src:
            reasons.append(_kind_reasons(src[name], name))
            reasons.append(_text_reasons(text, name, raw.index))
        out[name] = text.where(text != "", None)
    if "genre" in src:
        reasons.append(_kind_reasons(src["genre"], "genre", lists_ok=True))
        out["genres"] = parse_genres(src["genre"])
        each = out["genres"].explode().dropna().astype(str)
        reasons.append(_text_reasons(each, "genre", raw.index))
    else:
        out["genres"] = [[] for _ in range(n)]
    out["genre"] = out["genres"].map(lambda g: ";".join(g) if g else None)
    if "release_date" in src:
        reasons.append(_kind_reasons(src["release_date"], "release_date"))
        reasons.append(_text_reasons(_as_text(src["release_date"]), "release_date", raw.index))
    year_column = next((c for c in YEAR_COLUMNS if c in raw and c not in fmt.columns), None)
    out["release_date"], out["release_year"], note = _release(
        src.get("release_date"), raw[year_column] if year_column else None, raw.index
    )
    notes.append(note)
    for column in fmt.playlist_columns:  # written to `playlists`: the same rules
        if column in raw:
            reasons.append(_kind_reasons(raw[column], column))
            reasons.append(_text_reasons(_as_text(raw[column]), column, raw.index))

    if table.broken:  # a ragged row or raw NUL bytes: the row, with the reader's reason
        broken = pd.Series("", index=raw.index, dtype=object)
        broken[list(table.broken)] = list(table.broken.values())
        reasons.insert(0, broken)
    problems = pd.concat(reasons, axis=1)
    bad = (problems != "").any(axis=1)
    quarantine = []
    counted: dict[str, int] = {}
    if bad.any():
        bad_rows = problems[bad]
        raw_bad = raw[bad]
        for idx in bad_rows.index:
            reason = "; ".join(dict.fromkeys(r for r in bad_rows.loc[idx] if r))
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
    coerced, coerced_fields, examples = _coercions(table, notes, ~bad)

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
        coerced=coerced,
        coerced_fields=coerced_fields,
        coerced_examples=examples,
    )


def _coercions(
    table: RawTable, notes: list[pd.Series], kept: pd.Series
) -> tuple[int, dict[str, int], list[str]]:
    """Kept rows with a coerced value, notes per field, and the first few rows' notes."""
    if not notes:
        return 0, {}, []
    frame = pd.concat(notes, axis=1)[kept]
    noted = frame != ""
    rows = noted.any(axis=1)
    fields: dict[str, int] = {}
    for column in frame.columns:
        for text in frame.loc[noted[column], column]:
            for part in str(text).split("; "):
                key = part.split(":")[0]
                fields[key] = fields.get(key, 0) + 1
    examples = [
        f"line {table.line_of(int(idx))}: " + "; ".join(t for t in frame.loc[idx] if t)
        for idx in frame.index[rows][:MAX_COERCION_EXAMPLES]
    ]
    return int(rows.sum()), fields, examples


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
