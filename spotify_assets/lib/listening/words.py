"""What a person reads for the identifiers a retrain writes: metrics, systems (a model or a
baseline), serving policies and drift metrics. One table for the dashboard, the check
sentences and the summary lines; an unknown identifier is shown as it is, so a new model names
its own in its `ModelResult.labels`."""

from __future__ import annotations

# Systems in display order; ECE reads before → after calibration → prior.
SYSTEM_ORDER = (
    "model", "majority", "same_as_previous", "last_known_mood", "always_negative",
    "hour_of_week_prior", "before_calibration", "after_calibration",
)  # fmt: skip
METRIC_NAMES = {
    "macro_f1": "macro-F1", "accuracy": "accuracy", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC",
    "ece": "ECE (lower is better)",
}  # fmt: skip
SYSTEM_NAMES = {
    "model": "model", "majority": "majority class", "same_as_previous": "same as previous",
    "last_known_mood": "last known mood", "always_negative": "always negative",
    "hour_of_week_prior": "hour-of-week prior", "before_calibration": "model before calibration",
    "after_calibration": "model after calibration",
}  # fmt: skip
WORDS = {
    "repeat_last_mood": "repeat the last mood",
    "successor_memory": "what followed this song before",
    "model": "the model",
    "session_duration_min": "session length (minutes)",
    "sessions_per_day": "sessions per day",
    "tracks_per_day": "songs per day",
    "start_hour_entropy": "how spread over the day sessions start",
    "valence": "valence (happiness)",
    "energy": "energy",
    "danceability": "danceability",
    "acousticness": "acousticness",
    "tempo_norm": "tempo",
}


def words_for(identifier: str) -> str:
    return WORDS.get(identifier, identifier)
