"""The query text and the result limit, checked and normalised before any SQL runs.

Query: invalid UTF-8 (lone surrogates: how Python's argv carries undecodable bytes) is
removed; control characters become spaces and bidirectional overrides are removed, each with
a note; blanks collapse to single spaces; Unicode is put in NFC; more than MAX_QUERY_CHARS
characters is refused (the model reads only its first ~256 tokens anyway). Limit: a whole
number from 1 to MAX_LIMIT, else refused.
"""

from __future__ import annotations

import numbers
import re
import unicodedata

from spotify_assets.lib.search.filters import BIDI_CONTROLS, SearchInputError, shown

MAX_QUERY_CHARS = 1_000
MAX_LIMIT = 500
_RAW_QUERY_CHARS = 64 * MAX_QUERY_CHARS  # longer is refused before the per-character pass


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def normalize_query(raw: str | bytes | None) -> tuple[str, list[str]]:
    """(the query as searched, notes on what was removed); raises SearchInputError."""
    if raw is None:
        raw = ""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    if not isinstance(raw, str):
        raise SearchInputError(f"the query must be text, not {type(raw).__name__}")
    if len(raw) > _RAW_QUERY_CHARS:
        raise SearchInputError(
            f"the query is {len(raw):,} characters long; the maximum is {MAX_QUERY_CHARS:,}"
        )
    invalid = sum(1 for ch in raw if "\ud800" <= ch <= "\udfff")
    if invalid:
        raw = "".join(ch for ch in raw if not "\ud800" <= ch <= "\udfff")
    kept: list[str] = []
    controls = 0
    for ch in unicodedata.normalize("NFC", raw):
        if ch.isspace():
            kept.append(" ")
        elif unicodedata.category(ch) == "Cc":  # NUL, ESC, …: a word break
            controls += 1
            kept.append(" ")
        elif ch in BIDI_CONTROLS:
            controls += 1
        else:
            kept.append(ch)
    text = " ".join("".join(kept).split())
    if len(text) > MAX_QUERY_CHARS:
        raise SearchInputError(
            f"the query is {len(text):,} characters long; the maximum is {MAX_QUERY_CHARS:,}"
        )
    notes = []
    if invalid:
        notes.append(f"removed {_plural(invalid, 'invalid UTF-8 byte')} from the query")
    if controls:
        notes.append(f"removed {_plural(controls, 'control character')} from the query")
    return text, notes


def empty_query_error(notes: list[str]) -> SearchInputError:
    removed = " and ".join(
        n.removeprefix("removed ").removesuffix(" from the query") for n in notes
    )
    after = f" after removing {removed}" if removed else ""
    return SearchInputError(
        f"the query is empty{after}: give words to search for, or --where filters to list "
        "the tracks they match"
    )


def parse_limit(value: int | str | None) -> int:
    """--limit as given (text or a number) → 1 … MAX_LIMIT; anything else is refused."""
    refused = SearchInputError(
        f"--limit must be a whole number from 1 to {MAX_LIMIT}; got {shown(value, 30)!r}"
        if isinstance(value, str)
        else f"--limit must be a whole number from 1 to {MAX_LIMIT}; got {shown(value, 30)}"
    )
    if value is None or isinstance(value, bool):
        raise refused
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        if not float(value).is_integer():
            raise refused
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]+", text):
            raise refused
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > 9:  # never int() a huge string: refuse by its length
            raise refused
        number = int(text)
    else:
        raise refused
    if not 1 <= number <= MAX_LIMIT:
        raise refused
    return number
