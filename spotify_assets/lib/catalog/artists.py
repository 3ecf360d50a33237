"""Artist-level knowledge: what the loaded catalogs say about a song's primary artist.

Most of a person's songs carry no measured features and no genre (55–90% of a real export),
but for over half of those the artist has songs in a loaded catalog. The genres of those
songs and their median features describe the *artist*: stored apart from any song
(`artist_profiles`), they reach a song only labelled as the artist's — a description's "the
artist's songs are usually …", matching's lower-weight `artist_style` signal, a reason that
says so — and never a song's own fields, its search filters or a mood shown as the song's.
Built from catalog tracks only (never a person's library), rebuilt after each catalog load.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import pandas as pd
import psycopg

from spotify_assets.lib.catalog.library import LIBRARY_FORMAT
from spotify_assets.lib.features import ACOUSTIC_FEATURES
from spotify_assets.lib.names import normalize_artist
from spotify_assets.lib.store.artists import ArtistProfile, ArtistRepository
from spotify_assets.lib.store.tracks import TrackRepository

log = logging.getLogger(__name__)

# fewer catalog songs than this say too little to call anything "usual" for the artist
MIN_SONGS = 2
MAX_GENRES = 3  # the artist's genres kept, most shared first
MIN_GENRE_SHARE = 0.2  # a genre under this share of the artist's songs is not theirs


@dataclass(frozen=True)
class ArtistRefresh:
    artists: int  # artists with a profile now
    written: int  # of which new or changed
    deleted: int  # profiles no catalog supports any more
    catalog_tracks: int

    def as_dict(self) -> dict:
        return asdict(self)


def build_artist_profiles(catalog: pd.DataFrame) -> list[ArtistProfile]:
    """Profiles from catalog tracks (artists with the primary first, `genres` as lists, the
    ACOUSTIC_FEATURES columns; NaN/None where unknown). An artist needs MIN_SONGS songs; a
    median needs MIN_SONGS songs with that feature measured. Grouped, not looped."""
    if catalog.empty:
        return []
    primary = catalog["artists"].map(lambda a: a[0] if a is not None and len(a) else None)
    frame = pd.DataFrame(
        {"name": primary.to_numpy(), "key": primary.map(normalize_artist).to_numpy()}
    )
    for column in ACOUSTIC_FEATURES:
        frame[column] = pd.to_numeric(catalog[column], errors="coerce").to_numpy()
    frame["featured"] = frame[list(ACOUSTIC_FEATURES)].notna().any(axis=1)
    frame["genres"] = [sorted(set(g)) if g is not None else [] for g in catalog["genres"]]
    frame = frame[frame["key"].astype(bool)]
    songs = frame.groupby("key").size()
    frame = frame[frame["key"].map(songs) >= MIN_SONGS]
    groups = frame.groupby("key", sort=True)
    medians = groups[list(ACOUSTIC_FEATURES)].median().round(4)
    medians = medians.where(groups[list(ACOUSTIC_FEATURES)].count() >= MIN_SONGS)
    names = groups["name"].agg(lambda n: n.value_counts().index[0])
    featured = groups["featured"].sum()
    genre_lists, share_lists = _genres(frame[["key", "genres"]])
    profiles = []
    for key, row in zip(medians.index, medians.to_dict("records"), strict=True):
        feats = {c: float(v) for c, v in row.items() if pd.notna(v)}
        n, n_featured = int(songs[key]), int(featured[key]) if feats else 0
        profiles.append(
            ArtistProfile(
                key=key,
                name=names[key],
                songs=n,
                featured=n_featured,
                genres=genre_lists.get(key, ()),
                genre_shares=share_lists.get(key, ()),
                features=feats,
                source=f"{n} catalog songs by the artist"
                + (f", {n_featured} with audio features" if feats else ""),
            )
        )
    return profiles


def _genres(frame: pd.DataFrame) -> tuple[dict, dict]:
    """key → the artist's genres (most shared first, ties by name) and their shares of the
    artist's songs that have a genre."""
    with_genre = frame[frame["genres"].map(len) > 0]
    if with_genre.empty:
        return {}, {}
    per_artist = with_genre.groupby("key").size()
    pairs = with_genre.explode("genres").groupby(["key", "genres"]).size().rename("n").reset_index()
    pairs["share"] = pairs["n"] / pairs["key"].map(per_artist)
    pairs = pairs[pairs["share"] >= MIN_GENRE_SHARE]
    pairs = pairs.sort_values(["key", "share", "genres"], ascending=[True, False, True])
    top = pairs.groupby("key").head(MAX_GENRES).groupby("key")
    genres = {k: tuple(v) for k, v in top["genres"]}
    shares = {k: tuple(round(float(x), 4) for x in v) for k, v in top["share"]}
    return genres, shares


def refresh_artist_profiles(conn: psycopg.Connection) -> ArtistRefresh:
    """Rebuild `artist_profiles` from the catalog as it is now; in the caller's transaction."""
    frame = TrackRepository(conn).frame(["source_format", "artists", "genres", *ACOUSTIC_FEATURES])
    catalog = frame[frame["source_format"] != LIBRARY_FORMAT]
    profiles = build_artist_profiles(catalog)
    written, deleted = ArtistRepository(conn).replace(profiles)
    log.info(
        "artist profiles: %d artists from %d catalog tracks (%d new or changed, %d gone)",
        len(profiles), len(catalog), written, deleted,
    )  # fmt: skip
    return ArtistRefresh(len(profiles), written, deleted, len(catalog))


def refresh_artists(conn: psycopg.Connection, artist_keys: Sequence[str]) -> ArtistRefresh:
    """`refresh_artist_profiles` for these artists only (the artists whose catalog tracks
    changed, lib/analyses/update.py): the same profiles, from their catalog tracks alone."""
    columns = ["source_format", "artists", "genres", *ACOUSTIC_FEATURES]
    frame = TrackRepository(conn).of_artists_or_ids(columns, [], artist_keys)
    catalog = frame[frame["source_format"] != LIBRARY_FORMAT]
    profiles = build_artist_profiles(catalog)
    written, deleted = ArtistRepository(conn).replace(profiles, within=artist_keys)
    return ArtistRefresh(len(profiles), written, deleted, len(catalog))


def profiles_of(
    conn: psycopg.Connection, artists: Sequence[str | None]
) -> list[ArtistProfile | None]:
    """The profile of each primary artist name (None: no name, or no catalog knows them)."""
    keys = [normalize_artist(a) if a else "" for a in artists]
    found = ArtistRepository(conn).for_keys([k for k in keys if k])
    return [found.get(k) if k else None for k in keys]


def describe_artist(profile: ArtistProfile, genres: bool = True, sound: bool = True) -> list[str]:
    """The artist's usual traits in words (genres first), for descriptions and reasons: what
    a person would say of an artist ("usually pop / dance pop, energetic, danceable")."""
    words = []
    if genres and profile.genres:
        words.append(" / ".join(profile.genres))
    f = profile.features if sound else {}
    for column, bands in _TRAITS:
        value = f.get(column)
        if value is None:
            continue
        for low, high, word in bands:
            if low <= value < high:
                words.append(word)
                break
    return words


# (feature, [(low, high, word)]): only clear tendencies are said; a middle value says nothing
_TRAITS = (
    ("energy", [(0.75, 9.0, "energetic"), (-9.0, 0.35, "calm")]),
    ("danceability", [(0.7, 9.0, "danceable")]),
    ("valence", [(0.65, 9.0, "upbeat"), (-9.0, 0.3, "melancholic")]),
    ("acousticness", [(0.6, 9.0, "acoustic")]),
    ("instrumentalness", [(0.5, 9.0, "instrumental")]),
    ("speechiness", [(0.25, 9.0, "rap / spoken vocals")]),
)
