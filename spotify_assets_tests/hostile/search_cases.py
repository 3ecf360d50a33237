"""Hostile inputs for `search QUERY --where W --limit N`, as data: tests and benchmarks run
the same matrix.

Each case: (name, query, where, limit, expect, message). `expect` is "error" (refused with a
one-line message before any SQL), "empty" (runs, finds nothing, and says why) or "hits" (runs
and finds tracks). `message` is a regex the error or the why-empty line must contain.
"error" outcomes hold for any catalog; "empty" / "hits" ones were written for the generated
catalog (`generate_tracks`: 20 genres, tempo 60–190, years 1950–2023, popularity 0–100).
`limit` is passed as the CLI would (text), or as an int where the caller is code.
"""

from __future__ import annotations

from typing import NamedTuple


class HostileCase(NamedTuple):
    name: str
    query: str
    where: str | None
    limit: int | str
    expect: str  # error | empty | hits
    message: str = ""


NUMBER = "is a number"
PARSE = "cannot parse filter"
LIMIT = r"--limit must be a whole number from 1 to 500"
EMPTY_QUERY = "the query is empty"

C = HostileCase

# fmt: off
HOSTILE_CASES: list[HostileCase] = [
    # the six from the trial
    C("text for a number", "fast songs", "tempo='abc'", "10", "error", r"tempo is a number; 'abc' is not"),
    C("number for text", "songs", "genre=5", "10", "error", r"genre is text: write genre='5'"),
    C("limit past bigint", "songs", None, "10000000000000000000", "error", LIMIT),
    C("invalid UTF-8 only", "\udcff", None, "10", "error", r"empty after removing 1 invalid UTF-8 byte"),
    C("limit -1", "songs", None, "-1", "error", LIMIT),
    C("limit 0", "songs", None, "0", "error", LIMIT),
    C("impossible filter", "songs", "tempo>300", "10", "empty", r"no track has tempo > 300 \(tempo in this catalog: [\d.]+ to [\d.]+\)"),
    # the query text
    C("empty query", "", None, "10", "error", EMPTY_QUERY),
    C("whitespace only", "  \t\n  ", None, "10", "error", EMPTY_QUERY),
    C("control characters only", "\x00\x01\x1b", None, "10", "error", r"empty after removing 3 control characters"),
    C("empty query with filters lists matches", "", "genre='rock'", "5", "hits"),
    C("100 kB query", "calm piano " * 9_310, None, "10", "error", r"the query is [\d,]+ characters long; the maximum is 1,000"),
    C("1000 characters is allowed", "x" * 1_000, None, "3", "hits"),
    C("emoji", "🎸🔥 songs to dance to 💃🏽", None, "5", "hits"),
    C("RTL text", "موسيقى هادئة للدراسة", None, "5", "hits"),
    C("Hebrew with RTL override", "\u202eשיר שקט\u202c", None, "5", "hits"),
    C("NUL byte", "calm\x00piano", None, "5", "hits"),
    C("terminal escapes", "\x1b[31mcalm\x1b[0m piano\x07", None, "5", "hits"),
    C("invalid UTF-8 among words", "caf\udce9 music", None, "5", "hits"),
    C("decomposed accents (NFC)", "cafe\u0301 acoustic", None, "5", "hits"),
    C("SQL in the query", "'; DROP TABLE tracks; --", None, "5", "hits"),
    C("punctuation only", "?!...", None, "5", "hits"),
    # --where
    C("SQL injection in a value", "songs", "genre='x''; DROP TABLE tracks; --'", "10", "empty", r"no track has genre = 'x''; DROP TABLE tracks; --'"),
    C("SQL injection after a value", "songs", "tempo>1; DROP TABLE tracks", "10", "error", PARSE),
    C("SQL injection in a column", "songs", "tempo;DROP TABLE tracks>1", "10", "error", PARSE),
    C("quoted column", "songs", '"tempo">1', "10", "error", r"cannot filter on"),
    C("subquery", "songs", "tempo>(select 1)", "10", "error", PARSE),
    C("unknown column", "songs", "name='x'", "10", "error", r"cannot filter on 'name'; filterable: "),
    C("unknown operator", "songs", "tempo ~ 3", "10", "error", r"unknown operator '~'"),
    C("tempo>>1", "songs", "tempo>>1", "10", "error", r"unknown operator '>>'"),
    C("or 1=1", "songs", "tempo>1 or 1=1", "10", "error", r"only `and` joins filters"),
    C("dangling and", "songs", "tempo>1 and", "10", "error", r"empty filter around `and`"),
    C("missing value", "songs", "tempo>", "10", "error", r"tempo > needs a value"),
    C("missing column", "songs", "=5", "10", "error", PARSE),
    C("unbalanced quote", "songs", "genre='rock", "10", "error", r"unbalanced quote"),
    C("quoted number", "songs", "tempo='120'", "10", "error", r"tempo is a number: write tempo=120"),
    C("bare word for text", "songs", "genre=rock", "10", "error", r"genre is text: write genre='rock'"),
    C("text compared with >", "songs", "genre>'rock'", "10", "error", r"genre is text: it can only be compared with = or !="),
    C("NaN", "songs", "tempo>nan", "10", "error", r"'nan' is not a finite number"),
    C("infinity", "songs", "tempo<-inf", "10", "error", r"'-inf' is not a finite number"),
    C("overflowing number", "songs", "tempo>1e400", "10", "error", r"'1e400' is not a finite number"),
    C("decimal comma", "songs", "valence<0,5", "10", "error", r"write decimals with a point"),
    C("NUL in a value", "songs", "genre='ro\x00ck'", "10", "error", r"control character \(U\+0000\)"),
    C("invalid UTF-8 in a value", "songs", "genre='\udcff'", "10", "error", r"not valid UTF-8"),
    C("21 clauses", "songs", " and ".join(["tempo>1"] * 21), "10", "error", r"21 clauses; the maximum is 20"),
    C("3 kB of filters", "songs", "tempo>1 and " * 250 + "tempo>1", "10", "error", r"the maximum is 2,000"),
    C("duplicated clauses", "songs", "tempo>100 and tempo>100 and TEMPO > 100", "5", "hits"),
    C("contradictory clauses", "songs", "tempo>150 and tempo<100", "10", "empty", r"each filter alone matches tracks \(.*\), but tempo > 150 and tempo < 100 together match none"),
    C("and inside quotes", "songs", "genre='rock and roll'", "10", "empty", r"no track has genre = 'rock and roll' \(genre values in this catalog: .*\)"),
    C("case-insensitive text", "songs", "GENRE=='ROCK'", "5", "hits"),
    C("unit feature out of range", "songs", "valence>1.5", "10", "empty", r"no track has valence > 1.5"),
    C("mode 2", "songs", "mode=2", "10", "empty", r"no track has mode = 2 \(mode in this catalog: 0 to 1\)"),
    C("vacuous range", "songs", "popularity>=-1e30", "5", "hits"),
    C("negative and scientific numbers", "songs", "loudness>-30 and duration_ms>1e4", "5", "hits"),
    C("understood filter leaves nothing", "songs from the 1920s", None, "10", "empty", r"no track has release_year <= 1929 \(release_year in this catalog: \d+ to \d+\); that filter was understood from “1920s”"),
    # --limit
    C("limit 1.5", "songs", None, "1.5", "error", LIMIT),
    C("limit in words", "songs", None, "ten", "error", LIMIT),
    C("limit hex", "songs", None, "0x10", "error", LIMIT),
    C("limit 501", "songs", None, "501", "error", LIMIT),
    C("limit 5,000 digits", "songs", None, "9" * 5_000, "error", LIMIT),
    C("limit 500", "songs", None, "500", "hits"),
    C("limit with blanks and sign", "songs", None, " +3 ", "hits"),
]
# fmt: on
