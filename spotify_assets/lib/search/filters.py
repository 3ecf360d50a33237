"""Filters from explicit `--where` text and from words in a natural-language query.

Filters are data (column, operator, value): the engine turns them into SQL with identifiers
from a whitelist and values as parameters, so no input text ever becomes SQL. Every value is
checked against its column's type here, before any SQL runs: numeric columns take finite
numbers, text columns take quoted text. Values outside a column's plausible range are kept
and reported by `range_notes` (the catalog may hold odd rows; an empty result then says what
the catalog really holds).
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from spotify_assets.lib.errors import InputError
from spotify_assets.lib.store.embeddings import (
    FILTER_COLUMNS,
    INTEGER_FILTER_COLUMNS,
    TEXT_FILTER_COLUMNS,
)

# compared case-insensitively, on lower() indexes; genre against each of a track's genres
TEXT_COLUMNS = set(TEXT_FILTER_COLUMNS)
NUMERIC_COLUMNS = set(FILTER_COLUMNS) - TEXT_COLUMNS
INTEGER_COLUMNS = set(INTEGER_FILTER_COLUMNS)
OPERATORS = ("<", "<=", ">", ">=", "=", "!=")
OPERATOR_ALIASES = {"==": "=", "<>": "!="}
MAX_WHERE_CHARS = 2_000
MAX_CLAUSES = 20
MAX_TEXT_VALUE_CHARS = 200

_UNIT = (0.0, 1.0, "")
# (low, high, unit): where real values lie; a filter outside gets a note, not an error
PLAUSIBLE_RANGES: dict[str, tuple[float, float, str]] = {
    "danceability": _UNIT,
    "energy": _UNIT,
    "speechiness": _UNIT,
    "acousticness": _UNIT,
    "instrumentalness": _UNIT,
    "liveness": _UNIT,
    "valence": _UNIT,
    "tempo": (0, 260, " BPM"),
    "loudness": (-60, 5, " dB"),
    "key": (-1, 11, "; -1 = unknown, 0 = C … 11 = B"),
    "mode": (0, 1, "; 0 = minor, 1 = major"),
    "popularity": (0, 100, ""),
    "release_year": (1900, date.today().year + 1, ""),
    "duration_ms": (0, 7_200_000, " ms"),
}


class SearchInputError(InputError):
    """An input the search refuses, before any SQL runs; its message is one line."""


class FilterError(SearchInputError):
    pass


def shown(text: object, limit: int = 60) -> str:
    """User text fit for a one-line message: non-printables escaped, long text cut."""
    text = str(text)
    cut = len(text) > limit
    text = text[:limit]
    text = "".join(
        ch if ch.isprintable() else ascii(ch)[1:-1] if ord(ch) > 0xFF else f"\\x{ord(ch):02x}"
        for ch in text
    )
    return text + "…" if cut else text


def format_number(value: float) -> str:
    """120 → '120', 0.3 → '0.3', 1e30 → '1e+30' (never a rounded-off 1.23457e+06)."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_value(value: float | str) -> str:
    if isinstance(value, str):
        return "'" + shown(value).replace("'", "''") + "'"
    return format_number(value)


def _check_text_value(column: str, value: str) -> None:
    if len(value) > MAX_TEXT_VALUE_CHARS:
        raise FilterError(
            f"{column} value is {len(value):,} characters long; the maximum is "
            f"{MAX_TEXT_VALUE_CHARS}"
        )
    for ch in value:
        if "\ud800" <= ch <= "\udfff":
            raise FilterError(f"{column} value {format_value(value)} is not valid UTF-8")
        if unicodedata.category(ch) == "Cc":
            raise FilterError(
                f"{column} value {format_value(value)} holds a control character (U+{ord(ch):04X})"
            )


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: float | str
    source: str = ""  # the words or clause it came from
    understood: bool = False  # from the query's words rather than explicit --where

    def __post_init__(self) -> None:
        if self.column not in NUMERIC_COLUMNS | TEXT_COLUMNS:
            raise FilterError(
                f"cannot filter on {format_value(str(self.column))}; filterable: "
                f"{', '.join(sorted(NUMERIC_COLUMNS | TEXT_COLUMNS))}"
            )
        if self.op not in OPERATORS:
            raise FilterError(
                f"unknown operator {format_value(str(self.op))}; use one of {' '.join(OPERATORS)}"
            )
        if self.column in TEXT_COLUMNS:
            if self.op not in ("=", "!="):
                raise FilterError(f"{self.column} is text: it can only be compared with = or !=")
            if not isinstance(self.value, str):
                shown_value = (
                    format_number(self.value)
                    if isinstance(self.value, numbers.Real) and not isinstance(self.value, bool)
                    else shown(self.value)
                )
                raise FilterError(
                    f"{self.column} is text: write {self.column}{self.op}'{shown_value}'"
                )
            _check_text_value(self.column, self.value)
            object.__setattr__(self, "value", unicodedata.normalize("NFC", self.value))
            return
        if isinstance(self.value, bool) or not isinstance(self.value, numbers.Real):
            raise FilterError(f"{self.column} is a number; {format_value(str(self.value))} is not")
        if not math.isfinite(float(self.value)):
            raise FilterError(
                f"{self.column} is a number; {format_value(str(self.value))} is not a finite number"
            )
        number = int(self.value) if isinstance(self.value, numbers.Integral) else float(self.value)
        object.__setattr__(self, "value", number)

    def describe(self) -> str:
        text = f"{self.column} {self.op} {format_value(self.value)}"
        return f"{text} (from “{shown(self.source)}”)" if self.understood and self.source else text

    def key(self) -> tuple:
        value = self.value.lower() if isinstance(self.value, str) else float(self.value)
        return (self.column, self.op, value)


def _genre_lists(tracks: pd.DataFrame) -> pd.Series:
    """Each row's genres, lower-cased: the `genres` column, else `genre` split on `;` (the
    loader joins a multi-genre cell with `;`, so both give the same lists)."""
    if "genres" in tracks:
        lists = tracks["genres"]
    else:
        lists = tracks["genre"].map(lambda g: g.split(";") if isinstance(g, str) else [])
    return lists.map(lambda gs: {str(g).strip().lower() for g in (gs if gs is not None else [])})


def matching_ids(tracks: pd.DataFrame, filters: list[Filter]) -> set[str]:
    """track_ids of the rows that pass every filter: the SQL predicate, in pandas. A genre
    filter matches any of a track's genres; `genre != x` needs a track with genres."""
    mask = np.ones(len(tracks), dtype=bool)
    for f in filters:
        if f.column == "genre":
            genres = _genre_lists(tracks)
            wanted = f.value.lower()
            has = np.array([wanted in gs for gs in genres], dtype=bool)
            known = genres.map(bool).to_numpy(dtype=bool)
            mask &= has if f.op == "=" else known & ~has
            continue
        column = tracks[f.column]
        if isinstance(f.value, str):
            equal = (column.fillna("").str.lower() == f.value.lower()).to_numpy()
            mask &= equal if f.op == "=" else ~equal
            continue
        values = column.astype(float).to_numpy()
        mask &= {
            "<": values < f.value,
            "<=": values <= f.value,
            ">": values > f.value,
            ">=": values >= f.value,
            "=": values == f.value,
            "!=": values != f.value,
        }[f.op]
    return set(tracks.loc[mask, "track_id"])


# quoted text ('' or "" inside doubles the quote), a run of blanks, or anything else
_TOKEN = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|\s+|[^\s'"]+""")
_QUOTED = re.compile("'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"")
_CLAUSE = re.compile(r"^(?P<column>[^<>=!~\s]*)\s*(?P<op>[<>=!~]+)\s*(?P<value>.*)$", re.S)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[\w.,+\-]+")
_NOT_FINITE = {"nan", "inf", "infinity"}
_HINT = "write `column op value` joined by `and`, e.g. tempo>140 and genre='rock'"
# Bidirectional overrides and isolates reorder how a terminal shows text ("Trojan source")
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_where_text(text: object) -> str:
    if not isinstance(text, str):
        raise FilterError(f"--where must be text, not {type(text).__name__}")
    if len(text) > MAX_WHERE_CHARS:
        raise FilterError(
            f"--where is {len(text):,} characters long; the maximum is {MAX_WHERE_CHARS:,}"
        )
    for ch in text:
        if "\ud800" <= ch <= "\udfff":
            raise FilterError(f"--where is not valid UTF-8 (it holds {shown(ch)})")
        if ch.isspace():
            continue
        if unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS:
            raise FilterError(f"--where holds a control character (U+{ord(ch):04X})")
    return unicodedata.normalize("NFC", text)


def _split_clauses(text: str) -> list[str]:
    """Clauses between top-level `and`s; `and` inside quotes is part of a value."""
    clauses: list[list[str]] = [[]]
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        word = token.lower()
        if word == "and":
            clauses.append([])
        elif word in ("or", "||"):
            raise FilterError(
                f"only `and` joins filters; {token!r} is not supported (run one search per "
                "alternative)"
            )
        else:
            clauses[-1].append(token)
    parts = ["".join(tokens).strip() for tokens in clauses]
    if any(not part for part in parts):
        raise FilterError(f"empty filter around `and` in {shown(text)!r}: {_HINT}")
    return parts


def _parse_value(column: str, op: str, raw: str, clause: str) -> float | str:
    if not raw:
        raise FilterError(f"{column} {op} needs a value, e.g. {_example(column, op)}")
    if quoted := _QUOTED.fullmatch(raw):
        if quoted.group(1) is not None:
            text = quoted.group(1).replace("''", "'")
        else:
            text = quoted.group(2).replace('""', '"')
        if column in TEXT_COLUMNS:
            return text
        if _NUMBER.fullmatch(text.strip()):
            raise FilterError(f"{column} is a number: write {column}{op}{text.strip()} (no quotes)")
        raise FilterError(f"{column} is a number; {format_value(text)} is not")
    if raw[0] in "'\"":
        raise FilterError(f"cannot parse filter {shown(clause)!r}: unbalanced quote; {_HINT}")
    if not _WORD.fullmatch(raw):
        raise FilterError(f"cannot parse filter {shown(clause)!r}: {_HINT}")
    if column in TEXT_COLUMNS:
        raise FilterError(f"{column} is text: write {column}{op}'{shown(raw)}'")
    if raw.lower().lstrip("+-") in _NOT_FINITE:
        raise FilterError(f"{column} is a number; {format_value(raw)} is not a finite number")
    if not _NUMBER.fullmatch(raw):
        comma = " (write decimals with a point)" if _NUMBER.fullmatch(raw.replace(",", ".")) else ""
        raise FilterError(f"{column} is a number; {format_value(raw)} is not{comma}")
    number = float(raw)
    if not math.isfinite(number):
        raise FilterError(f"{column} is a number; {format_value(raw)} is not a finite number")
    return number


def _example(column: str, op: str) -> str:
    if column in TEXT_COLUMNS:
        return f"{column}{op}'rock'"
    low, high, _ = PLAUSIBLE_RANGES.get(column, (0, 1, ""))
    return f"{column}{op}{format_number((low + high) / 2)}"


def parse_where(text: str | None) -> list[Filter]:
    """`tempo>140 and valence<0.3 and genre='rock'` → filters; anything else is an error.

    Column names are case-insensitive; `==` and `<>` are read as `=` and `!=`; repeated
    clauses count once.
    """
    if text is None:
        return []
    text = _check_where_text(text)
    if not text.strip():
        return []
    clauses = _split_clauses(text)
    if len(clauses) > MAX_CLAUSES:
        raise FilterError(f"--where has {len(clauses)} clauses; the maximum is {MAX_CLAUSES}")
    filters: list[Filter] = []
    seen: set[tuple] = set()
    for clause in clauses:
        match = _CLAUSE.match(clause)
        if not match or not match["column"]:
            raise FilterError(f"cannot parse filter {shown(clause)!r}: {_HINT}")
        column = match["column"].lower()
        if column not in NUMERIC_COLUMNS | TEXT_COLUMNS:
            raise FilterError(
                f"cannot filter on {format_value(match['column'])}; filterable: "
                f"{', '.join(sorted(NUMERIC_COLUMNS | TEXT_COLUMNS))}"
            )
        op = OPERATOR_ALIASES.get(match["op"], match["op"])
        if op not in OPERATORS:
            raise FilterError(
                f"unknown operator {match['op']!r} in {shown(clause)!r}; use one of "
                f"{' '.join(OPERATORS)}"
            )
        if column in TEXT_COLUMNS and op not in ("=", "!="):
            raise FilterError(f"{column} is text: it can only be compared with = or !=")
        value = _parse_value(column, op, match["value"].strip(), clause)
        f = Filter(column, op, value, source=clause)
        if f.key() not in seen:
            seen.add(f.key())
            filters.append(f)
    return filters


def range_notes(filters: list[Filter]) -> list[str]:
    """Warnings for values outside a column's plausible range, or that no row can equal."""
    notes = []
    for f in filters:
        if isinstance(f.value, str) or f.column not in PLAUSIBLE_RANGES:
            continue
        low, high, unit = PLAUSIBLE_RANGES[f.column]
        if not low <= f.value <= high:
            notes.append(
                f"{f.describe()} is outside the plausible range of {f.column} "
                f"({format_number(low)} to {format_number(high)}{unit})"
            )
        elif f.column in INTEGER_COLUMNS and f.op == "=" and not float(f.value).is_integer():
            notes.append(f"{f.column} is a whole number, so {f.describe()} matches nothing")
    return notes
