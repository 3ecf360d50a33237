"""JSON documents from analysis results: one conversion for the artifact store and jsonb columns.

Results hold numpy scalars, timestamps and NaN; JSON has none of them. NaN and infinities become
null (Postgres' jsonb and strict JSON parsers reject them), timestamps ISO 8601 strings.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd


def to_jsonable(value: Any) -> Any:
    """`value` with every part made JSON-safe (dict keys as strings)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    return value
