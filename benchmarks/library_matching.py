"""Matching on each real person's own playlists, with their whole library, beside the baselines.

For each whole export in ../shared/data/exports: a database holding the TidyTuesday catalog,
then `spotify-assets import` of the export (playlists, liked songs, history: every song a
track, library tracks embedded), then the offline matching harness (hold out 25% of every
playlist with 8+ members, put them back) on that person's playlists, twice:
- on all members (most have no audio features: library tracks), and
- on the members with audio features only (what the product could do before library tracks).
Every system and baseline is scored on the same split (`shipped`: what the validation gate
serves; the gate's choices and abstain precision/recall are printed). The single variants are
fixed configurations, nothing chosen on validation (`validate_choices=False`): `stage1`,
`ranker` (at the configured blend) as configured; `*_unnormalized` scoring a missing part (no
audio features, no genre) as a bad match; `*_blended` serving the blended value instead of the
song's stage-1 values in the ranker's order (`MatchConfig.ranker_keeps_scale`). Nothing is
tuned here.

    SPOTIFY_ASSETS_HOME=/tmp/bench .venv/bin/python benchmarks/library_matching.py [--only e] \
        [--seed 7 42] [--view all|featured] [--skip-variants] [--validation-folds 3]

The import (and embedding the catalog once) takes minutes on a CPU; a home that already holds
the imports (same SPOTIFY_ASSETS_HOME) is reused.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from spotify_assets.lib.bootstrap import mean_of_means, paired_difference
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.colistening.inputs import load_colistening_inputs
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import MIN_EVAL_MEMBERS, EvalInputs, evaluate_matching
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.matching import CandidateRepository

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXPORTS = {p: f"exports/listener_{p}_full_export" for p in "efgh"}
CATALOG = "tidytuesday/spotify_songs.parquet"
BASELINES = (
    "baseline_popular", "baseline_genre", "baseline_audio", "baseline_same_artist",
    "baseline_co_listening",
)  # fmt: skip
# single variants: fixed configurations (row prefix, settings), nothing chosen on validation
FIXED = {
    "": {},
    "_unnormalized": {"renormalize_missing": False},
    "_blended": {"ranker_keeps_scale": False},
    "_unnormalized_blended": {"renormalize_missing": False, "ranker_keeps_scale": False},
}
VARIANTS = ("stage1", "stage1_unnormalized", *(f"ranker{suffix}" for suffix in FIXED))
SYSTEMS = (*BASELINES, *VARIANTS, "shipped")


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "spotify_assets.cli", *args], check=True)


def ensure_imported(db: Database, person: str) -> None:
    """Import the person's export. An import is idempotent, so one already made costs a rerun,
    and one that was interrupted is completed (its first writes alone looked like a whole
    import before, and the benchmark measured a person with part of their plays)."""
    with db.connect() as conn:
        if not CandidateRepository(conn).lists(person):
            cli("catalog", str(SHARED / CATALOG))
    started = time.perf_counter()
    cli("import", str(SHARED / EXPORTS[person]), "--person", person)
    print(f"import of {person}: {time.perf_counter() - started:.0f} s", flush=True)


def evaluate(world, members, config: MatchConfig, seed: int, colistening, pool):
    inputs = EvalInputs.from_world(world, members, colistening=colistening, negative_pool=pool)
    return evaluate_matching(inputs, config=config, seed=seed)


def versus(result, system: str, other: str) -> str:
    """Paired bootstrap of `system` − `other`: NDCG@10 over evaluated playlists, MRR over
    held-out memberships (95% CIs)."""
    ndcg = paired_difference(result.playlist_ndcg[system], result.playlist_ndcg[other])
    mrr = paired_difference(result.reciprocal_ranks[system], result.reciprocal_ranks[other])
    return f"NDCG@10 {ndcg.text()}, MRR {mrr.text()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(EXPORTS))
    parser.add_argument("--seed", type=int, nargs="+", default=[42])
    parser.add_argument("--view", choices=("all", "featured"), help="one view only")
    parser.add_argument("--validation-folds", type=int, default=MatchConfig().validation_folds,
                        help="validation splits the shipped gate pools (MatchConfig)")  # fmt: skip
    parser.add_argument("--skip-variants", action="store_true",
                        help="leave out the single variants' rows (less than half the time)")  # fmt: skip
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent")
        return 0
    bundle = load_bundles().default_bundle
    embedder = load_embedder(bundle.embedding, device="cpu")
    db = Database(resolve_database_url())
    margins: dict[str, list[np.ndarray]] = {}  # view → per (person, seed): shipped − best baseline
    for person in [args.only] if args.only else sorted(EXPORTS):
        ensure_imported(db, person)
        with db.connect() as conn:
            world = load_world(conn, bundle, embedder, person)
            colistening = load_colistening_inputs(conn, person)
        featured = np.isfinite(world.tracks.features).all(axis=1)
        views = {
            "all members": (world.members, None),
            "members with audio features": (
                [m[featured[m]] for m in world.members], np.nonzero(featured)[0]
            ),
        }
        print(f"\n{person}: {len(world.playlist_ids)} playlists, {len(world.tracks):,} tracks, "
              f"{featured.mean():.1%} with audio features")  # fmt: skip
        if args.view:
            views = dict([list(views.items())[0 if args.view == "all" else 1]])
        for (view, (members, pool)), seed in ((v, s) for v in views.items() for s in args.seed):
            evaluated = sum(len(m) >= MIN_EVAL_MEMBERS for m in members)
            started = time.perf_counter()
            shipped = MatchConfig(validation_folds=args.validation_folds)
            result = evaluate(world, members, shipped, seed, colistening, pool)
            seconds = time.perf_counter() - started
            metrics, gate = result.metrics, result.details["ranker"]
            per_playlist = {}  # variant row → its NDCG@10 per evaluated playlist (paired)
            for suffix, settings in ({} if args.skip_variants else FIXED).items():
                fixed = evaluate(world, members, MatchConfig(validate_choices=False, **settings),
                                 seed, colistening, pool)  # fmt: skip
                for system in ("stage1", "ranker"):
                    if f"{system}{suffix}" not in VARIANTS:
                        continue
                    per_playlist[f"{system}{suffix}"] = fixed.playlist_ndcg[system]
                    for name, value in fixed.metrics.items():
                        if name.startswith(f"{system}/"):
                            metrics[name.replace(system, f"{system}{suffix}", 1)] = value
            best = max((s for s in BASELINES if f"{s}/ndcg@10" in metrics),
                       key=lambda s: metrics[f"{s}/ndcg@10"])  # fmt: skip
            print(f"  {view}, seed {seed}: {evaluated} playlists with {MIN_EVAL_MEMBERS}+ members "
                  f"({seconds:.0f} s)")  # fmt: skip
            if result.details.get("colistening"):
                report = result.details["colistening"]
                print(f"    co-listening: {report['method']} ({report['validation']}), "
                      f"{report['songs_with_vector']:,} of {report['songs']:,} songs, "
                      f"{report['seconds']} s")  # fmt: skip
            print(f"    {'system':<22}{'NDCG@10':>9}{'MRR':>8}{'Recall@5':>10}{'Recall@10':>11}")
            for system in SYSTEMS:
                if f"{system}/ndcg@10" not in metrics:
                    continue
                row = [metrics.get(f"{system}/{m}", float("nan"))
                       for m in ("ndcg@10", "mrr", "recall@5", "recall@10")]  # fmt: skip
                mark = "  (best baseline)" if system == best else ""
                print(f"    {system:<22}{row[0]:9.3f}{row[1]:8.3f}{row[2]:10.3f}{row[3]:11.3f}{mark}")
            shipped = metrics["shipped/ndcg@10"]
            print(f"    gate: {gate['decision'] or gate['reason']}; blend MRR {gate['blend_mrr']}")
            print(f"    weights: {gate['weights']} ({gate['weights_note']})")
            print(f"    variant: {gate.get('variant_note') or 'not chosen'}")
            print(f"    abstain: {gate['abstain_note']}")
            for key in (k for k in ("abstain", "abstain_fitted") if f"{k}/threshold" in metrics):
                print(f"    {key} on held-out songs: threshold {metrics[f'{key}/threshold']:.3f}, "
                      f"precision {metrics[f'{key}/precision']:.3f}, "
                      f"recall {metrics[f'{key}/recall']:.3f}; per song: precision "
                      f"{metrics[f'{key}/song_precision']:.3f}, "
                      f"recall {metrics[f'{key}/song_recall']:.3f}")  # fmt: skip
            print(f"    shipped − stage 1: {shipped - metrics['stage1/ndcg@10']:+.3f}; "
                  f"shipped − best baseline: {shipped - metrics[f'{best}/ndcg@10']:+.3f}")  # fmt: skip
            print(f"    shipped vs {best}: {versus(result, 'shipped', best)}")
            variant = max((v for v in VARIANTS if f"{v}/ndcg@10" in metrics),
                          key=lambda v: metrics[f"{v}/ndcg@10"])  # fmt: skip
            for other in dict.fromkeys(("stage1", variant)):
                gap = shipped - metrics[f"{other}/ndcg@10"]
                interval = (
                    paired_difference(result.playlist_ndcg["shipped"], per_playlist[other]).text()
                    if other in per_playlist else f"{gap:+.3f}"
                )  # fmt: skip
                print(f"    shipped − {'best variant (' + other + ')' if other == variant else other}"
                      f": {gap:+.3f} NDCG@10 (paired: {interval})")  # fmt: skip
            margins.setdefault(view, []).append(
                result.playlist_ndcg["shipped"] - result.playlist_ndcg[best]
            )
            print(f"    shipped vs baseline_same_artist: "
                  f"{versus(result, 'shipped', 'baseline_same_artist')}")  # fmt: skip
    for view, diffs in margins.items():
        average = mean_of_means(diffs)
        print(f"\n{view}: shipped − best baseline, NDCG@10 averaged over {average.n} "
              f"person-seeds (each the same weight): {average.text()}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
