"""Known catalog source formats and detection from a file's columns.

Each format maps its own column names onto the canonical track fields used by the `tracks`
table. A format is recognised by its signature columns; it is loadable only if all of its
required columns are present.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from spotify_assets.lib.catalog.errors import CatalogError
from spotify_assets.lib.features import AUDIO_FEATURES

FEATURES = AUDIO_FEATURES
_SAME = {name: name for name in FEATURES}


@dataclass(frozen=True)
class CatalogFormat:
    name: str
    description: str
    signature: frozenset[str]
    required: Mapping[str, str]  # source column -> canonical field
    optional: Mapping[str, str] = field(default_factory=dict)
    # how the artists column is written: "list" (['A', 'B'] or ["A"]), "semicolon", "single"
    artists_style: str | None = None
    # source columns describing a playlist membership per row (TidyTuesday)
    playlist_columns: Mapping[str, str] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}

    def missing(self, columns: Iterable[str]) -> list[str]:
        present = set(columns)
        return [c for c in self.required if c not in present]


FORMATS: dict[str, CatalogFormat] = {
    f.name: f
    for f in [
        CatalogFormat(
            name="kaggle_114k",
            description='Kaggle "Spotify Tracks Dataset" (114K tracks, track_genre)',
            signature=frozenset({"track_id", "track_genre", "artists"}),
            required={
                "track_id": "track_id",
                "track_name": "name",
                "artists": "artists",
                "track_genre": "genre",
                **_SAME,
            },
            optional={
                "album_name": "album_name",
                "popularity": "popularity",
                "duration_ms": "duration_ms",
                "explicit": "explicit",
                "time_signature": "time_signature",
            },
            artists_style="semicolon",
        ),
        CatalogFormat(
            name="kaggle_114k_sample",
            description="Kaggle 114K variant with primary_genre and no artists column",
            signature=frozenset({"track_id", "primary_genre"}),
            required={
                "track_id": "track_id",
                "track_name": "name",
                "primary_genre": "genre",
                **_SAME,
            },
            optional={
                "album_id": "album_id",
                "duration_ms": "duration_ms",
                "explicit": "explicit",
                "time_signature": "time_signature",
            },
        ),
        CatalogFormat(
            name="kaggle_600k",
            description='Kaggle "Spotify Dataset 1921-2020, 600k+ Tracks" tracks.csv',
            signature=frozenset({"id", "id_artists"}),
            required={"id": "track_id", "name": "name", "artists": "artists", **_SAME},
            optional={
                "release_date": "release_date",
                "popularity": "popularity",
                "duration_ms": "duration_ms",
                "explicit": "explicit",
                "time_signature": "time_signature",
            },
            artists_style="list",
        ),
        CatalogFormat(
            name="tidytuesday",
            description="TidyTuesday 2020-01-21 spotify_songs (one row per track and playlist)",
            signature=frozenset({"track_id", "track_artist", "playlist_id"}),
            required={
                "track_id": "track_id",
                "track_name": "name",
                "track_artist": "artists",
                **_SAME,
            },
            optional={
                "track_popularity": "popularity",
                "track_album_id": "album_id",
                "track_album_name": "album_name",
                "track_album_release_date": "release_date",
                "playlist_genre": "genre",
                "playlist_subgenre": "subgenre",
                "duration_ms": "duration_ms",
            },
            artists_style="single",
            playlist_columns={
                "playlist_id": "playlist_id",
                "playlist_name": "name",
                "playlist_genre": "genre",
                "playlist_subgenre": "subgenre",
            },
        ),
        CatalogFormat(
            name="sample",
            description="spotify_assets generated sample (tracks.csv)",
            signature=frozenset({"track_id", "artists", "genre", "release_date"}),
            required={
                "track_id": "track_id",
                "track_name": "name",
                "artists": "artists",
                "genre": "genre",
                **_SAME,
            },
            optional={
                "album_name": "album_name",
                "release_date": "release_date",
                "popularity": "popularity",
                "duration_ms": "duration_ms",
                "explicit": "explicit",
                "time_signature": "time_signature",
            },
            artists_style="list",
        ),
    ]
}


def detect_format(columns: Iterable[str], requested: str = "auto") -> CatalogFormat:
    """The format of a file with these columns, or a CatalogError naming what is missing."""
    columns = [str(c).strip() for c in columns]
    present = set(columns)
    shown = ", ".join(c[:40] for c in columns[:12]) + (", ..." if len(columns) > 12 else "")
    if requested != "auto":
        if requested not in FORMATS:
            raise CatalogError(
                f"unknown catalog format {requested!r}; known formats: {', '.join(FORMATS)}"
            )
        candidates = [FORMATS[requested]]
    else:
        candidates = [f for f in FORMATS.values() if f.signature <= present]
    if candidates:
        fmt = candidates[0]
        if missing := fmt.missing(present):
            raise CatalogError(
                f"detected format {fmt.name} ({fmt.description}) but required columns are "
                f"missing: {', '.join(missing)}"
            )
        return fmt

    def overlap(f: CatalogFormat) -> float:
        return len(present & set(f.required)) / len(f.required)

    closest = max(FORMATS.values(), key=overlap)
    if overlap(closest) >= 0.5:
        raise CatalogError(
            f"detected format {closest.name} ({closest.description}) but required columns are "
            f"missing: {', '.join(closest.missing(present))}"
        )
    raise CatalogError(
        f"unknown catalog format: columns [{shown}] match none of {', '.join(FORMATS)}; "
        "pass the format explicitly or convert the file"
    )
