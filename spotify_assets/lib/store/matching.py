"""Tables of the matching stage: candidates, track_emotions, playlist_profiles, match_*."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.store.bulk import UpsertCounts, copy_upsert
from spotify_assets.lib.store.embeddings import to_array
from spotify_assets.lib.store.playlists import owned_by


class CandidateRepository:
    """The songs a person wants sorted, per list (liked | recent | file)."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def replace(self, person: str, list_name: str, track_ids: Sequence[str]) -> int:
        """The list becomes exactly `track_ids` (in order, first occurrence kept)."""
        ids = list(dict.fromkeys(track_ids))
        self.conn.execute(
            "DELETE FROM candidates WHERE person = %s AND list = %s", (person, list_name)
        )
        frame = pd.DataFrame(
            {"person": person, "list": list_name, "track_id": ids, "position": range(len(ids))}
        )
        return copy_upsert(
            self.conn, "candidates", frame, key=["person", "list", "track_id"], touch=None
        ).written

    def track_ids(self, person: str, list_name: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT track_id FROM candidates WHERE person = %s AND list = %s ORDER BY position",
            (person, list_name),
        )
        return [r[0] for r in rows]

    def lists(self, person: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT list, count(*) FROM candidates WHERE person = %s GROUP BY list", (person,)
        )
        return dict(rows.fetchall())

    def count(self) -> int:
        """Rows in `candidates`, every person and list."""
        return self.conn.execute("SELECT count(*) FROM candidates").fetchone()[0]


class EmotionRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def content_hashes(self, bundle_hash: str) -> dict[str, str]:
        return dict(
            self.conn.execute(
                "SELECT track_id, content_hash FROM track_emotions WHERE bundle_hash = %s",
                (bundle_hash,),
            )
        )

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        return copy_upsert(
            self.conn,
            "track_emotions",
            frame,
            key=["bundle_hash", "track_id"],
            compare=["content_hash", "backend"],
            touch="created_at",
        )

    def summary(self, bundle_hash: str) -> dict[str, int]:
        rows = self.conn.execute(
            """SELECT top_bucket, count(*) FROM track_emotions WHERE bundle_hash = %s
               GROUP BY 1 ORDER BY 2 DESC""",
            (bundle_hash,),
        )
        return dict(rows.fetchall())

    def count(self, bundle_hash: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM track_emotions WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]


PROFILE_COLUMNS = [
    "bundle_hash", "playlist_id", "profile_hash", "member_count", "fallback", "centroid",
    "name_embedding", "name_text", "audio_mean", "audio_std", "genre_dist", "subgenre_dist",
    "emotion_dist", "playlist_type", "type_source", "profile_text",
]  # fmt: skip


class ProfileRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def hashes(self, bundle_hash: str) -> dict[str, str]:
        return dict(
            self.conn.execute(
                "SELECT playlist_id, profile_hash FROM playlist_profiles WHERE bundle_hash = %s",
                (bundle_hash,),
            )
        )

    def name_vectors(self, bundle_hash: str) -> dict[str, tuple[str, np.ndarray]]:
        """playlist_id → (name text, its embedding): reused while the text is unchanged."""
        rows = self.conn.execute(
            """SELECT playlist_id, name_text, name_embedding FROM playlist_profiles
               WHERE bundle_hash = %s""",
            (bundle_hash,),
        )
        return {pid: (text, to_array(vec)) for pid, text, vec in rows}

    def upsert(self, frame: pd.DataFrame) -> UpsertCounts:
        rows = frame[PROFILE_COLUMNS].copy()
        for column in ("genre_dist", "subgenre_dist"):
            rows[column] = rows[column].map(json.dumps)
        return copy_upsert(
            self.conn,
            "playlist_profiles",
            rows,
            key=["bundle_hash", "playlist_id"],
            compare=["profile_hash"],
        )

    def count(self, bundle_hash: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM playlist_profiles WHERE bundle_hash = %s", (bundle_hash,)
        ).fetchone()[0]

    def frame(self, bundle_hash: str, person: str | None = None) -> pd.DataFrame:
        whose, args = owned_by(person)
        query = sql.SQL(
            """SELECT pp.playlist_id, p.name, pp.profile_hash, pp.member_count, pp.fallback,
                      pp.playlist_type, pp.type_source, pp.profile_text
               FROM playlist_profiles pp JOIN playlists p USING (playlist_id)
               WHERE pp.bundle_hash = %s AND {} ORDER BY p.name, pp.playlist_id"""
        ).format(whose)
        with self.conn.cursor() as cur:
            cur.execute(query, (bundle_hash, *args))
            return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


class MatchRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def context(self, context_hash: str) -> dict | None:
        row = self.conn.execute(
            "SELECT stats FROM match_contexts WHERE context_hash = %s", (context_hash,)
        ).fetchone()
        if row is None:
            return None
        self.conn.execute(
            "UPDATE match_contexts SET last_used_at = now() WHERE context_hash = %s",
            (context_hash,),
        )
        return row[0]

    def save(self, context: dict, results: pd.DataFrame, stats: dict) -> int:
        """The context and its results in the caller's transaction; idempotent."""
        self.conn.execute(
            """INSERT INTO match_contexts (context_hash, person, bundle_hash, algo_version,
                   config_hash, playlist_set_hash, candidate_set_hash, candidates_list, stats)
               VALUES (%(context_hash)s, %(person)s, %(bundle_hash)s, %(algo_version)s,
                   %(config_hash)s, %(playlist_set_hash)s, %(candidate_set_hash)s,
                   %(candidates_list)s, %(stats)s)
               ON CONFLICT (context_hash) DO UPDATE SET stats = EXCLUDED.stats,
                   last_used_at = now()""",
            {**context, "stats": json.dumps(stats, default=float)},
        )
        self.conn.execute(
            "DELETE FROM match_results WHERE context_hash = %s", (context["context_hash"],)
        )
        if results.empty:
            return 0
        rows = results.assign(
            context_hash=context["context_hash"],
            contributions=results["contributions"].map(json.dumps),
        )
        return copy_upsert(
            self.conn,
            "match_results",
            rows,
            key=["context_hash", "track_id", "playlist_id"],
            touch=None,
        ).written

    def latest_context(
        self, person: str, bundle_hash: str, list_name: str | None = None
    ) -> str | None:
        row = self.conn.execute(
            """SELECT context_hash FROM match_contexts
               WHERE person = %s AND bundle_hash = %s AND (%s::text IS NULL OR candidates_list = %s)
               ORDER BY last_used_at DESC LIMIT 1""",
            (person, bundle_hash, list_name, list_name),
        ).fetchone()
        return row[0] if row else None

    def contexts_of(self, person: str) -> list[tuple[str, str]]:
        """(bundle hash, context hash) of every cached matching run of `person`."""
        rows = self.conn.execute(
            "SELECT bundle_hash, context_hash FROM match_contexts WHERE person = %s", (person,)
        )
        return [(b, c) for b, c in rows]

    def count(self, context_hash: str) -> int:
        """Rows in `match_results` of one context (one run's suggestions)."""
        return self.conn.execute(
            "SELECT count(*) FROM match_results WHERE context_hash = %s", (context_hash,)
        ).fetchone()[0]

    def results(self, context_hash: str) -> pd.DataFrame:
        query = """SELECT r.track_id, t.name AS track_name, t.artists, r.playlist_id,
                          p.name AS playlist_name, r.song_rank, r.playlist_rank, r.score,
                          r.confidence, r.fits, r.stage1, r.ranker, r.rerank,
                          r.contributions, r.reasons
                   FROM match_results r JOIN tracks t USING (track_id)
                   JOIN playlists p USING (playlist_id)
                   WHERE r.context_hash = %s
                   ORDER BY r.track_id, r.song_rank NULLS LAST, r.score DESC"""
        with self.conn.cursor() as cur:
            cur.execute(query, (context_hash,))
            return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
