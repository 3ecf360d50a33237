"""Rules for single input values that would break storage, shared by the loaders.

A loader checks every value it stores with these before anything reaches Postgres: text must
be text (not an object, list or number), hold no NUL or other control character (Postgres text
cannot hold NUL) and no unpaired surrogate (it cannot be encoded), and be at most `MAX_TEXT`
characters; a number must be a finite number. Each rule returns why a value fails, phrased to
follow a field name ("track_name: contains a NUL character"), or None when it passes.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

MAX_TEXT = 1000  # characters; the longest real track/artist/album name is a few hundred
# C0 and C1 control characters; tab, newline and carriage return included: no name holds one
CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_CONTROL = re.compile(CONTROL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_INT_DIGITS = 18  # longer integers are read as floats (no 4,300-digit conversion limit)


def kind_of(value: Any) -> str:
    """How a value is named in a reason: "an object", "a list", "a number", ..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple | set | np.ndarray):
        return "a list"
    if isinstance(value, bool | np.bool_):
        return "a boolean"
    if isinstance(value, int | float | np.number):
        return "a number"
    if isinstance(value, bytes | bytearray):
        return "bytes"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored as a name, or None."""
    if len(text) > MAX_TEXT:
        return f"{len(text):,} characters, longer than the {MAX_TEXT:,} allowed"
    if text.isprintable():  # fast path: no control character, no surrogate
        return None
    if "\x00" in text:
        return "contains a NUL character"
    if match := _CONTROL.search(text):
        return f"contains a control character (U+{ord(match[0]):04X})"
    if _SURROGATE.search(text):
        return "contains an invalid character (an unpaired UTF-16 surrogate)"
    return None  # other unprintable characters (format marks, rare scripts) are fine


def check_text(value: Any) -> str | None:
    """Why `value` is not storable text; None for text that is, and for None (missing)."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"expected text, got {kind_of(value)}"
    return text_problem(value)


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """(number, None) for a finite number or numeric text; (None, why) for anything else;
    (None, None) when missing (None or blank text)."""
    if value is None:
        return None, None
    if isinstance(value, bool | np.bool_):
        return None, f"expected a number, got {str(bool(value)).lower()}"
    if isinstance(value, int | np.integer):
        number = float(value) if abs(int(value)).bit_length() < 1024 else math.inf
    elif isinstance(value, float | np.floating):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None, None
        if len(text) > 100:
            return None, f"not a number ({len(text):,} characters of text)"
        if not text.isprintable():
            return None, "not a number (text with unprintable characters)"
        try:
            number = float(text)
        except ValueError:
            return None, f"not a number ({text[:40]!r})"
    else:
        return None, f"expected a number, got {kind_of(value)}"
    if math.isnan(number):
        return None, "NaN is not a finite number"
    if math.isinf(number):
        return None, f"{'-' if number < 0 else ''}infinity is not a finite number"
    return number, None


def json_int(text: str) -> int | float:
    """`json.loads(parse_int=...)`: integers with more digits than any real value are read as
    floats, so a 5,000-digit number is "out of range" instead of a conversion error."""
    return int(text) if len(text.lstrip("-")) <= _MAX_INT_DIGITS else float(text)
