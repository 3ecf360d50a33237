"""Filters from explicit `--where` text and from words in a natural-language query.

Filters are data (column, operator, values): the engine turns them into SQL with identifiers
from a whitelist and values as parameters, so no input text ever becomes SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotify_assets.lib.store.embeddings import FILTER_COLUMNS, TEXT_FILTER_COLUMNS

TEXT_COLUMNS = set(TEXT_FILTER_COLUMNS)  # compared case-insensitively, on lower() indexes
NUMERIC_COLUMNS = set(FILTER_COLUMNS) - TEXT_COLUMNS
OPERATORS = {"<", "<=", ">", ">=", "=", "!="}


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: float | str
    source: str = ""  # the words it came from, shown to the user

    def __post_init__(self) -> None:
        if self.column not in NUMERIC_COLUMNS | TEXT_COLUMNS:
            raise FilterError(
                f"cannot filter on {self.column!r}; filterable: "
                f"{', '.join(sorted(NUMERIC_COLUMNS | TEXT_COLUMNS))}"
            )
        if self.op not in OPERATORS:
            raise FilterError(f"unknown operator {self.op!r}; use one of {' '.join(OPERATORS)}")
        if self.column in TEXT_COLUMNS and self.op not in ("=", "!="):
            raise FilterError(f"{self.column} can only be compared with = or !=")

    def describe(self) -> str:
        value = f"'{self.value}'" if isinstance(self.value, str) else f"{self.value:g}"
        text = f"{self.column} {self.op} {value}"
        return f"{text} (from “{self.source}”)" if self.source else text


def matching_ids(tracks: pd.DataFrame, filters: list[Filter]) -> set[str]:
    """track_ids of the rows that pass every filter: the SQL predicate, in pandas."""
    mask = np.ones(len(tracks), dtype=bool)
    for f in filters:
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


_CLAUSE = re.compile(
    r"""^\s*(?P<column>[a-z_]+)\s*(?P<op><=|>=|!=|=|<|>)\s*
        (?:(?P<number>-?\d+(?:\.\d+)?)|'(?P<text>[^']*)'|"(?P<dq>[^"]*)")\s*$""",
    re.VERBOSE,
)


def parse_where(text: str | None) -> list[Filter]:
    """`tempo>140 and valence<0.3 and genre='rock'` → filters; anything else is an error."""
    if not text or not text.strip():
        return []
    filters = []
    for clause in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if not match:
            raise FilterError(
                f"cannot parse filter {clause!r}: write `column op value` joined by `and`, "
                "e.g. tempo>140 and genre='rock'"
            )
        number = match["number"]
        value: float | str = (
            float(number) if number is not None else (match["text"] or match["dq"] or "")
        )
        filters.append(Filter(match["column"], match["op"], value, source=clause.strip()))
    return filters


# (pattern, filters) — bands agree with the words track descriptions use (lib/describe.py).
_WORD_RULES: list[tuple[str, list[tuple[str, str, float]]]] = [
    (r"\b(very fast|fast|uptempo|up-tempo)\b", [("tempo", ">", 140)]),
    (r"\b(slow|slower)\b", [("tempo", "<", 100)]),
    (r"\b(sad|melancholic|melancholy|depressing|heartbroken)\b", [("valence", "<", 0.3)]),
    (r"\b(happy|cheerful|joyful|euphoric)\b", [("valence", ">", 0.7)]),
    (r"\b(instrumental|no vocals|without vocals)\b", [("instrumentalness", ">", 0.5)]),
    (r"\b(acoustic|unplugged)\b", [("acousticness", ">", 0.7)]),
    (r"\b(high energy|high-energy|energetic|intense)\b", [("energy", ">", 0.7)]),
    (r"\b(calm|chill|relaxing|mellow|quiet)\b", [("energy", "<", 0.4)]),
    (r"\b(danceable|dance music|to dance to)\b", [("danceability", ">", 0.7)]),
    (r"\b(rap|spoken word)\b", [("speechiness", ">", 0.33)]),
    (r"\b(popular|hits?)\b", [("popularity", ">=", 70)]),
]


def parse_query(text: str, genres: list[str] | tuple[str, ...] = ()) -> list[Filter]:
    """Filters a query states in words: "fast", "130 BPM", "sad", "acoustic", "80s", a genre."""
    lowered = text.lower()
    found: list[Filter] = []
    for pattern, rules in _WORD_RULES:
        if match := re.search(pattern, lowered):
            found.extend(Filter(c, op, v, source=match.group(0)) for c, op, v in rules)
    if bpm := re.search(r"\b(\d{2,3})\s*bpm\b", lowered):
        value = float(bpm.group(1))
        found = [f for f in found if f.column != "tempo"]
        found += [
            Filter("tempo", ">=", value - 5, source=bpm.group(0)),
            Filter("tempo", "<=", value + 5, source=bpm.group(0)),
        ]
    if decade := re.search(r"\b(?:(19|20)(\d)0s|'?(\d)0s)\b", lowered):
        if decade.group(1):
            start = int(decade.group(1) + decade.group(2) + "0")
        else:
            digit = int(decade.group(3))
            start = (1900 if digit >= 3 else 2000) + digit * 10
        found += [
            Filter("release_year", ">=", start, source=decade.group(0)),
            Filter("release_year", "<=", start + 9, source=decade.group(0)),
        ]
    # longest genre names first, so "hard rock" wins over "rock"
    for genre in sorted({g for g in genres if g}, key=len, reverse=True):
        if re.search(rf"(?<![\w-]){re.escape(genre.lower())}(?![\w-])", lowered):
            found.append(Filter("genre", "=", genre, source=genre))
            break
    return found
