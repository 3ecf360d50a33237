"""Every row of an export file accounted for: rows = stored + excluded + quarantined + duplicates.

- stored: what is in the database after the import (a play, a playlist member, a liked song),
  new or already there from an earlier import;
- excluded: what the product does not keep, counted by kind (podcast episodes, audiobooks,
  videos, local files);
- quarantined: rows that could not be read, each with its position and a true reason;
- duplicates: the same thing listed again (one play in a JSON file and in its CSV conversion,
  one song twice in a playlist or the liked list).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


def file_label(name: str) -> str:
    """A file's name without its folders (which can hold the person's account name), and the
    member for a zip ("export.zip!Spotify Account Data/StreamingHistory0.json")."""
    archive, bang, member = name.partition("!")
    return Path(archive).name + bang + member


@dataclass
class FileAccount:
    file: str  # file_label of the file
    part: str  # playlists | library | history
    sha256: str
    rows: int = 0
    stored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    excluded: dict[str, int] = field(default_factory=dict)  # kind → rows
    note: str | None = None  # e.g. "read as Windows-1252"

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())

    @property
    def balanced(self) -> bool:
        return self.rows == self.stored + self.excluded_total + self.quarantined + self.duplicates

    def line(self) -> str:
        kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(self.excluded.items()) if n)
        excluded = f"{self.excluded_total:,} excluded" + (f" ({kinds})" if kinds else "")
        text = (
            f"{self.file}: {self.rows:,} rows = {self.stored:,} stored + {excluded} + "
            f"{self.quarantined:,} quarantined + {self.duplicates:,} duplicates"
        )
        if not self.balanced:
            text += "  (DOES NOT ADD UP)"
        return text + (f"; note: {self.note}" if self.note else "")

    def as_dict(self) -> dict:
        return {**asdict(self), "balanced": self.balanced}

    @classmethod
    def from_dict(cls, row: dict) -> FileAccount:
        """The account `as_dict` wrote (a step's metadata); a missing field is an error."""
        names = ("file", "part", "sha256", "rows", "stored", "quarantined", "duplicates",
                 "excluded", "note")  # fmt: skip
        return cls(**{name: row[name] for name in names})
