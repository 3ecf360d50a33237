"""Matching quality on catalogs with playlists, one harness run per source and seed.

Sources (each in its own database: DATABASE_URL, else the embedded one of SPOTIFY_ASSETS_HOME):
- tidytuesday: the TidyTuesday catalog and its playlists (person --person, default "me");
- sample: the GENERATED sample world (spotify_assets.lib.sample) and its playlists;
- kaggle_sample: the Kaggle 114K 1,000-row sample, each primary genre a playlist. The genre
  column is then the answer, so it is hidden from matching (genre -1); the song descriptions
  that are embedded still name it, so meaning alone can find the genre: read it as a check
  that the system holds without artist, year and popularity columns, not as a hard task.
Brings analyses, embeddings, emotions and playlist profiles up to date for the bundle (all
reused when present), then runs the evaluation harness (25% of each playlist with >= 8
members held out) and prints every system and baseline, the validation gate's choices and
abstain precision/recall.

    SPOTIFY_ASSETS_HOME=/tmp/x .venv/bin/python benchmarks/match_quality.py \
        [--source tidytuesday|sample|kaggle_sample] [--seed 7 42]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.emotions.update import update_track_emotions
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.models.emotions import load_emotion_model
from spotify_assets.lib.playlists.ingest import store_playlists
from spotify_assets.lib.playlists.inputs import load_tracks
from spotify_assets.lib.playlists.sources import sample_playlists
from spotify_assets.lib.playlists.update import update_playlist_profiles
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.sample import ensure_sample
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.settings import home_dir

DATA = Path(__file__).resolve().parents[2] / "shared/data"
TIDYTUESDAY = DATA / "tidytuesday/spotify_songs.parquet"
KAGGLE_SAMPLE = DATA / "kaggle_114k/sample_music_dataset.csv"
SYSTEMS = ("baseline_popular", "baseline_genre", "baseline_audio", "stage1", "ranker", "shipped")


def prepare(db: Database, bundle, source: str, person: str):
    """Catalog, analyses, embeddings, emotions (and the sample's playlists) in the database."""
    if source == "sample":
        sample = ensure_sample(home_dir())
        catalog = sample.tracks_csv
    else:
        catalog = KAGGLE_SAMPLE if source == "kaggle_sample" else TIDYTUESDAY
    load_catalog(db, str(catalog))
    update_track_analyses(db)
    embedder = load_embedder(bundle.embedding, "cpu", "fp32")
    update_track_embeddings(db, bundle, embedder, batch_size=1024)
    emotions = load_emotion_model(bundle.emotion, embedder)
    if emotions is not None:
        update_track_emotions(db, bundle, emotions)
    if source == "sample":
        store_playlists(db, sample_playlists(sample.playlists_json), person, "sample")
    if source != "kaggle_sample":
        print(f"playlist_profiles: {update_playlist_profiles(db, bundle, embedder, person=person)}")


def inputs_for(db: Database, bundle, source: str, person: str) -> EvalInputs:
    with db.connect() as conn:
        if source == "kaggle_sample":
            tracks, _ = load_tracks(conn, bundle.hash)
            genre = tracks.genre.copy()
            members = [np.nonzero(genre == g)[0] for g in range(len(tracks.genres))]
            tracks.genre = np.full(len(tracks), -1)  # the answer: hidden
            n = len(members)
            names = [f"Playlist {i + 1}" for i in range(n)]  # not the genre's name
            dims = tracks.embeddings.shape[1]
            return EvalInputs(tracks, [f"genre{i}" for i in range(n)], names, [""] * n,
                              [None] * n, members, np.zeros((n, dims), np.float32))  # fmt: skip
        world = load_world(conn, bundle, None, person)
    return EvalInputs.from_world(world)


def report(result, label: str) -> None:
    """The systems (NDCG@10, MRR, Recall@10), the gate's choices, abstain precision/recall."""
    m, ranker = result.metrics, result.details["ranker"]
    print(f"\n{label}: {int(m['evaluated_playlists'])} playlists evaluated, "
          f"{int(m['held_out_memberships'])} held-out memberships")  # fmt: skip
    print(f"  {'system':<18}{'NDCG@10':>9}{'MRR':>8}{'Recall@10':>11}")
    for system in SYSTEMS:
        if f"{system}/ndcg@10" in m:
            row = [m[f"{system}/{k}"] for k in ("ndcg@10", "mrr", "recall@10")]
            print(f"  {system:<18}{row[0]:9.4f}{row[1]:8.4f}{row[2]:11.4f}")
    print(f"  gate: {ranker['decision'] or ranker['reason']}; blend MRR {ranker['blend_mrr']}")
    print(f"  weights: {ranker['weights']} ({ranker['weights_note']})")
    print(f"  abstain: {ranker['abstain_note']}")
    for key in (k for k in ("abstain", "abstain_fitted") if f"{k}/threshold" in m):
        print(f"  {key} on held-out songs: threshold {m[f'{key}/threshold']:.3f}, precision "
              f"{m[f'{key}/precision']:.3f}, recall {m[f'{key}/recall']:.3f}")  # fmt: skip
    best = max(m[f"{b}/ndcg@10"] for b in SYSTEMS[:3])
    shipped, stage1 = m["shipped/ndcg@10"], m["stage1/ndcg@10"]
    print(f"  shipped NDCG@10 {shipped:.4f}: {100 * (shipped - stage1):+.1f} points over stage 1, "
          f"{100 * (shipped - best):+.1f} over the best baseline")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("tidytuesday", "sample", "kaggle_sample"),
                        default="tidytuesday")  # fmt: skip
    parser.add_argument("--person", default="me", help="whose playlists (tidytuesday: 'me')")
    parser.add_argument("--bundle", default=None)
    parser.add_argument("--seed", type=int, nargs="+", default=[42])
    parser.add_argument("--negatives", type=int, default=50)
    parser.add_argument("--skip-prepare", action="store_true", help="the database is ready")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)

    bundles = load_bundles()
    bundle = bundles.by_name(args.bundle) if args.bundle else bundles.default_bundle
    db = Database(resolve_database_url())
    person = "sample" if args.source == "sample" else args.person
    if not args.skip_prepare:
        prepare(db, bundle, args.source, person)
    inputs = inputs_for(db, bundle, args.source, person)
    for seed in args.seed:
        started = time.perf_counter()
        result = evaluate_matching(
            inputs, MatchConfig(), seed=seed, negatives=args.negatives, log=print
        )
        report(result, f"{bundle.name} on {args.source}, seed {seed}")
        print(f"  harness time {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
