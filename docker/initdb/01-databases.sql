-- Runs once, when the postgres service starts on an empty data volume, connected to
-- $POSTGRES_DB (the app's database, `spotify_assets` by default) as $POSTGRES_USER.
-- pgvector in the app's database (the first migration would create it too, given the rights).
CREATE EXTENSION IF NOT EXISTS vector;
-- The Dagster instance's runs, event logs and schedules live apart from the app's data.
CREATE DATABASE dagster;
