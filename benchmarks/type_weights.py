"""Learned vs heuristic playlist-type weights on the matching harness (same split, same seed).

For each source, the harness runs twice: with `learn_type_weights` (the shipped default: the
semantic/acoustic weight per type and the emotion and genre weights fitted on the person's
training songs, served only if they beat the seed's table on the validation songs) and
without (the seed plan's table). Two systems each: stage 1 alone (`ranker="none"`: the weights
are all that differs) and what ships (with the gated ranker on top). Prints NDCG@10 / MRR /
Recall@5 on the held-out songs and what the fit decided.

    SPOTIFY_ASSETS_HOME=/tmp/home_match nice -n 10 .venv/bin/python benchmarks/type_weights.py \
        [--source tidytuesday sample e f] [--seed 7 42] [--skip-prepare]

tidytuesday / sample: match_quality's catalog and playlists; e / f: the real exports, all
members (library_matching's import).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from library_matching import EXPORTS, SHARED, ensure_imported
from match_quality import inputs_for, prepare

from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import EvalInputs, evaluate_matching
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.store import Database, resolve_database_url

METRICS = ("ndcg@10", "mrr", "recall@5")


def source_inputs(db, bundle, source: str, skip_prepare: bool) -> EvalInputs:
    if source in EXPORTS:
        ensure_imported(db, source)
        with db.connect() as conn:
            world = load_world(conn, bundle, load_embedder(bundle.embedding, device="cpu"), source)
        return EvalInputs.from_world(world, world.members)
    person = "sample" if source == "sample" else "me"
    if not skip_prepare:
        prepare(db, bundle, source, person)
    return inputs_for(db, bundle, source, person)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", nargs="+", default=["tidytuesday", "sample", "e", "f"],
                        choices=["tidytuesday", "sample", *EXPORTS])  # fmt: skip
    parser.add_argument("--seed", type=int, nargs="+", default=[7, 42])
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent")
        return 0
    bundle = load_bundles().default_bundle
    db = Database(resolve_database_url())
    for source in args.source:
        inputs = source_inputs(db, bundle, source, args.skip_prepare)
        print(f"\n{source}: {len(inputs.playlist_ids)} playlists, {len(inputs.tracks):,} tracks")
        for seed in args.seed:
            started = time.perf_counter()
            rows = {}
            for system, base in (("stage 1", MatchConfig(ranker="none")),
                                 ("shipped", MatchConfig())):  # fmt: skip
                for label, config in (("seed table", replace(base, learn_type_weights=False)),
                                      ("learned", base)):  # fmt: skip
                    result = evaluate_matching(inputs, config, seed=seed)
                    m = result.metrics
                    rows[(system, label)] = [m.get(f"shipped/{k}", float("nan")) for k in METRICS]
                    if label == "learned" and system == "stage 1":
                        note = result.details["ranker"]["type_weights_note"]
            print(f"  seed {seed} ({time.perf_counter() - started:.0f} s): {note}")
            print(f"    {'system':<10}{'weights':<12}" + "".join(f"{k:>10}" for k in METRICS))
            for (system, label), values in rows.items():
                print(f"    {system:<10}{label:<12}" + "".join(f"{v:10.3f}" for v in values))
            for system in ("stage 1", "shipped"):
                delta = [a - b for a, b in zip(rows[(system, "learned")],
                                               rows[(system, "seed table")], strict=True)]  # fmt: skip
                print(f"    {system:<10}{'Δ learned':<12}" + "".join(f"{d:+10.3f}" for d in delta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
