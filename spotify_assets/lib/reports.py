"""What each asset reports to the CLI: one dataclass per asset, the contract between them.

The asset writes its report as materialization metadata (`Report.to_metadata()`, beside any
other metadata it keeps for the UI) and the CLI reads it back through `read_report`, the one
reader: a key the asset no longer writes (renamed, dropped) fails there, naming the asset and
the key, instead of printing "None". A field with a default is a key the asset writes only
sometimes; every other field must be there. Pure: no Dagster, so both sides import it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # lib.export reads files with pandas: imported when an account is read
    from spotify_assets.lib.export.accounting import FileAccount


class ReportError(Exception):
    """An asset's metadata does not hold the report the CLI expects of it."""


def key(name: str) -> Any:
    """A field stored under another metadata key than its name (`suite/hybrid_p@10`)."""
    return field(metadata={"key": name})


def _key(f: Field) -> str:
    return f.metadata.get("key", f.name)


def _required(f: Field) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


@dataclass(frozen=True)
class Report:
    def line(self) -> str:
        """The step's one line in the CLI."""
        raise NotImplementedError

    def to_metadata(self) -> dict[str, Any]:
        """Every field under its key: what the asset adds to its materialization metadata."""
        return {_key(f): getattr(self, f.name) for f in fields(self)}

    def accounts(self) -> list[FileAccount]:
        """The per-file accounts of a load step (none for the others)."""
        return []


def _accounts(rows: list[dict]) -> list[FileAccount]:
    from spotify_assets.lib.export.accounting import FileAccount

    return [FileAccount.from_dict(row) for row in rows]


@dataclass(frozen=True)
class StepLine(Report):
    """A step that says what it did in one line of its own (the listening assets)."""

    summary: str

    def line(self) -> str:
        return self.summary


@dataclass(frozen=True)
class HistoryReport(StepLine):
    """listening_history: its line, and an account per file when it read files."""

    file_accounts: list[dict] = field(default_factory=list)

    def accounts(self) -> list[FileAccount]:
        return _accounts(self.file_accounts)


@dataclass(frozen=True)
class CatalogReport(Report):
    loaded: int
    unchanged: int
    duplicates: int
    quarantined: int
    coerced: int

    def line(self) -> str:
        coerced = f", coerced {self.coerced}" if self.coerced else ""
        return (
            f"loaded {self.loaded}, unchanged {self.unchanged}, duplicates {self.duplicates}, "
            f"quarantined {self.quarantined}{coerced}"
        )


@dataclass(frozen=True)
class AnalysesReport(Report):
    written: int
    unchanged: int

    def line(self) -> str:
        return f"written {self.written}, unchanged {self.unchanged}"


@dataclass(frozen=True)
class EmbeddingsReport(Report):
    embedded: int
    reused: int
    texts_per_second: float
    precision: str
    gone: int = 0  # their tracks were moved or deleted by another run meanwhile

    def line(self) -> str:
        moved = (
            f"; {self.gone} not kept: another run moved their tracks meanwhile (the next run "
            "embeds them under their new ids)"
            if self.gone
            else ""
        )
        return (
            f"embedded {self.embedded}, reused {self.reused} "
            f"({self.texts_per_second} texts/s, {self.precision}){moved}"
        )


@dataclass(frozen=True)
class IndexReport(Report):
    index: str
    built_now: bool

    def line(self) -> str:
        return f"{self.index} ({'built' if self.built_now else 'present'})"


@dataclass(frozen=True)
class SearchEvaluationReport(Report):
    """The query suite's P@10 per system, and the playlist-name queries when the catalog has
    playlists (None otherwise)."""

    hybrid_p10: float | None = key("suite/hybrid_p@10")
    semantic_p10: float | None = key("suite/semantic_p@10")
    random_p10: float | None = key("suite/random_p@10")
    playlists_ndcg10: float | None = key("playlists/ndcg@10")
    playlists_popularity_ndcg10: float | None = key("playlists/popularity_ndcg@10")
    playlists_random_ndcg10: float | None = key("playlists/random_ndcg@10")
    playlists_recall100: float | None = key("playlists/recall@100")
    playlists_popularity_recall100: float | None = key("playlists/popularity_recall@100")
    playlists_random_recall100: float | None = key("playlists/random_recall@100")

    @classmethod
    def from_results(cls, results: Mapping[str, Mapping[str, Any]]) -> SearchEvaluationReport:
        """From evaluate_search's {suite: {metric: value}}, rounded as the metadata is."""
        values = {}
        for f in fields(cls):
            suite, _, metric = _key(f).partition("/")
            value = results.get(suite, {}).get(metric)
            values[f.name] = None if value is None else round(float(value), 4)
        return cls(**values)

    def line(self) -> str:
        text = (
            f"hybrid P@10 {self.hybrid_p10}, semantic P@10 {self.semantic_p10}, random P@10 "
            f"{self.random_p10} (query suite)"
        )
        if self.playlists_ndcg10 is not None:
            text += (
                f"\n  playlist-name queries NDCG@10 {self.playlists_ndcg10} (popularity "
                f"{self.playlists_popularity_ndcg10}, random {self.playlists_random_ndcg10}), "
                f"Recall@100 {self.playlists_recall100} (popularity "
                f"{self.playlists_popularity_recall100}, random {self.playlists_random_recall100})"
            )
        return text


@dataclass(frozen=True)
class EmotionsReport(Report):
    computed: int
    reused: int
    backend: str

    def line(self) -> str:
        return f"computed {self.computed}, reused {self.reused} ({self.backend})"


@dataclass(frozen=True)
class ProfilesReport(Report):
    recomputed: int
    reused: int
    fallback: int

    def line(self) -> str:
        return (
            f"recomputed {self.recomputed}, reused {self.reused} "
            f"(fallback to name: {self.fallback})"
        )


@dataclass(frozen=True)
class MatchesReport(Report):
    """match_results: what `lib/matching/run.run_matching` returns, as it is."""

    context_hash: str  # where the CLI finds the stored suggestions
    context_hit: bool
    songs: int
    playlists: int
    suggestions: int
    abstained: int
    embeddings_computed: int
    rerank_calls: int
    ranker: str
    ranker_decision: str  # which of the ranker and stage 1 serves, and why; weights; abstaining
    embeddings_reused: int = 0
    names_embedded: int = 0
    rerank_pairs: int = 0
    rerank_seconds: float = 0.0
    candidates_without_vectors: int = 0
    seconds: float = 0.0
    artifacts: dict[str, str] = field(default_factory=dict)  # name → URI (shown as links)
    # what the person's validation songs chose (see matching.run.validation_summary)
    validation: dict = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.songs} songs × {self.playlists} playlists: {self.suggestions} suggestions, "
            f"{self.abstained} with no good fit; context "
            f"{'hit' if self.context_hit else 'miss'}, embeddings computed "
            f"{self.embeddings_computed}, reranks {self.rerank_calls}, ranker {self.ranker}"
            + (f"; {self.ranker_decision}" if self.ranker_decision else "")
        )


@dataclass(frozen=True)
class MatchEvaluationReport(Report):
    ndcg10: float = key("ndcg@10")  # of the final system
    final_system: str = key("final_system")
    stage1_ndcg10: float = key("stage1/ndcg@10")
    popular_ndcg10: float | None = key("baseline_popular/ndcg@10")
    genre_ndcg10: float | None = key("baseline_genre/ndcg@10")
    audio_ndcg10: float | None = key("baseline_audio/ndcg@10")

    def line(self) -> str:
        baselines = (self.popular_ndcg10, self.genre_ndcg10, self.audio_ndcg10)
        best = max(b or 0 for b in baselines)
        return (
            f"NDCG@10 {self.ndcg10} ({self.final_system}); stage 1 {self.stage1_ndcg10}, "
            f"best baseline {best:.4f}"
        )


@dataclass(frozen=True)
class PlaylistsReport(Report):
    """A playlists load: counts, and for a file or API load the items matched to a catalog
    (items 0 and match_rate None for the catalog's own playlists)."""

    playlists: int
    memberships: int
    items: int
    match_rate: float | None
    library_tracks_added: int
    files: list[dict]  # an account per export file

    def line(self) -> str:
        text = f"{self.playlists} playlists, {self.memberships} members"
        if self.items:
            text += (
                f"; {self.match_rate or 0:.1%} of {self.items} items in a catalog file, "
                f"{self.library_tracks_added} songs new to the catalog (library tracks)"
            )
        return text

    def accounts(self) -> list[FileAccount]:
        return _accounts(self.files)


@dataclass(frozen=True)
class CandidatesReport(Report):
    songs: int
    in_catalog: int
    library_tracks_added: int
    not_in_catalog: int
    files: list[dict]  # an account per export file

    def line(self) -> str:
        text = (
            f"{self.songs} songs to sort ({self.in_catalog} in a catalog file, "
            f"{self.library_tracks_added} new library tracks)"
        )
        if self.not_in_catalog:
            text += f"; {self.not_in_catalog} ids with no name the catalog lacks, dropped"
        return text

    def accounts(self) -> list[FileAccount]:
        return _accounts(self.files)


# assets whose report is the one `summary` line they write
STEP_LINES = (
    "play_features", "mood_clusters", "listening_models", "listening_predictions",
    "drift_report", "listening_dashboard", "track_enrichment", "co_listening",
)  # fmt: skip
# asset name → the report it writes; an asset the CLI prints must be here
REPORTS: dict[str, type[Report]] = {
    "catalog_tracks": CatalogReport,
    "track_analyses": AnalysesReport,
    "track_embeddings": EmbeddingsReport,
    "search_index": IndexReport,
    "search_evaluation": SearchEvaluationReport,
    "track_emotions": EmotionsReport,
    "playlist_profiles": ProfilesReport,
    "match_results": MatchesReport,
    "match_evaluation": MatchEvaluationReport,
    "playlists": PlaylistsReport,
    "candidates": CandidatesReport,
    "listening_history": HistoryReport,
    **dict.fromkeys(STEP_LINES, StepLine),
}

R = TypeVar("R", bound=Report)


def read_report(asset: str, metadata: Mapping[str, Any], kind: type[R] = Report) -> R:
    """The report `asset` wrote, from its materialization metadata (plain values, as
    `MetadataValue.value` gives them). Raises ReportError naming the asset and every missing
    key, or when the asset has no report of type `kind`."""
    report_type = REPORTS.get(asset)
    if report_type is None:
        raise ReportError(f"{asset} has no report type: add one to REPORTS in lib/reports.py")
    if not issubclass(report_type, kind):
        raise ReportError(f"{asset} reports a {report_type.__name__}, not a {kind.__name__}")
    values, missing = {}, []
    for f in fields(report_type):
        if _key(f) in metadata:
            values[f.name] = metadata[_key(f)]
        elif _required(f):
            missing.append(_key(f))
    if missing:
        raise ReportError(
            f"{asset} did not report {', '.join(map(repr, missing))} (its metadata has: "
            f"{', '.join(sorted(metadata)) or 'nothing'}); the asset and its "
            f"{report_type.__name__} in lib/reports.py disagree"
        )
    return report_type(**values)
