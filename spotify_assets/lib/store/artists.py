"""The `artist_profiles` table (migration 0018): what catalogs say about an artist."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import psycopg


@dataclass(frozen=True)
class ArtistProfile:
    """One artist as the catalogs know them (built by lib/catalog/artists.py)."""

    key: str  # names.normalize_artist of the primary artist
    name: str
    songs: int
    featured: int  # songs with measured audio features (the medians' sample)
    genres: tuple[str, ...] = ()  # most shared first
    genre_shares: tuple[float, ...] = ()  # share of the artist's songs with each genre
    features: dict[str, float] = field(default_factory=dict)  # feature → median
    source: str = ""


COLUMNS = ["artist_key", "name", "songs", "featured", "genres", "genre_shares", "features",
           "source"]  # fmt: skip


class ArtistRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def replace(
        self, profiles: Sequence[ArtistProfile], within: Sequence[str] | None = None
    ) -> tuple[int, int]:
        """Make the table exactly `profiles`, in the caller's transaction: upsert each (rows
        that did not change are not rewritten), delete artists no catalog has any more;
        `within`: only the rows of these artist keys are replaced, the others are left as they
        are. (written, deleted)."""
        keys = [p.key for p in profiles]
        written = 0
        with self.conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE artist_load (LIKE artist_profiles INCLUDING DEFAULTS) ON COMMIT DROP")
            with cur.copy(f"COPY artist_load ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for p in profiles:
                    copy.write_row((p.key, p.name, p.songs, p.featured, list(p.genres),
                                    list(p.genre_shares), json.dumps(p.features), p.source))  # fmt: skip
            cur.execute(
                f"""INSERT INTO artist_profiles ({", ".join(COLUMNS)})
                SELECT {", ".join(COLUMNS)} FROM artist_load
                ON CONFLICT (artist_key) DO UPDATE SET
                    {", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])}, updated_at = now()
                WHERE ({", ".join(f"artist_profiles.{c}" for c in COLUMNS[1:])})
                    IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in COLUMNS[1:])})"""
            )
            written = cur.rowcount
            cur.execute("DROP TABLE artist_load")
            cur.execute(
                """DELETE FROM artist_profiles WHERE NOT (artist_key = ANY(%(keys)s))
                   AND (%(within)s::text[] IS NULL OR artist_key = ANY(%(within)s))""",
                {"keys": keys, "within": None if within is None else list(within)},
            )
            deleted = cur.rowcount
        return written, deleted

    def for_keys(self, keys: Sequence[str]) -> dict[str, ArtistProfile]:
        rows = self.conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM artist_profiles WHERE artist_key = ANY(%s)",
            (sorted(set(keys)),),
        ).fetchall()
        out = {}
        for key, name, songs, featured, genres, shares, features, source in rows:
            shares = tuple(float(s) for s in shares)
            out[key] = ArtistProfile(key, name, songs, featured, tuple(genres), shares,
                                     dict(features), source)  # fmt: skip
        return out

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM artist_profiles").fetchone()[0]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            self.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM artist_profiles").fetchall(),
            columns=COLUMNS,
        )
