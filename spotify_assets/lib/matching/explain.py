"""Reasons a song was suggested for a playlist, from the stored per-signal contributions.

A reason names what sets this playlist apart *for this song*: each stage-1 part is compared
with the song's average over all playlists, and the two largest positive differences speak.
A reason never cites what the song does not have: a mood only for a song with measured audio
features (a mood guessed from a title's words is not a reason), a sound only from its features;
what its artist usually sounds like is said as the artist's ("the artist's songs are usually …").
"""

from __future__ import annotations

import numpy as np

from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES

# features people recognise, in the order they are worth mentioning
_SPOKEN = {
    "tempo": "tempo",
    "energy": "energy",
    "valence": "mood",
    "danceability": "danceability",
    "acousticness": "acoustic sound",
    "instrumentalness": "instrumental sound",
    "loudness": "loudness",
}


def closest_features(
    song: np.ndarray,
    mean: np.ndarray,
    spread: np.ndarray,
    global_mean: np.ndarray,
    global_std: np.ndarray,
    n: int = 2,
) -> list[str]:
    """The spoken features where the song sits closest to the playlist's centre, preferring
    those that set the playlist apart from the catalog (a gym playlist's energy, not its
    ordinary key)."""
    z = np.abs((song - mean) / spread)
    distinct = np.abs(mean - global_mean) / global_std >= 0.5
    order = sorted(
        (i for i in range(len(ACOUSTIC_FEATURES)) if np.isfinite(z[i]) and z[i] < 1.5),
        key=lambda i: (not distinct[i], z[i]),
    )
    names = [ACOUSTIC_FEATURES[i] for i in order]
    return [_SPOKEN[f] for f in names if f in _SPOKEN][:n]


def reason_text(
    playlist: str,
    lift: dict[str, float],
    sem_centroid: float,
    sem_name: float,
    features: list[str],
    song_emotion: str | None,
    song_genre: str | None,
    genre_share: float,
    played_with: int = 0,
    no_colistening: bool = False,
    artist_traits: list[str] | None = None,
) -> str:
    """`lift`: stage-1 part minus the song's mean of that part over all playlists.
    `song_emotion`: None unless the song has measured features. `played_with`: the playlist's
    songs the person puts or plays close to this one (co-listening); `no_colistening`: the
    person's library says nothing of this song (never played, in no playlist), so it is matched
    on what it is alone, said once. `artist_traits`: the song's artist's usual traits
    (lib/catalog/artists) it lacks of its own, always said as the artist's."""
    reasons = []
    for part, value in sorted(lift.items(), key=lambda kv: -kv[1]):
        if value <= 0 or len(reasons) == 2:
            continue
        if part == "colisten":
            reasons.append(
                f"you play it with {played_with} song{'s' if played_with != 1 else ''} of "
                f"'{playlist}'"
                if played_with
                else f"your listening puts it near '{playlist}'"
            )
            continue
        if part == "artist_style":
            reasons.append(
                f"the artist's songs are usually {' and '.join(artist_traits[:2])}, like the "
                f"artists of '{playlist}'"
                if artist_traits
                else f"its artist sounds like the artists of '{playlist}'"
            )
            continue
        if part == "acoustic" and features:
            reasons.append(f"{' and '.join(features)} match '{playlist}'")
        elif part == "semantic":
            # "sounds like" only for a song whose sound is measured: for the others the
            # likeness is of what is known of them (title, artist, album, the artist's style)
            reasons.append(
                f"fits the name '{playlist}'"
                if sem_name > sem_centroid
                else f"sounds like the songs in '{playlist}'"
                if features or song_emotion
                else f"is like the songs in '{playlist}'"
            )
        elif part == "genre" and song_genre and genre_share > 0:
            reasons.append(f"{song_genre}, like {genre_share:.0%} of '{playlist}'")
        elif part == "emotion" and song_emotion:
            reasons.append(f"mood: {song_emotion}")
    if song_emotion and not any(r.startswith("mood:") for r in reasons):
        reasons.append(f"mood: {song_emotion}")
    text = "; ".join(reasons) if reasons else f"closest overall to '{playlist}'"
    if no_colistening:
        text += " (not in your playlists or plays yet: matched on the song itself)"
    return text


_SPOKEN_WORDS = tuple(_SPOKEN.values())


def unfounded_claims(reasons: str, measured: bool, has_genre: bool) -> list[str]:
    """The phrases of a reason text the song itself cannot back: a mood, a sound or a
    feature match without measured audio features, a genre share without a genre. What is
    said as the artist's ("the artist's songs are usually …") is not a claim about the song.
    The audit of every suggestion (benchmarks/reasons_audit.py) counts these; it must be 0."""
    out = []
    for phrase in reasons.split(" (not in your playlists")[0].split("; "):
        if phrase.startswith(("the artist's songs", "its artist")):
            continue
        if (not measured and (
            phrase.startswith("mood:")
            or phrase.startswith("sounds like")
            or (" match '" in phrase and phrase.split(" match '")[0].split(" and ")[0]
                in _SPOKEN_WORDS)
        )) or (not has_genre and ", like " in phrase and "% of '" in phrase):  # fmt: skip
            out.append(phrase)
    return out
