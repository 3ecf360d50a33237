"""Known catalog source formats and detection from a file's columns.

Each format maps its own column names onto the canonical track fields used by the `tracks`
table. A format is recognised by its signature columns; it is loadable only if all of its
required columns are present; a file that fits none is refused naming, per format, what it
lacks. Every format also reads a bare release year column (`YEAR_COLUMNS`) for rows without a
readable release date: many exports carry only the year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from spotify_assets.lib.catalog.errors import CatalogError
from spotify_assets.lib.features import AUDIO_FEATURES

FEATURES = AUDIO_FEATURES
_SAME = {name: name for name in FEATURES}
# A bare release year, taken by every format (first found wins); `release_year` is canonical.
YEAR_COLUMNS = ("release_year", "year")
_SHOWN_COLUMNS = 30  # of the file's own columns, in a refusal
_SHOWN_MISSING = 8  # missing columns named per format, in a refusal


@dataclass(frozen=True)
class CatalogFormat:
    name: str
    description: str
    signature: frozenset[str]
    required: Mapping[str, str]  # source column -> canonical field
    optional: Mapping[str, str] = field(default_factory=dict)
    # how the artists column is written: "list" (['A', 'B'] or ["A"]), "semicolon", "single",
    # "comma" (a list literal, a parquet list, or `A, B`)
    artists_style: str | None = None
    # source columns describing a playlist membership per row (TidyTuesday)
    playlist_columns: Mapping[str, str] = field(default_factory=dict)
    # other names a dump gives a column (Web API dumps: `track_id` for `id`): used where the
    # format's own name is absent and the format was asked for by name (auto-detection on
    # aliases would read a Kaggle file missing a column as a Web API dump)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}

    def renames(self, columns: Iterable[str]) -> dict[str, str]:
        """file column → this format's name for it, for the aliases a file uses instead."""
        present = set(columns)
        out: dict[str, str] = {}
        for own, others in self.aliases.items():
            if own not in present:
                alias = next((a for a in others if a in present and a not in out), None)
                if alias is not None:
                    out[alias] = own
        return out

    def seen(self, columns: Iterable[str]) -> set[str]:
        """The file's columns under this format's names (aliases renamed)."""
        columns = list(columns)
        renames = self.renames(columns)
        return {renames.get(c, c) for c in columns}

    @property
    def required_fields(self) -> frozenset[str]:
        """Canonical fields a row must have a value for (others are coerced, never refused)."""
        return frozenset(self.required.values())

    def missing(self, columns: Iterable[str], aliases: bool = False) -> list[str]:
        present = self.seen(columns) if aliases else set(columns)
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
            description="the Kaggle 114K sample layout: track_genre named primary_genre, no artists",
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
        CatalogFormat(
            name="spotify_api",
            description="a Spotify Web API dump: one row per track object, album and artist "
            "fields flattened (artists_names, artist_genres, album_release_date)",
            signature=frozenset({"id", "name", "artists_names"}),
            required={"id": "track_id", "name": "name", "artists_names": "artists"},
            optional={
                "artist_genres": "genre",
                "album_name": "album_name",
                "album_id": "album_id",
                "album_release_date": "release_date",
                "popularity": "popularity",
                "duration_ms": "duration_ms",
                "explicit": "explicit",
                "time_signature": "time_signature",
                **_SAME,  # audio features: the endpoint closed in 2024, most dumps lack them
            },
            artists_style="comma",
            aliases={
                "id": ("track_id",),
                "name": ("track_name",),
                "artists_names": ("artist_names", "artists"),
                "artist_genres": ("genres", "artists_genres"),
                "album_name": ("album",),
                "album_release_date": ("release_date",),
            },
        ),
    ]
}


def _listed(names: list[str], limit: int) -> str:
    shown = ", ".join(n[:40] for n in names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _has(columns: list[str]) -> str:
    return f"the file has {len(columns)} columns: {_listed(columns, _SHOWN_COLUMNS)}"


def _ranked(present: set[str]) -> list[tuple[CatalogFormat, list[str]]]:
    """Every format with the required columns the file lacks, closest first: fewest missing,
    then most of its signature present."""
    return sorted(
        ((f, f.missing(present)) for f in FORMATS.values()),
        key=lambda pair: (len(pair[1]), -len(pair[0].signature & present)),
    )


def read_as(name: str, columns: Iterable[str]) -> str:
    """'track_id as id, …': the aliases a format would read in these columns."""
    return ", ".join(f"{a} as {own}" for a, own in FORMATS[name].renames(columns).items())


def detect_format(columns: Iterable[str], requested: str = "auto") -> CatalogFormat:
    """The format of a file with these columns, or a CatalogError naming, per format, the
    required columns the file lacks (closest format first) and the columns it has."""
    columns = [str(c).strip() for c in columns]
    present = set(columns)
    if requested != "auto":
        if requested not in FORMATS:
            raise CatalogError(
                f"unknown catalog format {requested!r}; known formats: {', '.join(FORMATS)}"
            )
        fmt = FORMATS[requested]
        if missing := fmt.missing(present, aliases=True):
            raise CatalogError(
                f"format {fmt.name} ({fmt.description}) needs columns the file lacks: "
                f"{_listed(missing, _SHOWN_MISSING)}; {_has(columns)}"
            )
        return fmt
    candidates = [pair for pair in _ranked(present) if pair[0].signature <= present]
    if candidates:
        fmt, missing = candidates[0]
        if missing:
            raise CatalogError(
                f"detected format {fmt.name} ({fmt.description}) but required columns are "
                f"missing: {_listed(missing, _SHOWN_MISSING)}; {_has(columns)}"
            )
        return fmt
    needs = "; ".join(
        f"{f.name} lacks {_listed(missing, _SHOWN_MISSING)}" for f, missing in _ranked(present)
    )
    by_alias = [f.name for f in FORMATS.values() if f.aliases and not f.missing(present, True)]
    if by_alias:  # it fits under other column names: say how to load it
        needs += f" (it loads as --format {by_alias[0]}, reading {read_as(by_alias[0], present)})"
    raise CatalogError(
        f"unknown catalog format: no known format fits these columns. Required columns "
        f"missing, closest format first: {needs}; {_has(columns)}. Rename the columns or "
        "convert the file (see the README's Catalog sources)"
    )
