"""The listening tables: plays, play_joins, track_features, history cursors, and the
retrain records (`listening_retrains` + `model_runs`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.documents import to_jsonable
from spotify_assets.lib.features import AUDIO_FEATURES, MOOD_FEATURES_NEEDED
from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert

PLAY_KEY = ["person", "play_key", "played_at"]
PLAY_WRITE_COLUMNS = [
    "person", "play_key", "played_at", "ended_at", "ms_played", "track_id", "artist_name",
    "track_name", "album_name", "source", "reason_start", "reason_end", "shuffle",
    "skipped", "conn_country",
]  # fmt: skip
FEATURE_COLUMNS = ["track_key", *AUDIO_FEATURES, "source"]
_HAS_FEATURES = " AND ".join(f"{c} IS NOT NULL" for c in MOOD_FEATURES_NEEDED)


def _has(alias: str) -> str:
    return " AND ".join(f"{alias}.{c} IS NOT NULL" for c in MOOD_FEATURES_NEEDED)



class PlayRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        """Insert new plays; a play already stored (same user, key and start) is left alone."""
        rows = _write_ready(frame).drop_duplicates(PLAY_KEY)
        return copy_upsert(self.conn, "plays", rows, key=PLAY_KEY, update=False, touch=None)

    def count(self, person: str | None = None) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM plays WHERE %(u)s::text IS NULL OR person = %(u)s",
            {"u": person},
        ).fetchone()[0]

    def countries(self, person: str) -> dict[str, int]:
        """Plays per connection country, most frequent first."""
        rows = self.conn.execute(
            """SELECT conn_country, count(*) FROM plays
               WHERE person = %s AND conn_country IS NOT NULL
               GROUP BY 1 ORDER BY 2 DESC, 1""",
            (person,),
        ).fetchall()
        return {country: n for country, n in rows}

    def distinct_tracks(self, person: str, unjoined_only: bool = False) -> pd.DataFrame:
        """One row per play key of the person, with its play count: what the join needs
        (`unjoined_only`: keys without a join on record)."""
        rows = self.conn.execute(
            """SELECT play_key, max(track_id), max(artist_name), max(track_name),
                      max(album_name), count(*)
               FROM plays p WHERE person = %s AND (NOT %s OR NOT EXISTS (
                   SELECT FROM play_joins j WHERE j.play_key = p.play_key))
               GROUP BY play_key ORDER BY play_key""",
            (person, unjoined_only),
        ).fetchall()
        return pd.DataFrame(
            rows,
            columns=["play_key", "track_id", "artist_name", "track_name", "album_name", "plays"],
        )

    def people_with_unjoined(self) -> list[str]:
        """People with plays whose key has no join on record."""
        rows = self.conn.execute(
            """SELECT DISTINCT person FROM plays p
               WHERE NOT EXISTS (SELECT FROM play_joins j WHERE j.play_key = p.play_key)
               ORDER BY person"""
        )
        return [r[0] for r in rows]

    def load(self, person: str) -> pd.DataFrame:
        """Every play of `person` in time order, with the audio features of what was played.

        Features come from the catalog track the play joined to, else from `track_features`
        (by the play key: an export's feature columns, ReccoBeats); NaN when neither knows it,
        which is normal for most real plays. `feature_source`: catalog | imported | None.
        """
        features = sql.SQL(", ").join(
            sql.SQL("coalesce(t.{0}, f.{0}) AS {0}").format(sql.Identifier(c))
            for c in AUDIO_FEATURES
        )
        query = sql.SQL(
            """SELECT p.person, p.play_key, p.played_at, p.ended_at, p.ms_played, p.track_id,
                      p.artist_name, p.track_name, p.skipped, p.source, p.conn_country,
                      j.catalog_track_id, coalesce(j.join_method, 'none') AS join_method,
                      CASE WHEN {catalog_has} THEN 'catalog'
                           WHEN {imported_has} THEN 'imported' END AS feature_source,
                      {features}
               FROM plays p
               LEFT JOIN play_joins j ON j.play_key = p.play_key
               LEFT JOIN tracks t ON t.track_id = j.catalog_track_id
               LEFT JOIN track_features f ON f.track_key = p.play_key
               WHERE p.person = %s
               ORDER BY p.played_at, p.play_key"""
        ).format(features=features, catalog_has=sql.SQL(_has("t")),
                 imported_has=sql.SQL(_has("f")))  # fmt: skip
        with self.conn.cursor() as cur:
            cur.execute(query, (person,))
            frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
        for column in ("played_at", "ended_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        for column in AUDIO_FEATURES:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        frame["has_features"] = frame[list(MOOD_FEATURES_NEEDED)].notna().all(axis=1)
        return frame

    def cursor(self, person: str, source: str) -> str | None:
        row = self.conn.execute(
            "SELECT cursor FROM history_cursors WHERE person = %s AND source = %s",
            (person, source),
        ).fetchone()
        return row[0] if row else None

    def set_cursor(self, person: str, source: str, cursor: str) -> None:
        self.conn.execute(
            """INSERT INTO history_cursors (person, source, cursor) VALUES (%s, %s, %s)
               ON CONFLICT (person, source)
               DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()""",
            (person, source, cursor),
        )


class TrackFeatureRepository:
    """Audio features of played tracks that the catalog may lack (ReccoBeats, an export's
    feature columns), keyed by play key."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        """FEATURE_COLUMNS, one row per key; a changed value is rewritten."""
        rows = frame[FEATURE_COLUMNS].drop_duplicates("track_key", keep="last")
        return copy_upsert(self.conn, "track_features", rows, key=["track_key"])

    def known(self, keys: list[str]) -> set[str]:
        """Which of `keys` have the features a mood needs."""
        found = self.conn.execute(
            f"SELECT track_key FROM track_features WHERE track_key = ANY(%s) AND {_HAS_FEATURES}",
            (keys,),
        )
        return {row[0] for row in found}


class PlayJoinRepository:
    """Which catalog track each play key joined to, refreshed whenever the catalog changes."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def catalog(self) -> pd.DataFrame:
        """The stored tracks as `resolve_library` wants them (KNOWN_COLUMNS), with whether
        each has the features a mood needs."""
        rows = self.conn.execute(
            f"SELECT track_id, name, artists, popularity, ({_HAS_FEATURES}), source_format "
            "FROM tracks"
        ).fetchall()
        return pd.DataFrame(
            rows,
            columns=["track_id", "name", "artists", "popularity", "has_features", "source_format"],
        )

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        """play_key, catalog_track_id, join_method; only changed joins are rewritten."""
        rows = frame[["play_key", "catalog_track_id", "join_method"]]
        return copy_upsert(self.conn, "play_joins", rows, key=["play_key"], touch="joined_at")

    def with_features(self, play_keys: list[str]) -> set[str]:
        """Those of `play_keys` with the features a mood needs: from the track they joined,
        else from `track_features` (an export's own feature columns, ReccoBeats)."""
        rows = self.conn.execute(
            f"""SELECT k.play_key FROM unnest(%s::text[]) AS k(play_key)
                LEFT JOIN play_joins j ON j.play_key = k.play_key
                LEFT JOIN tracks t ON t.track_id = j.catalog_track_id
                LEFT JOIN track_features f ON f.track_key = k.play_key
                WHERE ({_has("t")}) OR ({_has("f")})""",
            (play_keys,),
        )
        return {r[0] for r in rows}

    def count(self, person: str) -> int:
        """Rows in `play_joins` for the play keys of one person's plays."""
        return self.conn.execute(
            """SELECT count(*) FROM play_joins
               WHERE play_key IN (SELECT play_key FROM plays WHERE person = %s)""",
            (person,),
        ).fetchone()[0]


@dataclass(frozen=True)
class RetrainRecord:
    retrain_id: str
    person: str
    trained_at: pd.Timestamp
    timezone: str
    boundaries: dict[str, Any]
    moods: dict[str, Any] | None
    mood_policy: str
    summary: dict[str, Any]


class RetrainRepository:
    """One row per retrain in `listening_retrains`, and one per model in `model_runs` (the
    metrics history)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def record(self, record: RetrainRecord, models: list[dict[str, Any]]) -> None:
        """The retrain and its model runs, once (a rerun of the same retrain id is a no-op)."""
        inserted = self.conn.execute(
            """INSERT INTO listening_retrains (retrain_id, person, trained_at, timezone,
                   boundaries, moods, mood_policy, summary)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (retrain_id) DO NOTHING RETURNING retrain_id""",
            (record.retrain_id, record.person, record.trained_at, record.timezone,
             _json(record.boundaries), None if record.moods is None else _json(record.moods),
             record.mood_policy, _json(record.summary)),
        ).fetchone()  # fmt: skip
        if inserted is None:
            return
        for model in models:
            self.conn.execute(
                """INSERT INTO model_runs (retrain_id, person, model, trained_at, data_window,
                       metrics, beats_baseline, artifact)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (record.retrain_id, record.person, model["model"], record.trained_at,
                 _json(model["data_window"]), _json(model["metrics"]),
                 bool(model["beats_baseline"]), model.get("artifact")),
            )  # fmt: skip

    def latest(self, person: str) -> RetrainRecord | None:
        row = self.conn.execute(
            """SELECT retrain_id, person, trained_at, timezone, boundaries, moods, mood_policy,
                      summary
               FROM listening_retrains WHERE person = %s
               ORDER BY trained_at DESC, retrain_id DESC LIMIT 1""",
            (person,),
        ).fetchone()
        return RetrainRecord(*row) if row else None

    def model_runs(self, retrain_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            """SELECT model, metrics, beats_baseline, artifact FROM model_runs
               WHERE retrain_id = %s ORDER BY model""",
            (retrain_id,),
        ).fetchall()
        return [
            {"model": m, "metrics": metrics, "beats_baseline": beats, "artifact": artifact}
            for m, metrics, beats, artifact in rows
        ]


def _json(value: Any) -> str:
    return json.dumps(to_jsonable(value))


def _write_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """PLAY_WRITE_COLUMNS with types COPY reads back: nullable ints and booleans, text."""
    rows = frame.reindex(columns=PLAY_WRITE_COLUMNS).copy()
    rows["ms_played"] = rows["ms_played"].astype("Int64")
    for column in ("shuffle", "skipped"):
        rows[column] = rows[column].astype("boolean")
    for column in ("played_at", "ended_at"):
        rows[column] = pd.to_datetime(rows[column], utc=True)
    return rows
