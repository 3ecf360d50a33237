"""Read a catalog file (CSV or parquet) into a frame of raw values, with clear errors.

CSV cells stay strings so validation can quote the exact bad value; parquet keeps its types.
A CSV is read row by row: a row with more or fewer fields than the header is one broken row
(`RawTable.broken`, quarantined with its line by validation), not a broken file; a raw NUL byte
stays in its value, for validation to name the field. A CSV that is not UTF-8 is read as Windows-1252, as spreadsheet programs write it,
and `RawTable.note` says so.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from spotify_assets.lib.catalog.errors import CatalogError

PARQUET_MAGIC = b"PAR1"
_NUL = "\U000f0000"  # stands in for a raw NUL while the csv module reads (it refuses them)


@dataclass(frozen=True)
class RawTable:
    frame: pd.DataFrame
    kind: str  # "csv" | "parquet"
    path: str
    broken: dict[int, str] = field(default_factory=dict)  # row index → why the row is broken
    note: str | None = None  # e.g. how the text was decoded
    lines: list[int] | None = None  # per row, the CSV line it ends on (header = line 1)

    def line_of(self, index: int) -> int:
        """Where a row lives: the CSV line (header = line 1), or the 1-based parquet row."""
        if self.kind == "csv":
            return self.lines[index] if self.lines else index + 2
        return index + 1


def _decode(data: bytes) -> tuple[str, str | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return data.decode("cp1252", errors="replace"), (
            f"not UTF-8 (byte 0x{data[exc.start:exc.start + 1].hex()} at line {line}); read as "
            "Windows-1252 / Latin-1, as spreadsheet programs write it"
        )


@contextlib.contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """Let the csv module read fields up to `size` characters (its default is 128 KB): a long
    value is the row's problem, for validation to name."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, size))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _read_csv(text: str, path: Path) -> tuple[pd.DataFrame, dict[int, str], list[int]]:
    """The CSV's rows by header name (all text), the broken rows' reasons, and line numbers."""
    rows: list[list[str]] = []
    broken: dict[int, str] = {}
    lines: list[int] = []
    with _field_limit(len(text) + 1):
        reader = csv.reader(io.StringIO(text.replace("\x00", _NUL), newline=""))
        try:
            header = next(reader, None)
            if not header or not any(h.strip() for h in header):
                raise CatalogError(f"{path}: no columns found; is this a CSV file?")
            width = len(header)
            for row in reader:
                if not row:
                    continue
                index = len(rows)
                row = [value.replace(_NUL, "\x00") for value in row]  # validation names it
                if len(row) != width:
                    broken.setdefault(index, (
                        f"CSV row has {len(row)} fields, the header has {width} (a truncated, "
                        "cut or shifted row?)"
                    ))  # fmt: skip
                    row = (row + [""] * width)[:width]
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise CatalogError(f"{path}: malformed CSV at line {reader.line_num}: {exc}") from exc
    header = [h.replace(_NUL, "") for h in header]
    return pd.DataFrame(rows, columns=header, dtype=object), broken, lines


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
    broken: dict[int, str] = {}
    note, lines = None, None
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
        if not data.strip():
            raise CatalogError(f"{path}: file is empty (whitespace only)")
        text, note = _decode(data)
        frame, broken, lines = _read_csv(text, path)
        kind = "csv"

    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.columns.duplicated().any():
        twice = sorted({c[:40] for c in frame.columns[frame.columns.duplicated()]})
        raise CatalogError(f"{path}: column names occur more than once: {', '.join(twice[:10])}")
    if len(frame) == 0:
        raise CatalogError(f"{path}: has a header but no data rows")
    return RawTable(
        frame=frame.reset_index(drop=True), kind=kind, path=str(path.resolve()), broken=broken,
        note=note, lines=lines,
    )  # fmt: skip
