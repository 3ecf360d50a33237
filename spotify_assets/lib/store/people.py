"""The `people` table: one row per person, the registry every personal table references.

A person's row holds what they set (display name, time zone) and where their zone came from.
Deleting it deletes, through `ON DELETE CASCADE`, every row that is theirs alone (migration
0013); `lib/store/personal.py` then cleans the shared rows nobody uses any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from spotify_assets.lib.people import check_person

# A zone's source as `people.timezone_source` stores it; LocalZone.source says it in words.
ZONE_SOURCES = ("person", "country", "default")


@dataclass(frozen=True)
class Person:
    person: str
    display_name: str | None
    timezone: str | None
    timezone_source: str | None
    created_at: datetime


class PersonRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def ensure(self, person: str, timezone: str | None = None) -> None:
        """Register the person (a checked key); a given time zone is their own setting and
        replaces the stored one."""
        check_person(person)
        self.conn.execute(
            """INSERT INTO people (person, timezone, timezone_source)
               VALUES (%(p)s, %(tz)s, CASE WHEN %(tz)s::text IS NULL THEN NULL ELSE 'person' END)
               ON CONFLICT (person) DO UPDATE SET
                   timezone = coalesce(EXCLUDED.timezone, people.timezone),
                   timezone_source = coalesce(EXCLUDED.timezone_source, people.timezone_source),
                   updated_at = now()""",
            {"p": person, "tz": timezone or None},
        )

    def timezone(self, person: str) -> str | None:
        """The zone the person set (`--timezone`); None when they set none."""
        row = self.conn.execute(
            "SELECT timezone FROM people WHERE person = %s AND timezone_source = 'person'",
            (person,),
        ).fetchone()
        return row[0] if row else None

    def record_zone(self, person: str, zone: str, source: str) -> None:
        """Store the zone a step derived (`source` 'country' or 'default'); a zone the person
        set is never replaced by a derived one."""
        if source not in ZONE_SOURCES:
            raise ValueError(f"unknown time zone source {source!r}; use one of {ZONE_SOURCES}")
        self.conn.execute(
            """UPDATE people SET timezone = %s, timezone_source = %s, updated_at = now()
               WHERE person = %s AND timezone_source IS DISTINCT FROM 'person'
                 AND (timezone, timezone_source) IS DISTINCT FROM (%s, %s)""",
            (zone, source, person, zone, source),
        )

    def get(self, person: str) -> Person | None:
        row = self.conn.execute(
            """SELECT person, display_name, timezone, timezone_source, created_at
               FROM people WHERE person = %s""",
            (person,),
        ).fetchone()
        return Person(*row) if row else None

    def exists(self, person: str) -> bool:
        return self.get(person) is not None

    def all(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT person FROM people ORDER BY person")]

    def with_plays(self) -> list[str]:
        """People that have stored plays."""
        rows = self.conn.execute(
            """SELECT person FROM people l
               WHERE EXISTS (SELECT FROM plays p WHERE p.person = l.person) ORDER BY person"""
        )
        return [r[0] for r in rows]
