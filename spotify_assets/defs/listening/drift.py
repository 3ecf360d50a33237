"""Drift: the last 7 days against the 30 before, refreshed with every update."""

import dagster as dg

from spotify_assets.defs.listening.common import EVERY_30_MINUTES, LISTENING, load_sessions, summary
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.resources import DatabaseResource


class DriftConfig(dg.Config):
    recent_days: int = 7
    baseline_days: int = 30


@dg.asset(
    **LISTENING,
    kinds={"scipy", "json"},
    freshness_policy=EVERY_30_MINUTES,
    io_manager_key="documents",
    deps=[play_features],
    description="Last 7 days vs the 30 before: session duration, sessions/day, tracks/day, "
    "start-hour entropy and feature distributions, each with a test, an effect-size floor and "
    "minimum sample sizes ('insufficient data' never alarms).",
)
def drift_report(
    context: dg.AssetExecutionContext, config: DriftConfig, database: DatabaseResource
) -> dg.Output[dict]:
    from spotify_assets.lib.listening.drift import INSUFFICIENT, detect_drift
    from spotify_assets.lib.listening.drift import DriftConfig as Settings

    report = detect_drift(
        load_sessions(database, context.partition_key),
        config=Settings(recent_days=config.recent_days, baseline_days=config.baseline_days),
    )
    insufficient = sum(1 for m in report.metrics if m.status == INSUFFICIENT)
    verdict = (
        "not enough data for any metric"
        if insufficient == len(report.metrics)
        else f"drifted: {', '.join(report.drifted_metrics) or 'nothing'}"
    )

    return dg.Output(
        report.to_dict(),
        metadata={
            "drifted": report.drifted,
            "drifted_metrics": dg.MetadataValue.json(report.drifted_metrics),
            "metrics_tested": len(report.metrics) - insufficient,
            "insufficient": insufficient,
            "verdict": verdict,
            "summary": summary(
                context,
                f"last {config.recent_days} days vs the {config.baseline_days} before: {verdict}",
            ),
        },
    )
