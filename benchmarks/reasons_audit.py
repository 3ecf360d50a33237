"""Audit every suggestion's reasons: none may claim a mood, a sound, a feature match or a genre
share the song does not have (explain.unfounded_claims), on each real person's own songs.

For each person imported in this home (benchmarks/library_matching.py imports E–H): the real
CLI sorts their liked songs into their playlists (`spotify-assets sort --person P`), then
every stored suggestion of that run is checked against the song's own fields (not its
artist's, which reasons must label as the artist's). Prints, per person, suggestions, songs
without features, reasons that speak of the artist's style, and unfounded claims (target 0),
with examples of both.

    SPOTIFY_ASSETS_HOME=/tmp/bench .venv/bin/python benchmarks/reasons_audit.py [--only e]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.features import ACOUSTIC_FEATURES
from spotify_assets.lib.matching.explain import unfounded_claims
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.matching import CandidateRepository, MatchRepository
from spotify_assets.lib.store.tracks import TrackRepository


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one person")
    parser.add_argument("--no-sort", action="store_true", help="audit the stored runs only")
    args = parser.parse_args()
    bundle = load_bundles().default_bundle
    db = Database(resolve_database_url())
    people = [args.only] if args.only else ["e", "f", "g", "h"]
    total = 0
    for person in people:
        with db.connect() as conn:
            if "liked" not in CandidateRepository(conn).lists(person):
                print(f"{person}: no liked songs imported here; skipped")
                continue
        if not args.no_sort:
            subprocess.run([sys.executable, "-m", "spotify_assets.cli", "sort", "--person",
                            person, "--limit", "3"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        with db.connect() as conn:
            context = MatchRepository(conn).latest_context(person, bundle.hash, "liked")
            results = MatchRepository(conn).results(context)
            own = TrackRepository(conn).frame(["track_id", "genre", *ACOUSTIC_FEATURES])
        own = own.set_index("track_id").loc[results["track_id"].unique()]
        measured = own[list(ACOUSTIC_FEATURES)].notna().any(axis=1)
        has_genre = own["genre"].notna() & (own["genre"] != "")
        bad, artist_said = [], 0
        for track_id, reasons in zip(results["track_id"], results["reasons"], strict=True):
            claims = unfounded_claims(reasons, bool(measured[track_id]), bool(has_genre[track_id]))
            bad.extend((track_id, c) for c in claims)
            artist_said += "the artist's songs" in reasons
        songs = len(own)
        print(f"{person}: {len(results):,} suggestions of {songs:,} songs "
              f"({(~measured).mean():.0%} without features); {artist_said:,} reasons speak of the "
              f"artist's style; unfounded claims: {len(bad)}")  # fmt: skip
        for example in results["reasons"][results["reasons"].str.contains("the artist's")][:2]:
            print(f"    e.g. {example}")
        for track_id, claim in bad[:5]:
            print(f"    UNFOUNDED {track_id}: {claim}")
        total += len(bad)
    print(f"unfounded claims over all: {total}")
    return 1 if total else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
