"""Load one catalog file into Postgres in a single transaction.

The report counts rows kept with an optional value rounded or set to null (`coerced`, notes
per field in `coerced_fields`, the first rows' notes in `coerced_examples`) apart from rows
rejected (`quarantined`, reasons per field in `reasons`).

With `max_quarantine_ratio`, the share of rejected rows is checked after validation and
before the transaction: a file over it raises `QuarantineRatioError` (a CatalogError) and
writes nothing, neither tracks nor quarantine rows.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from spotify_assets.lib.catalog.errors import CatalogError, QuarantineRatioError
from spotify_assets.lib.catalog.formats import detect_format
from spotify_assets.lib.catalog.links import refresh_links
from spotify_assets.lib.catalog.reader import read_table
from spotify_assets.lib.catalog.validate import ValidatedCatalog, validate
from spotify_assets.lib.hashing import file_sha256
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.quarantine import QuarantineRepository
from spotify_assets.lib.store.tracks import TrackRepository

log = logging.getLogger(__name__)
QUARANTINE_STAGE = "catalog"


@dataclass
class CatalogLoadReport:
    source_file: str
    source_sha256: str
    format: str
    rows_read: int
    valid_tracks: int
    duplicates: int
    quarantined: int
    quarantine_new: int
    inserted: int
    updated: int
    unchanged: int
    playlists_written: int = 0
    memberships_written: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)
    coerced: int = 0
    coerced_fields: dict[str, int] = field(default_factory=dict)
    coerced_examples: list[str] = field(default_factory=list)
    note: str | None = None  # how the file was read, when not as plain UTF-8
    library_moved: int = 0  # songs known only by name whose exact track this catalog has
    library_linked: int = 0  # library songs newly linked to a catalog track of their name

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    @property
    def quarantine_ratio(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "written": self.written, "quarantine_ratio": self.quarantine_ratio}


def load_catalog(
    db: Database,
    path: str | Path,
    fmt: str = "auto",
    *,
    max_quarantine_ratio: float | None = None,
) -> CatalogLoadReport:
    """Validate `path` and merge it into `tracks` (+ playlists, quarantine) atomically.

    Raises CatalogError, before anything is written, when the file cannot be loaded at all,
    and QuarantineRatioError (a CatalogError) when more than `max_quarantine_ratio` of its
    rows are rejected (None: no limit).
    """
    started = time.perf_counter()
    table = read_table(path)
    try:
        detected = detect_format(table.frame.columns, fmt)
    except CatalogError as exc:  # say which file
        raise CatalogError(f"{table.path}: {exc}") from None
    if fmt != "auto" and (renames := detected.renames(table.frame.columns)):  # other names
        log.info("%s: columns read as %s", table.path, renames)
        table = dataclasses.replace(table, frame=table.frame.rename(columns=renames))
    sha = file_sha256(table.path)
    log.info("%s: %d rows, format %s", table.path, len(table.frame), detected.name)
    checked = validate(table, detected, sha)
    log.info(
        "validated: %d unique tracks, %d duplicate ids, %d quarantined, %d kept with a value "
        "coerced %s",
        len(checked.tracks),
        checked.duplicates,
        len(checked.quarantine),
        checked.coerced,
        checked.coerced_fields or "",
    )
    for example in checked.coerced_examples:
        log.info("coerced: %s", example)

    if max_quarantine_ratio is not None and checked.rows_read:
        ratio = len(checked.quarantine) / checked.rows_read
        if ratio > max_quarantine_ratio:
            raise _too_many_rejected(
                table.path, sha, detected.name, checked, ratio, started, max_quarantine_ratio
            )

    playlists_written = memberships_written = 0
    with db.connect() as conn, conn.transaction():
        counts = TrackRepository(conn).upsert(checked.tracks)
        quarantine_new = QuarantineRepository(conn).add(
            QUARANTINE_STAGE, table.path, sha, checked.quarantine
        )
        if checked.playlists is not None and checked.memberships is not None:
            repo = PlaylistRepository(conn)
            playlists_written = repo.upsert_playlists(checked.playlists).written
            memberships_written = repo.upsert_memberships(checked.memberships).written
        links = refresh_links(conn)  # songs people named before this catalog knew them

    report = CatalogLoadReport(
        source_file=table.path,
        source_sha256=sha,
        format=detected.name,
        rows_read=checked.rows_read,
        valid_tracks=len(checked.tracks),
        duplicates=checked.duplicates,
        quarantined=len(checked.quarantine),
        quarantine_new=quarantine_new,
        inserted=counts.inserted,
        updated=counts.updated,
        unchanged=counts.unchanged,
        playlists_written=playlists_written,
        memberships_written=memberships_written,
        seconds=time.perf_counter() - started,
        reasons=checked.reasons,
        note=table.note,
        library_moved=links.moved_to_catalog,
        library_linked=links.linked_by_name + links.linked_by_song,
        **_coercions(checked),
    )
    log.debug("catalog load: %s", report.as_dict())
    return report


def _coercions(checked: ValidatedCatalog) -> dict:
    return {
        "coerced": checked.coerced,
        "coerced_fields": checked.coerced_fields,
        "coerced_examples": checked.coerced_examples,
    }


def _too_many_rejected(
    path: str,
    sha: str,
    fmt: str,
    checked: ValidatedCatalog,
    ratio: float,
    started: float,
    threshold: float,
) -> QuarantineRatioError:
    first = "; ".join(f"line {r.line}: {r.reason[:200]}" for r in checked.quarantine[:3])
    message = (
        f"{path}: {len(checked.quarantine):,} of {checked.rows_read:,} rows rejected "
        f"(ratio {ratio:.2%}, threshold {threshold:.2%}); nothing was written. "
        f"First reasons: {first}"
    )
    report = CatalogLoadReport(
        source_file=path,
        source_sha256=sha,
        format=fmt,
        rows_read=checked.rows_read,
        valid_tracks=len(checked.tracks),
        duplicates=checked.duplicates,
        quarantined=len(checked.quarantine),
        quarantine_new=0,
        inserted=0,
        updated=0,
        unchanged=0,
        seconds=time.perf_counter() - started,
        reasons=checked.reasons,
        **_coercions(checked),
    )
    return QuarantineRatioError(message, report)
