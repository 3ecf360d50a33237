-- One row per trained listening model: what it learned from, its test metrics next to its
-- baselines (with bootstrap CIs) and where the model file is. The metrics history.
CREATE TABLE model_runs (
    id           bigserial PRIMARY KEY,
    user_id      text NOT NULL,
    model        text NOT NULL CHECK (model IN ('mood', 'session')),
    trained_at   timestamptz NOT NULL DEFAULT now(),
    data_window  jsonb NOT NULL,
    metrics      jsonb NOT NULL,
    beats_baseline boolean NOT NULL,
    artifact     text NOT NULL
);
CREATE INDEX model_runs_user_model_idx ON model_runs (user_id, model, trained_at);
