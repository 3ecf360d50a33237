"""Name queries on real people's songs: is the right song in the top 3?

For each whole export in ../shared/data/exports imported in this home (benchmarks/
library_matching.py imports E–H): 100 of the person's playlist songs (seeded), each asked for
by its title, by title + artist, and by title + artist with one typo (a letter of the longest
title word deleted, swapped, replaced or doubled); and 50 of their artists as "songs by
<artist>" (the share of the top 3 that is theirs). Ground truth is the export's own text; a hit
is right when it is the same song (primary artist + bare title: versions count). Hybrid search
(understanding + the lexical leg) beside the vectors alone (`--no-understand`), with p50 / p95
latency of the hybrid queries.

    SPOTIFY_ASSETS_HOME=/tmp/bench .venv/bin/python benchmarks/name_search.py [--only e]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.export import read_export
from spotify_assets.lib.models.backends import make_embedder
from spotify_assets.lib.names import song_key
from spotify_assets.lib.search.lexical import refresh_track_search
from spotify_assets.lib.search.service import search
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.settings import settings

EXPORTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "exports"
SONGS, ARTISTS, TOP = 100, 50, 3


def typo(text: str, rng: random.Random) -> str:
    """One edit in the longest word (5+ letters) of `text`; the text itself when none."""
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]), default=None)
    if longest is None or len(words[longest]) < 5:
        return text
    word = words[longest]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["delete", "swap", "replace", "double"])
    if kind == "delete":
        word = word[:i] + word[i + 1 :]
    elif kind == "swap":
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    elif kind == "replace":
        word = word[:i] + rng.choice("aeioustr".replace(word[i].lower(), "")) + word[i + 1 :]
    else:
        word = word[:i] + word[i] + word[i:]
    words[longest] = word
    return " ".join(words)


def _hit_keys(result) -> list[str]:
    out = []
    for h in result.hits[:TOP]:
        artists = h.details.get("artists") or []
        out.append(song_key(artists[0] if artists else None, h.details.get("name")))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one person (e, f, g, h)")
    args = parser.parse_args()
    db = Database(resolve_database_url())
    bundle = load_bundles().default_bundle
    s = settings()
    embedder = make_embedder(
        bundle.embedding, s.compute_backend, s.device, s.precision, queries=True
    )
    started = time.perf_counter()
    written = refresh_track_search(db)
    print(f"name words: {written:,} tracks (re)built in {time.perf_counter() - started:.1f} s")
    people = [args.only] if args.only else ["e", "f", "g", "h"]
    for person in people:
        folder = EXPORTS / f"listener_{person}_full_export"
        if not folder.exists():
            print(f"{person}: {folder} not found; skipped")
            continue
        items = read_export(folder).playlists.items
        items = items[items["title"].notna() & items["artist"].notna()]
        pairs = zip(items["artist"], items["title"], strict=True)
        items = items.assign(key=[song_key(a, t) for a, t in pairs])
        songs = items.drop_duplicates("key").sample(SONGS, random_state=7)
        artists = items["artist"].drop_duplicates().sample(ARTISTS, random_state=7)
        rng = random.Random(7)
        triples = list(zip(songs["title"], songs["artist"], songs["key"], strict=True))
        kinds = {
            "title": [(t, k) for t, _a, k in triples],
            "title + artist": [(f"{t} {a}", k) for t, a, k in triples],
        }
        kinds["with a typo"] = [(typo(q, rng), k) for q, k in kinds["title + artist"]]
        print(f"\n{person}: {len(songs)} songs, {len(artists)} artists "
              f"(right song in the top {TOP}; hybrid / vectors alone)")  # fmt: skip
        seconds = []
        for kind, queries in kinds.items():
            right = {True: 0, False: 0}
            for query, key in queries:
                for understand in (True, False):
                    t0 = time.perf_counter()
                    result = search(db, bundle, embedder, query, limit=TOP, understand=understand)
                    if understand:
                        seconds.append(time.perf_counter() - t0)
                    right[understand] += key in _hit_keys(result)
            n = len(queries)
            print(f"    {kind:<16}{right[True] / n:7.0%} / {right[False] / n:.0%}")
        theirs = {True: [], False: []}
        for artist in artists:
            want = song_key(artist, "x").split("|")[0]
            for understand in (True, False):
                result = search(db, bundle, embedder, f"songs by {artist}", limit=TOP,
                                understand=understand)  # fmt: skip
                keys = [k.split("|")[0] for k in _hit_keys(result)]
                theirs[understand].append(np.mean([k == want for k in keys]) if keys else 0.0)
        print(f"    {'songs by <artist>':<16}{np.mean(theirs[True]):7.0%} / "
              f"{np.mean(theirs[False]):.0%} of the top {TOP} by them")  # fmt: skip
        ms = np.array(seconds) * 1000
        print(f"    hybrid latency: p50 {np.percentile(ms, 50):.0f} ms, p95 "
              f"{np.percentile(ms, 95):.0f} ms over {len(ms)} queries")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
