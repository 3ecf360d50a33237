"""Read a catalog file (CSV or parquet) into a frame of raw values, with clear errors.

CSV cells stay strings so validation can quote the exact bad value; parquet keeps its types.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from spotify_assets.lib.catalog.errors import CatalogError

PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class RawTable:
    frame: pd.DataFrame
    kind: str  # "csv" | "parquet"
    path: str

    def line_of(self, index: int) -> int:
        """Where a row lives: the CSV line (header = line 1), or the 1-based parquet row."""
        return index + 2 if self.kind == "csv" else index + 1


def _check_utf8(data: bytes, path: Path) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise CatalogError(
            f"{path}: not valid UTF-8 (byte 0x{bad} at line {line}, offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from None


def read_table(path: str | Path) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"catalog source not found: {path}")
    if path.is_dir():
        raise CatalogError(f"catalog source is a directory, expected a CSV or parquet file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise CatalogError(f"{path}: file is empty (0 bytes)")

    with path.open("rb") as fh:
        head = fh.read(4)
    if head == PARQUET_MAGIC or path.suffix.lower() == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise CatalogError(
                f"{path}: cannot read parquet (truncated or corrupt file?): {exc}"
            ) from exc
        kind = "parquet"
    else:
        data = path.read_bytes()
        _check_utf8(data, path)
        if not data.strip():
            raise CatalogError(f"{path}: file is empty (whitespace only)")
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding="utf-8-sig",
            )
        except pd.errors.ParserError as exc:
            raise CatalogError(
                f"{path}: malformed CSV (truncated file or unbalanced quotes?): {exc}"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise CatalogError(f"{path}: no columns found; is this a CSV file?") from exc
        kind = "csv"

    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        twice = sorted({c[:40] for c in frame.columns[frame.columns.duplicated()]})
        raise CatalogError(f"{path}: column names occur more than once: {', '.join(twice[:10])}")
    if len(frame) == 0:
        raise CatalogError(f"{path}: has a header but no data rows")
    return RawTable(frame=frame.reset_index(drop=True), kind=kind, path=str(path.resolve()))
