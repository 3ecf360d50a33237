"""Reading what a `materialize(...)` result recorded."""

import dagster as dg


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == asset
    ]
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict:
    """Check name → its AssetCheckEvaluation (passed, description, metadata)."""
    return {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def one_sentence(text: str | None) -> bool:
    """A non-empty single line that ends like a sentence and has no second sentence in it."""
    return bool(text) and "\n" not in text and text.endswith(".") and ". " not in text[:-1]


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        e.event_specific_data.check_name: e.event_specific_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


def write_catalog(directory, n_tracks: int, seed: int):
    """A generated catalog CSV in the sample layout; returns (path, frame)."""
    from spotify_assets.lib.sample import generate_tracks

    frame = generate_tracks(n_tracks=n_tracks, seed=seed)
    path = directory / "tracks.csv"
    frame.to_csv(path, index=False)
    return path, frame
