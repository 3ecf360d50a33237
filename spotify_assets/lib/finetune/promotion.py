"""Base vs fine-tuned bundle on the matching harness and the search suite, then the gate.

Both bundles are evaluated here, in one run, with the same split and seed, so the items
pair up: held-out memberships (reciprocal rank of what ships) and search phrasings (hybrid
NDCG@10). A promotion writes the learned bundles file's `default:`; switching back is
`set_default(None)` (or SPOTIFY_ASSETS_ACTIVE_BUNDLE / the bundles file's `default:`), and
both bundles' rows stay where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.finetune.bundle import set_default
from spotify_assets.lib.finetune.gate import MARGIN, GateDecision, decide, paired
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.evaluation import (
    EvalInputs,
    EvalResult,
    evaluate_matching,
    final_system,
)
from spotify_assets.lib.playlists.world import load_world
from spotify_assets.lib.search.suite import SuiteReport, run_suite

SEARCH_METRIC = "hybrid_ndcg@10"


def matching_scores(result: EvalResult) -> dict[str, float]:
    system = final_system(result.metrics)
    ranks = result.reciprocal_ranks[system]
    return dict(zip(result.held_out, ranks.tolist(), strict=True))


def search_scores(report: SuiteReport, metric: str = SEARCH_METRIC) -> dict[str, float]:
    return {f"{row['class']}|{row['query']}": float(row[metric]) for row in report.rows}


@dataclass
class BundleEvaluation:
    matching: EvalResult
    search: SuiteReport


def evaluate_bundle(
    db, bundle: ModelBundle, embedder, person: str | None, seed: int, log: Callable[[str], None]
) -> BundleEvaluation:
    """The matching harness (seeded split) and the search suite for one bundle, as stored."""
    with db.connect() as conn:
        world = load_world(conn, bundle, None, person)
    inputs = EvalInputs.from_world(world, with_texts=True)
    matching = evaluate_matching(inputs, MatchConfig(), seed=seed, log=log)
    search = run_suite(db, bundle, embedder, progress=log)
    return BundleEvaluation(matching, search)


def gate(
    base: BundleEvaluation, tuned: BundleEvaluation, margin: float = MARGIN, seed: int = 0
) -> GateDecision:
    return decide(
        {
            "matching MRR": paired(matching_scores(base.matching), matching_scores(tuned.matching)),
            f"search {SEARCH_METRIC}": paired(
                search_scores(base.search), search_scores(tuned.search)
            ),
        },
        margin,
        seed,
    )


def apply(decision: GateDecision, tuned: ModelBundle) -> str | None:
    """Make `tuned` the active bundle when the gate says so; the name now active, else None."""
    if not decision.promote:
        return None
    set_default(tuned.name)
    return tuned.name
