"""The listening stage, one `person` partition per person, a module per step with its jobs,
schedules and sensors beside its assets:

history      listening_history; import_history job, history_drop_sensor
features     play_features
moods        mood_clusters
models       listening_models (one check per registered model); full_retrain job + schedule
predictions  listening_predictions; update job + schedule
drift        drift_report
dashboard    listening_dashboard
common       what they share (partitions, freshness, summary line, the person's plays)

listening_history → play_features → mood_clusters → listening_models → listening_predictions
                                  └→ drift_report ─────────────────────┴→ listening_dashboard

Documents (the clustering, the retrain summary, predictions, drift) pass between assets through
the `documents` IO manager, so each dependency is an input, not an artifact key.
"""
