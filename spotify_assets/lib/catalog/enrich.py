"""Enrichment: fill what a track lacks from the Spotify Web API and ReccoBeats, when online.

Library tracks (lib/catalog/library.py) arrive with a name, artists and an album only. For every
track with a real Spotify id (22 base62 characters; a `lib:` id names no Spotify track) that
lacks a field:

1. Spotify `/v1/tracks` (50 a call): album name and id, release date and year, popularity,
   duration, explicit; for tracks without a genre, `/v1/artists` (50 a call) for their artists'
   genres, `;`-joined in credit order then Spotify's order (`rap;pop rap`), each genre once;
2. ReccoBeats audio features (40 a call) for tracks still without them. ReccoBeats needs no
   credentials, so it runs even when Spotify is not configured (most people importing an
   export have no Spotify app).

Only null fields are filled (`TrackRepository.fill_missing`): a catalog's or a person's value is
never overwritten. Each batch commits on its own; a batch that fails after the client's retries
is counted and logged and the others stay written. The selection is "tracks still lacking a
field that the source has not answered for lately", so the next run retries exactly what a
failed batch left. A source that cannot be reached at all (no answer, refused credentials) is
stopped at once with the reason instead of failing batch after batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spotify_assets.lib.features import AUDIO_FEATURES
from spotify_assets.lib.spotify.client import (
    TRACKS_BATCH,
    SpotifyAPIError,
    SpotifyAuthError,
    SpotifyClient,
)
from spotify_assets.lib.spotify.convert import release_year
from spotify_assets.lib.spotify.reccobeats import (
    RECCOBEATS_BATCH,
    ReccoBeatsClient,
    ReccoBeatsError,
)
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.tracks import TrackRepository

SPOTIFY = "spotify"
RECCOBEATS = "reccobeats"
# A track lacking any of these (what a description uses) is asked of /v1/tracks (+ /v1/artists
# for `genre`); its album id and release date are filled on the way. Catalogs without album ids
# are not swept for them alone.
SPOTIFY_FIELDS = (
    "album_name", "release_year", "popularity", "duration_ms", "explicit", "genre",
)  # fmt: skip
FEATURE_FIELDS = tuple(AUDIO_FEATURES)
# A source that answered for a track but lacked a field (an artist without genres, a song
# ReccoBeats does not know) is asked again only after this many days.
RECHECK_DAYS = 30


@dataclass
class SourceReport:
    considered: int = 0  # tracks selected for this source
    enriched: int = 0  # tracks that got at least one field
    failed_batches: int = 0
    remaining: int = 0  # tracks still lacking a field that the next run will ask for
    skipped: str = ""  # why the source did not run, or stopped

    def as_dict(self, prefix: str) -> dict[str, Any]:
        out = {f"{prefix}_{k}": v for k, v in self.__dict__.items() if k != "skipped"}
        if self.skipped:
            out[f"{prefix}_skipped"] = self.skipped
        return out


@dataclass
class EnrichmentReport:
    considered: int = 0  # distinct tracks selected by either source
    spotify: SourceReport = field(default_factory=SourceReport)
    reccobeats: SourceReport = field(default_factory=SourceReport)

    @property
    def skipped(self) -> str:
        """Why a source did not run ("" when both ran), e.g. for the asset's metadata."""
        parts = [f"{name}: {r.skipped}" for name, r in self.sources() if r.skipped]
        return "; ".join(parts)

    def sources(self) -> list[tuple[str, SourceReport]]:
        return [(SPOTIFY, self.spotify), (RECCOBEATS, self.reccobeats)]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tracks_considered": self.considered}
        for name, report in self.sources():
            out.update(report.as_dict(name))
        if self.skipped:
            out["skipped"] = self.skipped
        return out

    def line(self) -> str:
        parts = [
            f"{name} {r.enriched}/{r.considered} enriched"
            + (f", {r.failed_batches} failed batches" if r.failed_batches else "")
            + (f", {r.remaining} remaining" if r.remaining else "")
            + (f" (skipped: {r.skipped})" if r.skipped else "")
            for name, r in self.sources()
        ]
        return f"enrichment of {self.considered} tracks: " + "; ".join(parts)


def batches(ids: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def spotify_fields(
    track: Mapping[str, Any], genres_by_artist: Mapping[str, Sequence[str]] | None
) -> dict[str, Any]:
    """A /v1/tracks object → the fields enrichment may fill; `genre` only with artist genres."""
    album = track.get("album") or {}
    date = album.get("release_date") or None
    row: dict[str, Any] = {
        "album_name": album.get("name") or None,
        "album_id": album.get("id") or None,
        "release_date": date,
        "release_year": release_year(date),
        "popularity": track.get("popularity"),
        "duration_ms": track.get("duration_ms"),
        "explicit": track.get("explicit"),
    }
    if genres_by_artist is not None:
        genres = (
            g.strip()
            for a in track.get("artists") or []
            for g in genres_by_artist.get(a.get("id") or "", [])
        )
        row["genre"] = ";".join(dict.fromkeys(g for g in genres if g and ";" not in g)) or None
    return row


def enrich_tracks(
    db: Database,
    spotify: SpotifyClient | None,
    reccobeats: ReccoBeatsClient | None,
    *,
    spotify_skipped: str = "not configured",
    reccobeats_skipped: str = "not configured",
    log: Callable[[str], None] = lambda _m: None,
    recheck_days: int = RECHECK_DAYS,
) -> EnrichmentReport:
    """Enrich every track that lacks fields: Spotify, then ReccoBeats. A None client is
    skipped with the given reason (reported only when a track needed that source)."""
    report = EnrichmentReport()
    with db.connect() as conn:
        repo = TrackRepository(conn)
        spotify_ids = repo.lacking(SPOTIFY, SPOTIFY_FIELDS, recheck_days)
        feature_ids = repo.lacking(RECCOBEATS, FEATURE_FIELDS, recheck_days)
    report.considered = len(set(spotify_ids) | set(feature_ids))
    report.spotify.considered = len(spotify_ids)
    report.reccobeats.considered = len(feature_ids)

    if spotify is None:
        report.spotify.skipped = spotify_skipped if spotify_ids else ""
    else:
        _run(db, SPOTIFY, spotify_ids, TRACKS_BATCH, report.spotify, log,
             lambda batch: _spotify_batch(db, spotify, batch))  # fmt: skip
    if reccobeats is None:
        report.reccobeats.skipped = reccobeats_skipped if feature_ids else ""
    else:
        _run(db, RECCOBEATS, feature_ids, RECCOBEATS_BATCH, report.reccobeats, log,
             lambda batch: _features_batch(reccobeats, batch))  # fmt: skip

    with db.connect() as conn:
        repo = TrackRepository(conn)
        report.spotify.remaining = repo.count_lacking(SPOTIFY, SPOTIFY_FIELDS, recheck_days)
        report.reccobeats.remaining = repo.count_lacking(RECCOBEATS, FEATURE_FIELDS, recheck_days)
    return report


def _run(
    db: Database,
    source: str,
    ids: Sequence[str],
    size: int,
    report: SourceReport,
    log: Callable[[str], None],
    fetch: Callable[[list[str]], list[dict[str, Any]]],
) -> None:
    """Fetch and write `ids` batch by batch; one transaction per batch."""
    for number, batch in enumerate(batches(ids, size), start=1):
        try:
            rows = fetch(batch)
        except SpotifyAuthError as exc:
            report.skipped = f"Spotify refused the credentials: {exc}"
            log(f"enrichment: {source} stopped: {report.skipped}")
            return
        except (SpotifyAPIError, ReccoBeatsError) as exc:
            if exc.status is None:  # nothing answered, even after retries: offline
                report.skipped = f"unreachable ({exc})"
                log(f"enrichment: {source} stopped at batch {number}: {report.skipped}")
                return
            report.failed_batches += 1
            log(f"enrichment: {source} batch {number} ({len(batch)} tracks) failed: {exc}")
            continue
        with db.connect() as conn, conn.transaction():
            report.enriched += TrackRepository(conn).fill_missing(source, rows, checked=batch)


def _spotify_batch(db: Database, client: SpotifyClient, batch: list[str]) -> list[dict[str, Any]]:
    """One /v1/tracks call, then /v1/artists for the batch's tracks that lack a genre."""
    tracks = [t for t in client.tracks(batch) if t.get("id")]
    with db.connect() as conn:
        need_genre = TrackRepository(conn).null_in(batch, "genre")
    rows = []
    found = {_asked_id(t, batch): t for t in tracks}
    artist_ids = [
        a["id"]
        for key, t in found.items()
        if key in need_genre
        for a in t.get("artists") or []
        if a.get("id")
    ]
    genres = {a["id"]: a.get("genres") or [] for a in client.artists(artist_ids) if a.get("id")}
    for key, track in found.items():
        if key is None:
            continue
        row = spotify_fields(track, genres if key in need_genre else None)
        rows.append({"track_id": key, **row})
    return rows


def _asked_id(track: Mapping[str, Any], batch: Sequence[str]) -> str | None:
    """The id we asked for: Spotify answers a relinked track with another id (`linked_from`)."""
    if track["id"] in batch:
        return track["id"]
    linked = (track.get("linked_from") or {}).get("id")
    return linked if linked in batch else None


def _features_batch(client: ReccoBeatsClient, batch: list[str]) -> list[dict[str, Any]]:
    return [{"track_id": i, **f} for i, f in client.audio_features(batch).items()]
