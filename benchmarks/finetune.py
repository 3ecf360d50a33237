"""Fine-tune the base bundle on a source's playlists: wall time, then base vs fine-tuned on the
matching harness (same split and seed), and what the promotion gate would decide.

Uses match_quality's `prepare`/`inputs_for`, so both bundles see the same catalog and
playlists; the fine-tuned bundle is registered in $SPOTIFY_ASSETS_HOME/learned_bundles.yaml
and embedded like any bundle. Only the matching half of the gate runs here (the search suite
is `search_quality.py --bundle NAME`). Pairs exclude the seed's held-out songs.

    SPOTIFY_ASSETS_HOME=/tmp/x nice -n 10 .venv/bin/python benchmarks/finetune.py \
        --source tidytuesday|kaggle_sample|e|f [--max-pairs 4000] [--epochs 1] [--seed 42]

e / f: the real exports (library_matching's import); only the person's tracks are embedded
with the fine-tuned model.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from library_matching import EXPORTS
from match_quality import inputs_for, prepare

from spotify_assets.lib.artifacts import LocalArtifactStore
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.finetune.bundle import register
from spotify_assets.lib.finetune.gate import decide, paired
from spotify_assets.lib.finetune.pairs import build_pairs
from spotify_assets.lib.finetune.promotion import matching_scores
from spotify_assets.lib.finetune.run import run_fine_tune
from spotify_assets.lib.finetune.train import TrainConfig
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching, final_system
from spotify_assets.lib.playlists.inputs import load_playlists, load_tracks
from spotify_assets.lib.playlists.profiles import ACOUSTIC_FEATURES
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.settings import home_dir

METRICS = ("ndcg@10", "mrr", "recall@5", "ndcg@10_subgenre", "mrr_subgenre", "recall@5_subgenre")


def pairs_for(db, bundle, inputs, config: TrainConfig):
    with db.connect() as conn:
        _, texts = load_tracks(conn, bundle.hash)
    description = dict(zip(texts["track_id"], texts["description"], strict=True))
    tracks = inputs.tracks
    return build_pairs(
        inputs.names,
        inputs.descriptions,
        inputs.members,
        [description[t] for t in tracks.track_ids],
        [tracks.genres[g] if g >= 0 else None for g in tracks.genre],
        [dict(zip(ACOUSTIC_FEATURES, row, strict=True)) for row in tracks.features],
        seed=config.seed,
        max_pairs=config.max_pairs,
        feature_share=config.feature_share,
    )


def tidytuesday_pairs(db, bundle, person: str, config: TrainConfig):
    """Pairs over the tracks embedded so far (the wall time depends on the pair count only)."""
    with db.connect() as conn:
        playlists = load_playlists(conn, person)
        tracks, texts = load_tracks(conn, bundle.hash)
    members = playlists.members({t: i for i, t in enumerate(tracks.track_ids)})
    frame = playlists.playlists
    return build_pairs(
        frame["name"].tolist(),
        frame["description"].tolist(),
        members,
        texts["description"].tolist(),
        [tracks.genres[g] if g >= 0 else None for g in tracks.genre],
        [dict(zip(ACOUSTIC_FEATURES, row, strict=True)) for row in tracks.features],
        seed=config.seed,
        max_pairs=config.max_pairs,
        feature_share=config.feature_share,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=("tidytuesday", "kaggle_sample", *EXPORTS),
                        default="tidytuesday")  # fmt: skip
    parser.add_argument("--person", default="me")
    parser.add_argument("--max-pairs", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-prepare", action="store_true", help="the base is prepared")
    parser.add_argument("--train-only", action="store_true", help="time the fine-tune only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import torch

    print(f"CPU: {platform.processor() or platform.machine()}, torch threads "
          f"{torch.get_num_threads()}, load average {os.getloadavg()}")  # fmt: skip
    base = load_bundles().default_bundle
    db = Database(resolve_database_url())
    config = TrainConfig(epochs=args.epochs, seed=args.seed, max_pairs=args.max_pairs)
    if args.source in EXPORTS:
        return export_run(db, base, args.source, config)
    if not args.skip_prepare:
        prepare(db, base, args.source, args.person)
    if args.train_only and args.source == "tidytuesday":  # no playlist profiles needed
        pairs = tidytuesday_pairs(db, base, args.person, config)
    else:
        base_inputs = inputs_for(db, base, args.source, args.person)
        pairs = pairs_for(db, base, base_inputs, config)
    kinds = {k: pairs.kinds.count(k) for k in ("playlist", "feature")}
    print(f"pairs: {len(pairs)} ({kinds}), {pairs.excluded} held-out memberships excluded")
    store = LocalArtifactStore(home_dir() / "artifacts")
    started = time.perf_counter()
    result = run_fine_tune(base, pairs, store, config, "cpu", print)
    print(f"fine-tune wall time: {time.perf_counter() - started:.0f} s "
          f"({'trained' if result.report else 'reused the stored model'}); "
          f"load average now {os.getloadavg()}")  # fmt: skip
    if args.train_only:
        return
    register(result.bundle)
    tuned = load_bundles().by_hash(result.bundle.hash)
    prepare(db, tuned, args.source, args.person)
    tuned_inputs = inputs_for(db, tuned, args.source, args.person)

    compare(base, tuned, base_inputs, tuned_inputs, args.source, args.seed)


def export_run(db, base, person: str, config: TrainConfig) -> None:
    """A real export (library_matching's import): fine-tune on the person's own playlists,
    embed only their tracks with the fine-tuned model, compare on the matching harness."""
    from library_matching import ensure_imported

    from spotify_assets.lib.embeddings.update import update_track_embeddings
    from spotify_assets.lib.emotions.update import update_track_emotions
    from spotify_assets.lib.finetune.run import world_pairs
    from spotify_assets.lib.models.embedder import load_embedder
    from spotify_assets.lib.models.emotions import load_emotion_model
    from spotify_assets.lib.playlists.world import load_world

    ensure_imported(db, person)
    with db.connect() as conn:
        world = load_world(conn, base, load_embedder(base.embedding, device="cpu"), person)
    pairs = world_pairs(world, config)
    kinds = {k: pairs.kinds.count(k) for k in ("playlist", "feature")}
    print(f"{person}: {len(world.playlist_ids)} playlists, {len(world.tracks):,} tracks; pairs "
          f"{len(pairs)} ({kinds}), {pairs.excluded} held-out memberships excluded")  # fmt: skip
    store = LocalArtifactStore(home_dir() / "artifacts")
    started = time.perf_counter()
    result = run_fine_tune(base, pairs, store, config, "cpu", print)
    print(f"fine-tune wall time: {time.perf_counter() - started:.0f} s "
          f"({'trained' if result.report else 'reused the stored model'})")  # fmt: skip
    register(result.bundle)
    tuned = load_bundles().by_hash(result.bundle.hash)
    started = time.perf_counter()
    embedder = load_embedder(tuned.embedding, "cpu", "fp32")
    update_track_embeddings(db, tuned, embedder, only=list(world.tracks.track_ids))
    emotions = load_emotion_model(tuned.emotion, embedder)
    if emotions is not None:
        update_track_emotions(db, tuned, emotions)
    with db.connect() as conn:
        tuned_world = load_world(conn, tuned, embedder, person)
    print(f"fine-tuned bundle: {len(tuned_world.tracks):,} tracks embedded in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    compare(
        base,
        tuned,
        EvalInputs.from_world(world, world.members),
        EvalInputs.from_world(tuned_world, tuned_world.members),
        person,
        config.seed,
    )


def compare(base, tuned, base_inputs, tuned_inputs, source: str, seed: int) -> None:
    """Both bundles on the matching harness (same split and seed), then the gate's matching
    half: the paired per-membership reciprocal ranks, bootstrap CI."""
    evaluated = {}
    for label, bundle, inputs in (("base", base, base_inputs), ("fine-tuned", tuned, tuned_inputs)):
        evaluated[label] = evaluate_matching(inputs, MatchConfig(), seed=seed)
        m = evaluated[label].metrics
        system = final_system(m)
        figures = ", ".join(
            f"{k} {m[f'{system}/{k}']:.4f}" for k in METRICS if f"{system}/{k}" in m
        )
        stage1 = ", ".join(f"{k} {m[f'stage1/{k}']:.4f}" for k in METRICS[:3])
        print(f"{label} {bundle.name} on {source} (seed {seed}), {system}: {figures}; "
              f"stage1: {stage1}")  # fmt: skip
    base_rr, tuned_rr = paired(
        matching_scores(evaluated["base"]), matching_scores(evaluated["fine-tuned"])
    )
    decision = decide({"matching MRR": (base_rr, tuned_rr)})
    print(f"gate (matching half): {decision.reason}")
    print(f"per-item MRR mean base {np.mean(base_rr):.4f} vs fine-tuned {np.mean(tuned_rr):.4f}")


if __name__ == "__main__":
    main()
