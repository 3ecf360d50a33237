"""A deterministic, clearly labelled GENERATED sample world for the demo and tests.

~5,000 tracks over 20 genres, ~25 playlists and ~3 months of listening history in Spotify's
extended privacy-export JSON format. Per-genre mean audio features are public facts (the
Kaggle 160K "data_by_genres" table); every track, artist, playlist and play is invented.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

GENERATOR_VERSION = 2
DEFAULT_SEED = 42
LABEL = "GENERATED SAMPLE DATA (spotify_assets) - invented tracks, artists and plays"

# genre: danceability, energy, valence, acousticness, instrumentalness, speechiness, liveness,
#        loudness (dB), tempo (BPM), duration (ms), popularity, release years
# fmt: off
GENRES: dict[str, tuple] = {
    "pop": (0.628, 0.611, 0.479, 0.277, 0.025, 0.086, 0.175, -6.98, 119.7, 216336, 61, (1995, 2024)),
    "dance pop": (0.652, 0.684, 0.546, 0.184, 0.027, 0.084, 0.182, -6.39, 119.5, 229190, 56, (2005, 2024)),
    "rock": (0.501, 0.705, 0.516, 0.163, 0.090, 0.066, 0.212, -8.18, 124.6, 247358, 45, (1965, 2020)),
    "hard rock": (0.465, 0.745, 0.488, 0.112, 0.097, 0.067, 0.239, -8.84, 126.0, 273940, 38, (1970, 2015)),
    "indie rock": (0.523, 0.649, 0.472, 0.244, 0.153, 0.055, 0.187, -7.88, 122.3, 242354, 49, (1995, 2024)),
    "punk": (0.445, 0.837, 0.559, 0.068, 0.104, 0.084, 0.229, -7.46, 133.5, 188342, 38, (1976, 2010)),
    "metal": (0.382, 0.860, 0.362, 0.041, 0.203, 0.086, 0.231, -7.41, 127.0, 272370, 41, (1980, 2024)),
    "hip hop": (0.721, 0.671, 0.585, 0.161, 0.027, 0.220, 0.217, -7.58, 112.0, 247487, 49, (1988, 2024)),
    "trap": (0.728, 0.656, 0.518, 0.136, 0.010, 0.193, 0.204, -6.56, 122.0, 233752, 54, (2012, 2024)),
    "r&b": (0.661, 0.586, 0.523, 0.233, 0.013, 0.106, 0.168, -7.68, 115.9, 255282, 49, (1990, 2024)),
    "soul": (0.608, 0.519, 0.632, 0.418, 0.063, 0.065, 0.188, -10.47, 115.8, 242254, 38, (1960, 1985)),
    "jazz": (0.507, 0.321, 0.486, 0.759, 0.376, 0.056, 0.185, -14.93, 112.9, 326195, 22, (1955, 2020)),
    "blues": (0.583, 0.451, 0.643, 0.591, 0.103, 0.068, 0.199, -11.68, 116.6, 230965, 28, (1950, 1990)),
    "classical": (0.314, 0.164, 0.236, 0.923, 0.576, 0.053, 0.172, -20.97, 103.2, 312001, 17, (1960, 2020)),
    "country": (0.590, 0.589, 0.571, 0.317, 0.016, 0.046, 0.173, -8.59, 122.5, 213907, 44, (1975, 2024)),
    "folk": (0.534, 0.420, 0.518, 0.525, 0.041, 0.051, 0.180, -12.26, 118.7, 230880, 37, (1965, 2024)),
    "edm": (0.621, 0.762, 0.395, 0.107, 0.154, 0.086, 0.209, -5.65, 126.2, 238426, 55, (2008, 2024)),
    "techno": (0.696, 0.672, 0.494, 0.057, 0.681, 0.062, 0.179, -10.73, 119.6, 357476, 39, (1990, 2024)),
    "latin": (0.688, 0.674, 0.656, 0.303, 0.020, 0.084, 0.185, -6.94, 122.5, 247082, 56, (1995, 2024)),
    "ambient": (0.335, 0.276, 0.191, 0.673, 0.753, 0.043, 0.126, -19.53, 107.3, 350676, 43, (1985, 2024)),
}
# fmt: on
UNIT_FEATURES = (
    "danceability",
    "energy",
    "valence",
    "acousticness",
    "instrumentalness",
    "speechiness",
    "liveness",
)
_ADJ = [
    "Midnight",
    "Golden",
    "Electric",
    "Silent",
    "Broken",
    "Velvet",
    "Neon",
    "Wild",
    "Lonely",
    "Summer",
    "Paper",
    "Burning",
    "Frozen",
    "Crystal",
    "Hollow",
    "Endless",
    "Northern",
    "Faded",
    "Restless",
    "Sweet",
    "Lucky",
    "Blue",
    "Crimson",
    "Little",
    "Wandering",
    "Distant",
    "Secret",
    "Gentle",
    "Savage",
    "Bright",
]
_NOUN = [
    "Heart",
    "Echo",
    "River",
    "Highway",
    "Dream",
    "Fire",
    "Rain",
    "Garden",
    "Signal",
    "Mirror",
    "Ocean",
    "Letter",
    "Shadow",
    "Horizon",
    "Parade",
    "Engine",
    "Lantern",
    "Harbor",
    "Machine",
    "Season",
    "Memory",
    "Window",
    "Thunder",
    "Orbit",
    "Satellite",
    "Canyon",
    "Motel",
    "Avenue",
    "Radio",
    "Tide",
]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ve",
    "no",
    "sa",
    "tu",
    "el",
    "ri",
    "an",
    "do",
    "be",
    "lu",
    "ma",
    "ze",
    "ko",
    "fi",
    "ya",
    "ni",
]
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Rule = Callable[[pd.DataFrame], pd.Series]
# (playlist name, which tracks qualify)
PLAYLISTS: list[tuple[str, Rule]] = [
    ("Morning Run", lambda t: (t.energy > 0.75) & (t.tempo > 120)),
    ("Beast Mode Gym", lambda t: (t.energy > 0.8) & (t.danceability > 0.55)),
    ("Rainy Day Blues", lambda t: (t.valence < 0.35) & (t.acousticness > 0.4)),
    ("Deep Focus", lambda t: (t.instrumentalness > 0.5) & (t.speechiness < 0.08)),
    (
        "Friday Night Party",
        lambda t: (t.danceability > 0.7) & (t.energy > 0.65) & (t.valence > 0.5),
    ),
    ("Acoustic Sunday", lambda t: t.acousticness > 0.75),
    ("Heartbreak Hotel", lambda t: (t.valence < 0.3) & (t.energy < 0.5)),
    ("Good Vibes Only", lambda t: t.valence > 0.75),
    ("90s Nostalgia", lambda t: t.release_year.between(1990, 1999)),
    ("Throwback 70s & 80s", lambda t: t.release_year.between(1970, 1989)),
    ("Chill Sunday Morning", lambda t: (t.energy < 0.45) & t.valence.between(0.4, 0.8)),
    ("Road Trip Anthems", lambda t: t.genre.isin(["rock", "pop", "country"]) & (t.energy > 0.65)),
    ("Jazz Café", lambda t: t.genre.isin(["jazz", "blues"])),
    ("Classical for Study", lambda t: t.genre.eq("classical")),
    ("Hip Hop Heavy Rotation", lambda t: t.genre.isin(["hip hop", "trap"])),
    ("Rock Classics", lambda t: t.genre.isin(["rock", "hard rock"]) & (t.release_year < 2000)),
    ("Indie Discoveries", lambda t: t.genre.eq("indie rock") & (t.popularity < 55)),
    ("Latin Heat", lambda t: t.genre.eq("latin")),
    ("EDM Bangers", lambda t: t.genre.isin(["edm", "techno", "dance pop"]) & (t.energy > 0.7)),
    ("Country Roads", lambda t: t.genre.isin(["country", "folk"])),
    ("Romantic Evening", lambda t: t.genre.isin(["r&b", "soul"]) & (t.energy < 0.6)),
    ("Sleep Sounds", lambda t: t.genre.isin(["ambient", "classical"]) & (t.energy < 0.25)),
    ("Punk's Not Dead", lambda t: t.genre.isin(["punk", "metal"])),
    ("Soul Kitchen", lambda t: t.genre.isin(["soul", "blues", "r&b"]) & (t.valence > 0.5)),
    (
        "Late Night Drive",
        lambda t: (t.energy.between(0.4, 0.7)) & (t.valence < 0.5) & (t["mode"] == 0),
    ),
]


@dataclass(frozen=True)
class SampleWorld:
    root: Path

    @property
    def tracks_csv(self) -> Path:
        return self.root / "tracks.csv"

    @property
    def playlists_json(self) -> Path:
        return self.root / "playlists.json"

    @property
    def history_dir(self) -> Path:
        return self.root / "history"

    @property
    def library_json(self) -> Path:
        """Liked songs, in the privacy export's YourLibrary.json layout."""
        return self.root / "YourLibrary.json"


def _ids(rng: np.random.Generator, n: int) -> list[str]:
    idx = rng.integers(0, 62, size=(n, 22))
    return ["".join(_BASE62[i] for i in row) for row in idx]


def _beta(rng: np.random.Generator, mean: float, n: int, concentration: float = 7.0) -> np.ndarray:
    mean = min(max(mean, 0.02), 0.98)
    return rng.beta(mean * concentration, (1 - mean) * concentration, size=n)


def generate_tracks(n_tracks: int = 5000, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_genre = n_tracks // len(GENRES)
    frames = []
    for genre, profile in GENRES.items():
        dance, energy, valence, acoustic, instr, speech, live = profile[:7]
        loud, tempo, duration, popularity, (y0, y1) = profile[7:]
        n_artists = 14
        artist_names = [
            " ".join(
                "".join(rng.choice(_SYLLABLES, size=rng.integers(2, 4))).capitalize()
                for _ in range(rng.integers(1, 3))
            )
            for _ in range(n_artists)
        ]
        artist_of = rng.integers(0, n_artists, size=per_genre)
        # each artist has a signature sound: a shared offset on every unit feature
        offsets = rng.normal(0, 0.06, size=(n_artists, len(UNIT_FEATURES)))
        frame = pd.DataFrame({"genre": [genre] * per_genre})
        for j, (name, mean) in enumerate(
            zip(UNIT_FEATURES, (dance, energy, valence, acoustic, instr, speech, live), strict=True)
        ):
            spread = 2 * min(mean, 1 - mean)  # keep near-0 features near 0, not clipped to 0
            values = _beta(rng, mean, per_genre) + offsets[artist_of, j] * spread
            frame[name] = np.clip(values, 0.0, 1.0).round(4)
        frame["loudness"] = np.clip(rng.normal(loud, 2.5, per_genre), -45, 0).round(3)
        frame["tempo"] = np.clip(rng.normal(tempo, 22, per_genre), 55, 215).round(3)
        frame["key"] = rng.integers(0, 12, per_genre)
        frame["mode"] = (rng.random(per_genre) < 0.62).astype(int)
        frame["duration_ms"] = np.clip(
            rng.normal(duration, 45000, per_genre), 70000, 600000
        ).astype(int)
        frame["popularity"] = np.clip(rng.normal(popularity, 14, per_genre), 0, 100).astype(int)
        frame["explicit"] = rng.random(per_genre) < (0.35 if genre in ("hip hop", "trap") else 0.05)
        frame["time_signature"] = np.where(rng.random(per_genre) < 0.9, 4, 3)
        years = rng.integers(y0, y1 + 1, per_genre)
        days = rng.integers(0, 365, per_genre)
        frame["release_date"] = [
            (datetime(int(y), 1, 1) + timedelta(days=int(d))).date().isoformat()
            for y, d in zip(years, days, strict=True)
        ]
        frame["track_name"] = [f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}" for _ in range(per_genre)]
        artists = []
        for a in artist_of:
            names = [artist_names[a]]
            if rng.random() < 0.12:
                names.append(artist_names[rng.integers(0, n_artists)])
            artists.append(json.dumps(list(dict.fromkeys(names))))
        frame["artists"] = artists
        albums = [f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}" for _ in range(n_artists * 3)]
        frame["album_name"] = [albums[a * 3 + rng.integers(3)] for a in artist_of]
        frames.append(frame)
    tracks = pd.concat(frames, ignore_index=True)
    tracks.insert(0, "track_id", _ids(rng, len(tracks)))
    order = [
        "track_id", "track_name", "artists", "album_name", "release_date", "genre", "popularity",
        "duration_ms", "explicit", "danceability", "energy", "key", "loudness", "mode",
        "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
        "time_signature",
    ]  # fmt: skip
    return tracks[order]


def generate_playlists(tracks: pd.DataFrame, seed: int = DEFAULT_SEED) -> list[dict]:
    rng = np.random.default_rng(seed + 1)
    view = tracks.assign(release_year=tracks.release_date.str.slice(0, 4).astype(int))
    ids = _ids(rng, len(PLAYLISTS))
    playlists = []
    for playlist_id, (name, rule) in zip(ids, PLAYLISTS, strict=True):
        candidates = view.index[rule(view).to_numpy()]
        size = min(len(candidates), int(rng.integers(20, 81)))
        members = rng.choice(candidates, size=size, replace=False)
        playlists.append(
            {
                "playlist_id": playlist_id,
                "name": name,
                "description": f"{name} (generated sample playlist)",
                "tracks": tracks.loc[members, "track_id"].tolist(),
            }
        )
    return playlists


def generate_liked(
    tracks: pd.DataFrame, playlists: list[dict], seed: int = DEFAULT_SEED, n: int = 120
) -> list[dict]:
    """Liked songs not yet in any playlist: three in four fit some playlist's rule (so a good
    sorter finds them a home), the rest are random (often no good fit)."""
    rng = np.random.default_rng(seed + 3)
    view = tracks.assign(release_year=tracks.release_date.str.slice(0, 4).astype(int))
    placed = {t for p in playlists for t in p["tracks"]}
    free = view[~view.track_id.isin(placed)]
    chosen: list[str] = []
    for _ in range(n * 3 // 4):
        _name, rule = PLAYLISTS[rng.integers(len(PLAYLISTS))]
        fits = free.track_id[rule(free).to_numpy()]
        fits = fits[~fits.isin(chosen)]
        if len(fits):
            chosen.append(fits.iloc[rng.integers(len(fits))])
    rest = free.track_id[~free.track_id.isin(chosen)]
    extra = min(n - len(chosen), len(rest))
    chosen += rng.choice(rest.to_numpy(), extra, replace=False).tolist()
    by_id = tracks.set_index("track_id")
    return [
        {
            "artist": json.loads(by_id.at[t, "artists"])[0],
            "album": by_id.at[t, "album_name"],
            "track": by_id.at[t, "track_name"],
            "uri": f"spotify:track:{t}",
        }
        for t in chosen
    ]


def _hour_profile() -> np.ndarray:
    weights = np.array(
        [1, 0.5, 0.3, 0.2, 0.2, 0.5, 2, 4, 5, 3, 2, 2, 3, 3, 2, 2, 3, 4, 5, 5, 6, 6, 4, 2],
        dtype=float,
    )
    return weights / weights.sum()


def generate_history(
    tracks: pd.DataFrame,
    playlists: list[dict],
    seed: int = DEFAULT_SEED,
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC),
    days: int = 90,
) -> list[dict]:
    """Plays in the extended privacy-export layout (`ts` is the end time, UTC)."""
    rng = np.random.default_rng(seed + 2)
    by_id = tracks.set_index("track_id")
    favourite_genres = rng.choice(list(GENRES), size=6, replace=False)
    favourites = tracks.index[tracks.genre.isin(favourite_genres)].to_numpy()
    hours = _hour_profile()
    platforms = ["android", "windows", "ios"]
    records: list[dict] = []
    for day in range(days):
        date = start + timedelta(days=day)
        weekend = date.weekday() >= 5
        for _ in range(rng.poisson(3.6 if weekend else 2.8)):
            clock = date + timedelta(
                hours=int(rng.choice(24, p=hours)), minutes=int(rng.integers(60))
            )
            playlist = playlists[rng.integers(len(playlists))]
            shuffle = bool(rng.random() < 0.5)
            platform = platforms[rng.integers(len(platforms))]
            for position in range(max(1, int(rng.geometric(1 / 11)))):
                if rng.random() < 0.01:
                    records.append(_episode(clock, platform, rng))
                    clock += timedelta(minutes=25)
                    continue
                if rng.random() < 0.72:
                    track_id = playlist["tracks"][rng.integers(len(playlist["tracks"]))]
                else:
                    track_id = tracks.at[int(rng.choice(favourites)), "track_id"]
                track = by_id.loc[track_id]
                skipped = bool(rng.random() < 0.13)
                played = int(rng.integers(2000, 29000)) if skipped else int(track.duration_ms)
                clock += timedelta(milliseconds=played + int(rng.integers(0, 4000)))
                records.append(
                    {
                        "ts": clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "platform": platform,
                        "ms_played": played,
                        "conn_country": "US",
                        "ip_addr": None,
                        "master_metadata_track_name": track.track_name,
                        "master_metadata_album_artist_name": json.loads(track.artists)[0],
                        "master_metadata_album_album_name": track.album_name,
                        "spotify_track_uri": f"spotify:track:{track_id}",
                        "episode_name": None,
                        "episode_show_name": None,
                        "spotify_episode_uri": None,
                        "audiobook_title": None,
                        "audiobook_uri": None,
                        "audiobook_chapter_uri": None,
                        "audiobook_chapter_title": None,
                        "reason_start": "clickrow" if position == 0 else "trackdone",
                        "reason_end": "fwdbtn" if skipped else "trackdone",
                        "shuffle": shuffle,
                        "skipped": skipped,
                        "offline": False,
                        "offline_timestamp": None,
                        "incognito_mode": False,
                    }
                )
    records.sort(key=lambda r: r["ts"])
    return records


def _episode(clock: datetime, platform: str, rng: np.random.Generator) -> dict:
    end = clock + timedelta(minutes=25)
    return {
        "ts": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "platform": platform,
        "ms_played": 25 * 60 * 1000,
        "conn_country": "US",
        "ip_addr": None,
        "master_metadata_track_name": None,
        "master_metadata_album_artist_name": None,
        "master_metadata_album_album_name": None,
        "spotify_track_uri": None,
        "episode_name": f"Episode {int(rng.integers(1, 300))}",
        "episode_show_name": "The Generated Podcast",
        "spotify_episode_uri": f"spotify:episode:{_ids(rng, 1)[0]}",
        "audiobook_title": None,
        "audiobook_uri": None,
        "audiobook_chapter_uri": None,
        "audiobook_chapter_title": None,
        "reason_start": "clickrow",
        "reason_end": "endplay",
        "shuffle": False,
        "skipped": False,
        "offline": False,
        "offline_timestamp": None,
        "incognito_mode": False,
    }


def write_sample(root: Path, n_tracks: int = 5000, seed: int = DEFAULT_SEED) -> SampleWorld:
    """Generate the world into `root` (replacing it atomically)."""
    tracks = generate_tracks(n_tracks, seed)
    playlists = generate_playlists(tracks, seed)
    history = generate_history(tracks, playlists, seed)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=root.parent))
    try:
        (tmp / "README.txt").write_text(
            f"{LABEL}\ngenerator version {GENERATOR_VERSION}, seed {seed}, {len(tracks)} tracks, "
            f"{len(playlists)} playlists, {len(history)} plays.\n"
            "Per-genre mean audio features follow the public Kaggle 'data_by_genres' table.\n",
            encoding="utf-8",
        )
        tracks.to_csv(tmp / "tracks.csv", index=False)
        (tmp / "playlists.json").write_text(
            json.dumps({"_label": LABEL, "playlists": playlists}, indent=1), encoding="utf-8"
        )
        library = {"tracks": generate_liked(tracks, playlists, seed), "albums": [], "shows": [],
                   "episodes": [], "bannedTracks": [], "artists": [], "bannedArtists": [],
                   "other": []}  # fmt: skip
        (tmp / "YourLibrary.json").write_text(json.dumps(library, indent=1), encoding="utf-8")
        (tmp / "history").mkdir()
        (tmp / "history" / "Streaming_History_Audio_2026.json").write_text(
            json.dumps(history, indent=1), encoding="utf-8"
        )
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp, root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SampleWorld(root)


def ensure_sample(home: Path, seed: int = DEFAULT_SEED) -> SampleWorld:
    """The sample under `home`, generated once per generator version and seed."""
    root = home / "sample" / f"v{GENERATOR_VERSION}-seed{seed}"
    if (root / "tracks.csv").exists():
        return SampleWorld(root)
    return write_sample(root, seed=seed)
