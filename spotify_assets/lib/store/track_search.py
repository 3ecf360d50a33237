"""`track_search` (each track's name words) and `search_words` (every word once): the SQL of
search's lexical leg. The words are made in Python (lib/search/lexical.py) so the index and
the query fold names one way; what is stale is found here by a hash of the name fields."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from spotify_assets.lib.store.bulk import copy_upsert
from spotify_assets.lib.store.embeddings import vector_cast

# the name fields a row was built from, in SQL: a row whose hash differs is rebuilt
_SOURCE_MD5 = sql.SQL(
    "md5(t.name || chr(31) || array_to_string(t.artists, chr(30)) || chr(31) "
    "|| coalesce(t.album_name, ''))"
)
FIELD_POINTS = (3, 2, 1)  # a query word in the title counts most, then artists, then album


class TrackSearchRepository:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def stale(
        self, batch: int = 50_000, track_ids: Sequence[str] | None = None
    ) -> Iterator[pd.DataFrame]:
        """Tracks (of `track_ids`, when given) without a row or whose name fields changed
        since: (track_id, name, artists, album_name, source_md5), in batches."""
        statement = sql.SQL(
            """SELECT t.track_id, t.name, t.artists, t.album_name, {md5} AS source_md5
               FROM tracks t LEFT JOIN track_search s USING (track_id)
               WHERE (s.track_id IS NULL OR s.source_md5 <> {md5})
                 AND (%(ids)s::text[] IS NULL OR t.track_id = ANY(%(ids)s))"""
        ).format(md5=_SOURCE_MD5)
        ids = None if track_ids is None else list(track_ids)
        with self.conn.cursor(name="track_search_stale") as cur:
            cur.itersize = batch
            cur.execute(statement, {"ids": ids})
            while rows := cur.fetchmany(batch):
                yield pd.DataFrame(
                    rows, columns=["track_id", "name", "artists", "album_name", "source_md5"]
                )

    def upsert(self, frame: pd.DataFrame) -> int:
        """Rows of (track_id, name_words, artist_words, album_words, all_words, source_md5);
        their words join `search_words`. Returns the rows written."""
        if frame.empty:
            return 0
        counts = copy_upsert(
            self.conn, "track_search", frame, key=["track_id"], touch=None, of_tracks=True
        )
        words = sorted({w for row in frame["all_words"] for w in row})
        self.conn.execute(
            "INSERT INTO search_words (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
            (words,),
        )
        return counts.written

    def known(self, words: Sequence[str]) -> set[str]:
        """Which of `words` some track's name has (or had)."""
        if not words:
            return set()
        rows = self.conn.execute(
            "SELECT word FROM search_words WHERE word = ANY(%s)", (list(words),)
        ).fetchall()
        return {r[0] for r in rows}

    def word_rows(self) -> dict[str, float]:
        """word → the rows estimated to hold it, for the words ANALYZE found most common in
        names (pg_stats' most common elements of `all_words`, up to 10 × the statistics
        target of them, × the table's rows); empty before the table was analysed."""
        row = self.conn.execute(
            """SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples
               FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename AND c.relkind = 'r'
               JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
               WHERE s.schemaname = current_schema() AND s.tablename = 'track_search'
                 AND s.attname = 'all_words'"""
        ).fetchone()
        if row is None or row[0] is None or row[1] is None:
            return {}
        words, freqs, tuples = row
        return {w: float(f) * max(float(tuples), 0.0) for w, f in zip(words, freqs, strict=False)}

    def matches(
        self,
        bundle_hash: str,
        groups: list[list[str]],
        where: sql.Composable,
        params: list,
        limit: int,
        field: str = "all_words",
        common: frozenset[str] = frozenset(),
        near: np.ndarray | None = None,
    ) -> list[tuple]:
        """(track_id, query words matched, points[, distance]) of the bundle's tracks passing the filters
        whose `field` holds a word of some group (a group: a query word and its corrections),
        most points first (FIELD_POINTS per field a group is found in), then popularity.
        `field` artist_words: only the tracks whose artists hold every group.

        `common`: words so frequent in names that reading every track holding one costs most
        of a search ("remix", "el", "love": thousands of rows each). When a group has no such
        word, only the tracks holding such a group's word are read (a GIN lookup of a few
        rows) and scored on every group; a track whose only matches are common words is then
        no name match (its coverage would be a small fraction of the query). With every group
        common (two or more), a track must hold two of them: one common word of several is
        chance ("dreamy late night drive" read the 27K tracks holding any of its words, 370 ms
        at 940K tracks; the pairs are intersected in the index). Exact for artist_words (every group is required there,
        so a track without the rare groups cannot qualify).

        `near`: a query vector; each row then ends with its cosine distance to it, computed on
        the vector row the join reads anyway (reading an artist's 2,000 vectors once more to
        rank them cost 20-30 ms at 940K tracks)."""
        if not groups:
            return []
        flat = [w for g in groups for w in g]
        driving = [g for g in groups if not common.intersection(g)]
        holds = sql.SQL("s.{} && %s::text[]").format(sql.Identifier(field))
        if driving or len(groups) < 2 or field != "all_words":
            read = holds
            read_params: list = [[w for g in driving or groups for w in g]]
        else:
            pairs = list(itertools.combinations(groups, 2))
            read = sql.SQL("({})").format(
                sql.SQL(" OR ").join(sql.SQL("({0} AND {0})").format(holds) for _ in pairs)
            )
            read_params = [list(g) for pair in pairs for g in pair]

        def found(column: str) -> tuple[sql.Composable, list]:
            """The groups with a word in `column`, counted per row (no join over the words:
            grouping every matching row by track cost most of a name search)."""
            terms = sql.SQL(" + ").join(
                sql.SQL("(s.{} && %s::text[])::int").format(sql.Identifier(column))
                for _ in groups
            )
            return sql.SQL("({})").format(terms), [list(g) for g in groups]

        matched, matched_params = found("all_words")
        points, points_params = [], []
        for weight, column in zip(FIELD_POINTS, ("name_words", "artist_words", "album_words"),
                                  strict=True):  # fmt: skip
            counted, values = found(column)
            points.append(sql.SQL("{} * {}").format(sql.Literal(weight), counted))
            points_params += values
        need, need_params = sql.SQL("TRUE"), []
        if field == "artist_words":
            counted, need_params = found("artist_words")
            need = sql.SQL("{} = %s").format(counted)
            need_params = [*need_params, len(groups)]
        statement = sql.SQL(
            """SELECT s.track_id, {matched}, {points}{distance}
               FROM track_search s
               JOIN track_embeddings e ON e.track_id = s.track_id AND e.bundle_hash = %s
               WHERE {read} AND {where} AND {need}
               ORDER BY 3 DESC, 2 DESC, s.name_words <@ %s::text[] DESC,
                        e.popularity DESC NULLS LAST, s.track_id
               LIMIT %s"""
        ).format(
            matched=matched,
            points=sql.SQL(" + ").join(points),
            read=read,
            where=where,
            need=need,
            distance=sql.SQL("")
            if near is None
            else sql.SQL(", (e.embedding::{0}) <=> %s::{0}").format(vector_cast(len(near))),
        )
        args = [*matched_params, *points_params, *([] if near is None else [near]), bundle_hash,
                *read_params, *params, *need_params]  # fmt: skip
        args += [flat, limit]  # a title whose every word was asked for ranks first among equals
        if near is not None:
            return [(r[0], int(r[1]), int(r[2]), float(r[3]))
                    for r in self.conn.execute(statement, args)]  # fmt: skip
        return [(r[0], int(r[1]), int(r[2])) for r in self.conn.execute(statement, args)]

    def exact(
        self,
        bundle_hash: str,
        words: Sequence[str],
        where: sql.Composable,
        params: list,
        limit: int,
        kind: str,
        allowed: Sequence[str] = (),
    ) -> list[str]:
        """The bundle's tracks passing the filters that `words` name exactly, most popular
        first: kind "title", a title (and its artists) holding every one of `words`, each
        title word among them or `allowed` (the query's small words: "Rich & Sad" is "rich
        and sad"); kind "artist", tracks whose artists' words are just these."""
        words = list(words)
        if kind == "title":
            match = sql.SQL(
                "s.all_words @> %s::text[] AND s.name_words <@ %s::text[] "
                "AND %s::text[] <@ (s.name_words || s.artist_words) "
                "AND cardinality(s.name_words) > 0"
            )
            match_params = [words, list(dict.fromkeys([*words, *allowed])), words]
        elif kind == "artist":
            match = sql.SQL("s.artist_words @> %s::text[] AND s.artist_words <@ %s::text[]")
            match_params = [words, words]
        else:
            raise ValueError(f"unknown kind {kind!r}")
        statement = sql.SQL(
            """SELECT s.track_id FROM track_search s
               JOIN track_embeddings e ON e.track_id = s.track_id AND e.bundle_hash = %s
               WHERE {match} AND {where}
               ORDER BY e.popularity DESC NULLS LAST, s.track_id LIMIT %s"""
        ).format(match=match, where=where)
        args = [bundle_hash, *match_params, *params, limit]
        return [r[0] for r in self.conn.execute(statement, args)]
