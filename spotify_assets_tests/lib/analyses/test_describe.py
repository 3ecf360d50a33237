from spotify_assets.lib.analyses.describe import analyze, content_hash

BLINK = {
    "track_id": "2m1hi0nfMR9vdGC8UcrnwU",
    "name": "All The Small Things",
    "artists": ["blink-182"],
    "album_name": "Enema of the State",
    "genre": "rock",
    "subgenre": "pop-punk",
    "release_year": 1999,
    "popularity": 80,
    "duration_ms": 168000,
    "explicit": False,
    "danceability": 0.434,
    "energy": 0.897,
    "key": 0,
    "loudness": -4.918,
    "mode": 1,
    "speechiness": 0.0483,
    "acousticness": 0.0103,
    "instrumentalness": 0.0,
    "liveness": 0.612,
    "valence": 0.684,
    "tempo": 148.726,
}


def test_description_names_the_track_and_maps_features_to_words():
    text = analyze(BLINK).description
    assert text.startswith(
        "All The Small Things by blink-182 (album: Enema of the State, genre: rock / pop-punk)."
    )
    for phrase in ("High energy (0.90)", "fast tempo (149 BPM)", "loud (-4.9 dB)", "C major key"):
        assert phrase in text
    assert "1990s" in text and "popular (popularity 80/100)" in text


def test_bands_follow_the_documented_ranges():
    sad = analyze({**BLINK, "valence": 0.2, "energy": 0.3, "tempo": 70})
    assert sad.analysis["mood"] == "melancholic" and "melancholic" in sad.description
    assert sad.analysis["energy"] == "low" and sad.analysis["tempo"] == "very slow"
    instrumental = analyze({**BLINK, "instrumentalness": 0.9, "speechiness": 0.03})
    assert instrumental.analysis["vocals"] == "instrumental"
    rap = analyze({**BLINK, "speechiness": 0.45})
    assert rap.analysis["vocals"] == "rap" and "rap / spoken-word vocals" in rap.description
    acoustic = analyze({**BLINK, "acousticness": 0.9})
    assert acoustic.analysis["texture"] == "acoustic"


def test_deterministic_and_tolerant_of_missing_fields():
    assert analyze(BLINK) == analyze(dict(reversed(list(BLINK.items()))))
    bare = analyze({"track_id": "x", "name": "Untitled Demo"})
    assert bare.description == "Untitled Demo."
    assert analyze({**BLINK, "energy": None}).analysis.get("energy") is None


def test_content_hash_follows_description_inputs_only():
    assert content_hash(BLINK) != content_hash({**BLINK, "energy": 0.5})
    assert content_hash(BLINK) == content_hash({**BLINK, "source_file": "/elsewhere.csv"})
    assert analyze(BLINK).content_hash == content_hash(BLINK)
