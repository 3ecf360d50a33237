"""Hostile search inputs through the real search service, on a small embedded catalog.

Every case ends in a one-line SearchInputError or a well-formed result; an empty result says
why in one line; no other exception escapes. The matrix is data (search_cases.py).
"""

import math
import re

import numpy as np
import pandas as pd
import psycopg
import pytest

from spotify_assets.lib.analyses.update import update_track_analyses
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog import load_catalog
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.models.embedder import load_embedder
from spotify_assets.lib.sample import generate_tracks
from spotify_assets.lib.search import Filter, SearchInputError, range_notes
from spotify_assets.lib.search.explain import count_matching, explain_empty
from spotify_assets.lib.search.filters import matching_ids
from spotify_assets.lib.search.service import check_request, format_result, search
from spotify_assets.lib.store import Database
from spotify_assets.lib.store.embeddings import FILTER_COLUMNS, EmbeddingRepository
from spotify_assets.lib.store.server import with_database
from spotify_assets_tests.hostile.search_cases import HOSTILE_CASES

BUNDLE = load_bundles().default_bundle
N = 120
quiet = lambda _: None  # noqa: E731


@pytest.fixture(scope="module")
def embedder():
    return load_embedder(BUNDLE.embedding, "cpu", "fp32")


def _load(db: Database, directory, embed=None) -> None:
    path = directory / "tracks.csv"
    generate_tracks(n_tracks=N, seed=8).to_csv(path, index=False)
    load_catalog(db, path)
    if embed is None:
        return
    update_track_analyses(db, progress=quiet)
    update_track_embeddings(db, BUNDLE, embed, progress=quiet)
    with db.connect() as conn:
        repo = EmbeddingRepository(conn)
        repo.sync_filter_columns(BUNDLE.hash)
        repo.ensure_index(BUNDLE.hash, BUNDLE.embedding.dims)


@pytest.fixture(scope="module")
def catalog(server_url, tmp_path_factory, embedder):
    """120 generated tracks, described and embedded with the default (MiniLM) bundle."""
    name = "t_search_hostile"
    admin = with_database(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(with_database(server_url, name))
    _load(db, tmp_path_factory.mktemp("hostile"), embedder)
    with db.connect() as conn:
        columns = ", ".join(f'"{c}"' for c in FILTER_COLUMNS)
        rows = conn.execute(f"SELECT track_id, {columns} FROM tracks").fetchall()
    tracks = pd.DataFrame(rows, columns=["track_id", *FILTER_COLUMNS])
    yield db, tracks
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_line(text: str) -> str:
    assert text and text.strip() == text and "\n" not in text and "\r" not in text, repr(text)
    assert "Traceback" not in text
    text.encode("utf-8")  # printable as is: no lone surrogates
    return text


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=[c.name for c in HOSTILE_CASES])
def test_hostile_input_gets_one_line_error_or_well_formed_result(catalog, embedder, case):
    db, tracks = catalog
    try:
        result = search(db, BUNDLE, embedder, case.query, limit=case.limit, where=case.where)
    except SearchInputError as exc:
        message = one_line(str(exc))
        assert case.expect == "error", f"refused: {message}"
        assert re.search(case.message, message), message
        return
    finally:
        with db.connect() as conn:  # injection attempts changed nothing
            assert conn.execute("SELECT count(*) FROM tracks").fetchone()[0] == N
            assert count_matching(conn, BUNDLE.hash, []) == N
    assert case.expect != "error", f"accepted, expected an error matching {case.message!r}"
    for note in result.notes:
        one_line(note)
    shown = format_result(result)
    shown.encode("utf-8")
    assert len(re.findall(r"^ *\d+\. ", shown, re.M)) == len(result.hits)  # one line a hit
    if case.expect == "empty":
        assert result.hits == []
        why = one_line(result.why_empty)
        assert re.search(case.message, why), why
        assert "no vectors" not in why and "embedded" not in why
        return
    limit = int(str(case.limit).strip())
    allowed = matching_ids(tracks, result.filters)
    assert 0 < len(result.hits) <= min(limit, len(allowed))
    if len(result.hits) < limit:  # only versions of one song merged may leave fewer
        assert one_line(result.why_fewer)
        assert len(result.hits) == len(allowed) or "merged" in result.why_fewer
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    assert len({h.track_id for h in result.hits}) == len(result.hits)
    assert {h.track_id for h in result.hits} <= allowed
    assert result.why_empty is None
    if result.query:
        scores = [h.score for h in result.hits]
        assert all(-1.0001 <= s <= 1.0001 for s in scores) and scores == sorted(scores)[::-1]
    else:
        assert all(math.isnan(h.score) for h in result.hits)


def test_the_matrix_covers_the_trial(catalog):
    names = {c.name for c in HOSTILE_CASES}
    assert len(names) == len(HOSTILE_CASES) >= 30
    assert {c.expect for c in HOSTILE_CASES} == {"error", "empty", "hits"}


class _Exploding:
    precision = "fp32"

    def embed(self, texts, kind="document"):
        raise AssertionError("the model ran for a refused input")


@pytest.mark.parametrize(
    "case", [c for c in HOSTILE_CASES if c.expect == "error"], ids=lambda c: c.name
)
def test_refusals_come_before_any_sql_or_model(case):
    unreachable = Database("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=1")
    with pytest.raises(SearchInputError):
        search(unreachable, BUNDLE, _Exploding(), case.query, limit=case.limit, where=case.where)


def test_an_unembedded_bundle_is_named_as_the_cause(db, tmp_path, embedder):
    _load(db, tmp_path)  # tracks, no vectors
    result = search(db, BUNDLE, embedder, "calm piano")
    assert result.hits == []
    assert one_line(result.why_empty).startswith(f"bundle {BUNDLE.name} has no vectors")
    assert "spotify-assets demo" in result.why_empty
    result = search(db, BUNDLE, embedder, "", where="tempo>300")
    assert "has no vectors" in result.why_empty  # the bundle, not the filter, is the cause


def test_why_empty_names_the_filter_and_the_catalog_range(catalog, embedder):
    db, tracks = catalog
    result = search(db, BUNDLE, embedder, "fast songs", where="tempo>300")
    low, high = tracks.tempo.min(), tracks.tempo.max()
    assert result.why_empty == (
        f"no track has tempo > 300 (tempo in this catalog: {round(low, 3):g} to {round(high, 3):g})"
    )
    assert result.notes == ["tempo > 300 is outside the plausible range of tempo (0 to 260 BPM)"]
    assert [f.describe() for f in result.filters] == ["tempo > 300"]  # explicit beats "fast"


def test_why_empty_names_two_filters_that_exclude_each_other(catalog):
    db, tracks = catalog
    fast = Filter("tempo", ">", 140, source="fast", understood=True)
    slow = Filter("tempo", "<", 100, source="slow", understood=True)
    rock = Filter("genre", "=", "rock")
    with db.connect() as conn:
        why = explain_empty(conn, BUNDLE.hash, [rock, fast, slow], BUNDLE.name)
    n_fast = len(matching_ids(tracks, [fast]))
    n_slow = len(matching_ids(tracks, [slow]))
    assert why == (
        f"each filter alone matches tracks (tempo > 140 (from “fast”): {n_fast} tracks, "
        f"tempo < 100 (from “slow”): {n_slow} tracks), but tempo > 140 (from “fast”) and "
        "tempo < 100 (from “slow”) together match none"
    )


def test_why_empty_lists_the_genres_for_an_unknown_genre(catalog, embedder):
    db, tracks = catalog
    result = search(db, BUNDLE, embedder, "", where="genre='polka' and tempo>100")
    genres = sorted({g.lower() for g in tracks.genre})
    assert result.why_empty == (
        "no track has genre = 'polka' (genre values in this catalog: "
        f"{', '.join(genres[:8])}, … ({len(genres)} in all))"
    )


def test_several_filters_that_match_nothing_are_all_named(catalog, embedder):
    db, _ = catalog
    result = search(db, BUNDLE, embedder, "songs", where="tempo>300 and valence<-1")
    assert result.why_empty.startswith("no track has tempo > 300 (")
    assert "; no track has valence < -1 (" in result.why_empty
    assert len(result.notes) == 2


def test_empty_query_with_filters_lists_matches_by_popularity(catalog, embedder):
    db, tracks = catalog
    result = search(db, BUNDLE, _Exploding(), "  ", where="genre='rock'", limit="50")
    rock = tracks[tracks.genre.str.lower() == "rock"]
    assert result.plan.strategy == "filters only" and result.plan.filtered_rows == len(rock)
    assert {h.track_id for h in result.hits} == set(rock.track_id)
    popularity = [h.details["popularity"] for h in result.hits]
    assert popularity == sorted(popularity, reverse=True)
    lines = format_result(result).splitlines()
    assert lines[3] == f"fewer than 50: only {len(rock)} tracks pass every filter (genre = 'rock')"
    assert "popularity " in lines[4]


def test_query_is_normalised_and_the_removals_are_noted(catalog, embedder):
    db, _ = catalog
    result = search(db, BUNDLE, embedder, "\u202ecafe\u0301\x00\tpiano \udcff ", limit=1)
    assert result.query == "café piano"
    assert result.notes == [
        "removed 1 invalid UTF-8 byte from the query",
        "removed 2 control characters from the query",
    ]


def test_range_rules_are_warnings_not_errors():
    def notes(where):
        return range_notes(check_request("x", where).filters)

    assert notes("tempo>100 and valence<0.3 and key=-1 and mode=1 and loudness>-60") == []
    assert notes("tempo>260.5") == [
        "tempo > 260.5 is outside the plausible range of tempo (0 to 260 BPM)"
    ]
    assert notes("energy<-0.1")[0].endswith("plausible range of energy (0 to 1)")
    assert notes("key=1.5") == ["key is a whole number, so key = 1.5 matches nothing"]
    assert "release_year (1900 to" in notes("release_year>=1800")[0]
    assert notes("duration_ms>9e6")[0].endswith("(0 to 7200000 ms)")


@pytest.mark.parametrize(
    ("column", "op", "value", "message"),
    [
        ("tempo", ">", "abc", "tempo is a number; 'abc' is not"),
        ("tempo", ">", float("nan"), "tempo is a number; 'nan' is not a finite number"),
        ("tempo", ">", True, "tempo is a number; 'True' is not"),
        ("genre", "=", 5, "genre is text: write genre='5'"),
        ("genre", "=", "a\x00b", "holds a control character (U+0000)"),
        ("genre", "=", "x" * 201, "the maximum is 200"),
    ],
)
def test_filters_made_in_code_are_checked_too(column, op, value, message):
    with pytest.raises(SearchInputError) as error:
        Filter(column, op, value)
    assert message in str(error.value)


def test_numpy_numbers_become_plain_numbers():
    f = Filter("popularity", ">=", np.int64(70))
    assert type(f.value) is int and f.describe() == "popularity >= 70"
    assert type(Filter("tempo", ">", np.float32(1.5)).value) is float
