"""The asset ↔ CLI report contract (lib/reports.py): what an asset writes reads back as the same
dataclass, and a key it no longer writes fails loudly, naming the asset and the key."""

import pytest

from spotify_assets.lib.reports import (
    CatalogReport,
    HistoryReport,
    MatchesReport,
    MatchEvaluationReport,
    PlaylistsReport,
    ReportError,
    SearchEvaluationReport,
    StepLine,
    read_report,
)

CATALOG = CatalogReport(loaded=3, unchanged=1, duplicates=0, quarantined=2, coerced=0)
MATCHES = MatchesReport(
    context_hash="mx-1", context_hit=True, songs=4, playlists=2, suggestions=6, abstained=1,
    embeddings_computed=0, rerank_calls=0, ranker="trained", ranker_decision="",
)  # fmt: skip


def test_a_report_reads_back_as_it_was_written_with_its_line():
    metadata = {**CATALOG.to_metadata(), "source": "x.csv", "dagster/row_count": 4}
    report = read_report("catalog_tracks", metadata)
    assert report == CATALOG
    assert report.line() == "loaded 3, unchanged 1, duplicates 0, quarantined 2"
    assert read_report("match_results", MATCHES.to_metadata(), MatchesReport) == MATCHES


def test_a_renamed_key_fails_naming_the_asset_and_the_key_instead_of_printing_none():
    metadata = CATALOG.to_metadata()
    metadata["rows_loaded"] = metadata.pop("loaded")  # the asset renamed its key
    with pytest.raises(ReportError) as raised:
        read_report("catalog_tracks", metadata)
    message = str(raised.value)
    assert message.startswith("catalog_tracks did not report 'loaded'")
    assert "rows_loaded" in message and "CatalogReport" in message


def test_every_missing_key_is_named_and_a_value_of_none_is_not_missing():
    with pytest.raises(ReportError, match=r"'suite/hybrid_p@10', 'suite/semantic_p@10'"):
        read_report("search_evaluation", {})
    empty = SearchEvaluationReport.from_results({})  # no suite ran: None, but written
    assert read_report("search_evaluation", empty.to_metadata()) == empty


def test_search_evaluation_keeps_the_metadata_keys_and_says_the_playlist_queries_when_run():
    suite = {"hybrid_p@10": 0.91234, "semantic_p@10": 0.5, "random_p@10": 0.1}
    playlists = {
        "ndcg@10": 0.7, "popularity_ndcg@10": 0.2, "random_ndcg@10": 0.1, "recall@100": 0.6,
        "popularity_recall@100": 0.3, "random_recall@100": 0.05,
    }  # fmt: skip
    only_suite = SearchEvaluationReport.from_results({"suite": suite})
    assert only_suite.to_metadata()["suite/hybrid_p@10"] == 0.9123
    assert only_suite.line() == (
        "hybrid P@10 0.9123, semantic P@10 0.5, random P@10 0.1 (query suite)"
    )
    both = SearchEvaluationReport.from_results({"suite": suite, "playlists": playlists})
    assert both.to_metadata()["playlists/recall@100"] == 0.6
    assert "playlist-name queries NDCG@10 0.7 (popularity 0.2, random 0.1)" in both.line()


def test_a_report_of_another_type_or_an_unknown_asset_is_refused():
    with pytest.raises(ReportError, match="catalog_tracks reports a CatalogReport, not a Match"):
        read_report("catalog_tracks", CATALOG.to_metadata(), MatchesReport)
    with pytest.raises(ReportError, match="no_such_asset has no report type"):
        read_report("no_such_asset", {})


def test_listening_steps_are_their_summary_line_and_history_accounts_are_optional():
    assert read_report("mood_clusters", {"summary": "K=4 moods", "k": 4}) == StepLine("K=4 moods")
    with pytest.raises(ReportError, match="mood_clusters did not report 'summary'"):
        read_report("mood_clusters", {"k": 4})
    # an update with no new source reads no files: no accounts, and that is not an error
    update = read_report("listening_history", {"summary": "no new source", "files": 2})
    assert isinstance(update, HistoryReport) and update.accounts() == []
    account = {
        "file": "a.json", "part": "history", "sha256": "0" * 64, "rows": 3, "stored": 2,
        "quarantined": 1, "duplicates": 0, "excluded": {}, "note": None, "balanced": True,
    }  # fmt: skip
    imported = read_report("listening_history", {"summary": "3 plays", "file_accounts": [account]})
    [read] = imported.accounts()
    assert read.line().startswith("a.json: 3 rows = 2 stored")


def test_lines_say_what_the_cli_printed_before():
    evaluation = MatchEvaluationReport(
        ndcg10=0.81, final_system="shipped", stage1_ndcg10=0.8, popular_ndcg10=0.2,
        genre_ndcg10=None, audio_ndcg10=0.31,
    )  # fmt: skip
    assert evaluation.line() == "NDCG@10 0.81 (shipped); stage 1 0.8, best baseline 0.3100"
    assert MATCHES.line() == (
        "4 songs × 2 playlists: 6 suggestions, 1 with no good fit; context hit, embeddings "
        "computed 0, reranks 0, ranker trained"
    )
    catalog_playlists = PlaylistsReport(
        playlists=3, memberships=40, items=0, match_rate=None, library_tracks_added=0, files=[]
    )
    assert catalog_playlists.line() == "3 playlists, 40 members"

