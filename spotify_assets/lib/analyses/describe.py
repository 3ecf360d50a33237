"""Audio features + metadata → a structured analysis and a description sentence.

The text is what the embedding model reads, so the same words always mean the same ranges:
the bands below are the extractor. Changing a band or a phrase means bumping
EXTRACTOR_VERSION, which changes every track's content hash and triggers recomputation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spotify_assets.lib import versions
from spotify_assets.lib.catalog.artists import describe_artist
from spotify_assets.lib.features import ACOUSTIC_FEATURES, AUDIO_FEATURES
from spotify_assets.lib.hashing import stable_hash

# Fields that feed the description; the content hash covers exactly these.
DESCRIPTION_INPUTS = (
    "name",
    "artists",
    "album_name",
    "genre",
    "subgenre",
    "release_year",
    "popularity",
    "duration_ms",
    "explicit",
    *AUDIO_FEATURES,
)
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


@dataclass(frozen=True)
class TrackAnalysis:
    content_hash: str
    analysis: dict[str, Any]
    description: str


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _band(value: float, bands: list[tuple[float, str]], default: str) -> str:
    """The label of the first band whose lower bound `value` reaches (bands high → low)."""
    for low, label in bands:
        if value >= low:
            return label
    return default


def content_hash(track: Mapping[str, Any]) -> str:
    """Hash of the extractor version and the description inputs: te = track extract. The
    artist's style counts only where the description uses it (a song lacking its own sound
    or genre), so a catalog's own songs keep their hashes when artist profiles change."""
    inputs = {name: track.get(name) for name in DESCRIPTION_INPUTS}
    style = artist_style(track)
    if style is not None:
        inputs["artist_style"] = style
    return stable_hash("te", {"extractor_version": versions.EXTRACTOR_VERSION, "inputs": inputs})


def artist_style(track: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the song's artist profile (`track["artist_profile"]`, lib/catalog/artists) adds to
    a song without its own audio features or genre: the artist's usual traits, labelled as the
    artist's. None where the song has both, or nothing is known of the artist."""
    profile = track.get("artist_profile")
    if profile is None:
        return None
    own_sound = any(_num(track.get(f)) is not None for f in ACOUSTIC_FEATURES)
    own_genre = bool(track.get("genre"))
    if own_sound and own_genre:
        return None
    traits = describe_artist(profile, genres=not own_genre, sound=not own_sound)
    if not traits:
        return None
    return {"artist": profile.name, "traits": traits, "source": profile.source}


def analyze(track: Mapping[str, Any]) -> TrackAnalysis:
    """Deterministic analysis of one track (a tracks-table row as a mapping)."""
    a: dict[str, Any] = {}
    phrases: list[str] = []
    tags: list[str] = []

    energy = _num(track.get("energy"))
    if energy is not None:
        a["energy"] = _band(
            energy, [(0.8, "high"), (0.6, "energetic"), (0.4, "moderate"), (0.2, "low")], "very low"
        )
        word = {
            "high": "High energy",
            "energetic": "Energetic",
            "moderate": "Moderate energy",
            "low": "Low energy",
            "very low": "Very calm",
        }[a["energy"]]
        phrases.append(f"{word} ({energy:.2f})")
    tempo = _num(track.get("tempo"))
    if tempo is not None and tempo > 0:
        a["tempo"] = _band(
            tempo,
            [(170, "very fast"), (140.001, "fast"), (100, "moderate"), (75, "slow")],
            "very slow",
        )
        phrases.append(f"{a['tempo']} tempo ({tempo:.0f} BPM)")
    valence = _num(track.get("valence"))
    if valence is not None:
        a["mood"] = _band(
            valence, [(0.75, "happy"), (0.55, "positive"), (0.3, "bittersweet")], "melancholic"
        )
        phrases.append(f"{a['mood']} (valence {valence:.2f})")
        if a["mood"] == "melancholic":
            tags.append("sad")
    loudness = _num(track.get("loudness"))
    if loudness is not None:
        a["loudness"] = _band(loudness, [(-5, "loud"), (-12, "medium"), (-20, "soft")], "quiet")
        phrases.append(f"{a['loudness']} ({loudness:.1f} dB)")
    dance = _num(track.get("danceability"))
    if dance is not None:
        a["danceability"] = _band(
            dance,
            [(0.75, "very danceable"), (0.6, "danceable"), (0.35, "groovy")],
            "not for dancing",
        )
        phrases.append(f"{a['danceability']} (danceability {dance:.2f})")
    acoustic = _num(track.get("acousticness"))
    if acoustic is not None:
        a["texture"] = _band(acoustic, [(0.7, "acoustic"), (0.2, "mixed")], "electric")
        if a["texture"] != "mixed":
            phrases.append(f"{a['texture']} (acousticness {acoustic:.2f})")
    speech = _num(track.get("speechiness"))
    instrumental = _num(track.get("instrumentalness"))
    if speech is not None and speech > 0.66:
        a["vocals"] = "spoken word"
    elif speech is not None and speech > 0.33:
        a["vocals"] = "rap"
    elif instrumental is not None and instrumental > 0.5:
        a["vocals"] = "instrumental"
    elif speech is not None or instrumental is not None:
        a["vocals"] = "vocal"
    if "vocals" in a:
        phrases.append(
            {
                "spoken word": "spoken word",
                "rap": "rap / spoken-word vocals",
                "instrumental": "instrumental",
                "vocal": "with vocals",
            }[a["vocals"]]
        )
    liveness = _num(track.get("liveness"))
    if liveness is not None and liveness > 0.8:
        a["live"] = True
        phrases.append("live recording")
    key, mode = _num(track.get("key")), _num(track.get("mode"))
    if key is not None and 0 <= key <= 11:
        scale = "major" if mode == 1 else "minor" if mode == 0 else ""
        a["key"] = f"{PITCH_CLASSES[int(key)]} {scale}".strip()
        phrases.append(f"{a['key']} key")
    duration = _num(track.get("duration_ms"))
    if duration is not None:
        minutes = duration / 60000
        if minutes >= 6:
            a["length"] = "long"
            phrases.append(f"long ({minutes:.1f} min)")
        elif minutes < 2:
            a["length"] = "short"
            phrases.append(f"short ({minutes:.1f} min)")
    year = _num(track.get("release_year"))
    if year is not None and year > 1900:
        a["decade"] = f"{int(year) // 10 * 10}s"
        phrases.append(f"released in the {a['decade']}")
    popularity = _num(track.get("popularity"))
    if popularity is not None:
        a["popularity"] = _band(
            popularity, [(70, "popular"), (40, "known"), (20, "niche")], "obscure"
        )
        phrases.append(f"{a['popularity']} (popularity {popularity:.0f}/100)")
    if track.get("explicit") is True:
        a["explicit"] = True
        phrases.append("explicit lyrics")

    suffix = {"energy": " energy", "tempo": " tempo"}
    for field in ("energy", "mood", "tempo", "texture", "vocals", "danceability"):
        if field in a:
            tags.append(f"{a[field]}{suffix.get(field, '')}")
    a["tags"] = sorted(set(tags))

    description = f"{_headline(track)}. " + (", ".join(phrases) + "." if phrases else "")
    style = artist_style(track)
    if style is not None:
        # the artist's, said so, never the song's own analysis fields (tags, mood, energy)
        a["artist_style"] = style
        description += f" The artist's songs are usually {', '.join(style['traits'])}."
    description = description[0].upper() + description[1:] if description else description
    return TrackAnalysis(content_hash(track), a, description.strip())


def _headline(track: Mapping[str, Any]) -> str:
    name = str(track.get("name") or "Untitled")
    artists = [str(x) for x in (track.get("artists") or []) if x]
    head = f"{name} by {', '.join(artists)}" if artists else name
    context = []
    if track.get("album_name"):
        context.append(f"album: {track['album_name']}")
    genre = track.get("genre")
    if genre:
        sub = track.get("subgenre")
        context.append(f"genre: {genre}" + (f" / {sub}" if sub and sub != genre else ""))
    return f"{head} ({', '.join(context)})" if context else head
