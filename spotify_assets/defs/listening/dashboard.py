"""Stage 6, dashboard: the person's page (JSON and self-contained HTML) from the last retrain's
results, predictions and drift."""

import dagster as dg
import pandas as pd

from spotify_assets.defs.artifacts import ArtifactStoreResource
from spotify_assets.defs.listening.common import EVERY_30_MINUTES, LISTENING, load_sessions, summary
from spotify_assets.defs.listening.features import play_features
from spotify_assets.defs.resources import DatabaseResource


@dg.asset(
    **LISTENING,
    kinds={"html", "json"},
    freshness_policy=EVERY_30_MINUTES,
    deps=[play_features],
    description="A JSON document (for embedding in a website) and a self-contained HTML page, in "
    "the person's time zone: listening by hour × weekday, moods, mood share over time, "
    "next-24 h session starts, model vs baselines with CIs, drift, feature coverage.",
)
def listening_dashboard(
    context: dg.AssetExecutionContext,
    database: DatabaseResource,
    artifacts: ArtifactStoreResource,
    listening_models: dict,
    listening_predictions: dict,
    drift_report: dict,
) -> dg.MaterializeResult:
    import base64

    from spotify_assets.lib.listening.dashboard import (
        artifact_folder,
        build_dashboard,
        plot_svgs,
        render_html,
        to_json,
    )
    from spotify_assets.lib.listening.moods import MoodModel, assign
    from spotify_assets.lib.listening.retrain import Retrain

    person, run = context.partition_key, listening_models
    retrain = Retrain.from_dict(run)
    clustering = run["clustering"]
    plays = load_sessions(database, person, clustering["gap_minutes"], clustering["include_skips"])
    moods = MoodModel.from_dict(clustering["moods"]) if clustering["moods"] else None
    plays["cluster"] = assign(moods, plays) if moods else -1
    reasons = {}
    if moods is None:
        reasons["mood_clusters"] = reasons["mood_share_by_week"] = clustering["reason"]
    document = build_dashboard(
        plays, moods, listening_predictions["next_hours"], retrain.models, drift_report,
        pd.Timestamp.now(tz="UTC"), timezone=run["timezone"],
        timezone_source=run["clustering"].get("timezone_source"),
        coverage={"plays": len(plays), "with_features": int(plays["has_features"].sum())},
        reasons=reasons, run={"retrain_id": run["retrain_id"], "trained_at": run["trained_at"]},
    )  # fmt: skip
    store = artifacts.get()
    folder = artifact_folder(person)
    json_uri = store.put_bytes(
        f"{folder}/dashboard.json", to_json(document).encode(), "application/json"
    )
    html_uri = store.put_bytes(f"{folder}/index.html", render_html(document).encode(), "text/html")
    plots = {
        f"plot_{name}": dg.MetadataValue.md(
            f"![{name}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
        )
        for name, svg in plot_svgs(document).items()
    }

    return dg.MaterializeResult(
        metadata={
            # first: two small plots the asset's overview shows without a click, and the page
            **glance_plots(document),
            "html": dg.MetadataValue.url(html_uri),
            "retrain_id": run["retrain_id"],
            "plays": document["summary"]["plays"],
            "sessions": document["summary"]["sessions"],
            "timezone": run["timezone"],
            "json": dg.MetadataValue.url(json_uri),
            "summary": summary(context, f"{html_uri} (times in {run['timezone']})"),
            # the dashboard's full plots (large: the UI shows them behind "[Show Markdown]")
            **plots,
        }
    )


def glance_plots(document: dict) -> dict[str, dg.MetadataValue]:
    """Plays by hour of day and the next 24 hours' session-start probability as tiny bar
    charts: markdown under the UI's 1,000-character limit, so they show inline."""
    from spotify_assets.lib.listening.sparklines import bars_markdown

    tz = document["timezone"]
    heat = document["listening_by_hour"]
    by_hour = [sum(row[h] for row in heat["plays"]) for h in range(len(heat["cols"]))]
    preds = document["next_24h"]
    start = f", from {pd.Timestamp(preds[0]['hour_start']).strftime('%a %H:%M')}" if preds else ""
    return {
        "plays_by_hour": dg.MetadataValue.md(
            bars_markdown(f"Plays by hour of day, 00–23 ({tz})", by_hour)
        ),
        "next_24h_session_start": dg.MetadataValue.md(
            bars_markdown(
                f"Session-start probability, next 24 hours{start} ({tz})",
                [p["probability"] for p in preds],
                color="steelblue",
            )
        ),
    }
