"""One line per step for the catalog, search and matching jobs, from what each asset reported.

An asset that writes a `summary` line is printed as it says; for the others, the line is made
here, in one place, from their materialization metadata (the listening assets all write one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Metadata = Mapping[str, Any]


def _catalog(m: Metadata) -> str:
    coerced = f", coerced {m['coerced']}" if m.get("coerced") else ""
    return (
        f"loaded {m.get('loaded')}, unchanged {m.get('unchanged')}, "
        f"duplicates {m.get('duplicates')}, quarantined {m.get('quarantined')}{coerced}"
    )


def _analyses(m: Metadata) -> str:
    return f"written {m.get('written')}, unchanged {m.get('unchanged')}"


def _embeddings(m: Metadata) -> str:
    return (
        f"embedded {m.get('embedded')}, reused {m.get('reused')} "
        f"({m.get('texts_per_second')} texts/s, {m.get('precision')})"
    )


def _index(m: Metadata) -> str:
    return f"{m.get('index')} ({'built' if m.get('built_now') else 'present'})"


def _search_evaluation(m: Metadata) -> str:
    line = (
        f"hybrid P@10 {m.get('suite/hybrid_p@10')}, semantic P@10 "
        f"{m.get('suite/semantic_p@10')}, random P@10 {m.get('suite/random_p@10')} (query suite)"
    )
    if m.get("playlists/ndcg@10") is not None:
        line += (
            f"\n  playlist-name queries NDCG@10 {m.get('playlists/ndcg@10')} (popularity "
            f"{m.get('playlists/popularity_ndcg@10')}, random {m.get('playlists/random_ndcg@10')})"
            f", Recall@100 {m.get('playlists/recall@100')} (popularity "
            f"{m.get('playlists/popularity_recall@100')}, random "
            f"{m.get('playlists/random_recall@100')})"
        )
    return line


def _emotions(m: Metadata) -> str:
    return f"computed {m.get('computed')}, reused {m.get('reused')} ({m.get('backend')})"


def _profiles(m: Metadata) -> str:
    return (
        f"recomputed {m.get('recomputed')}, reused {m.get('reused')} "
        f"(fallback to name: {m.get('fallback')})"
    )


def _matches(m: Metadata) -> str:
    return (
        f"{m.get('songs')} songs × {m.get('playlists')} playlists: {m.get('suggestions')} "
        f"suggestions, {m.get('abstained')} with no good fit; context "
        f"{'hit' if m.get('context_hit') else 'miss'}, embeddings computed "
        f"{m.get('embeddings_computed')}, reranks {m.get('rerank_calls')}, ranker {m.get('ranker')}"
        + (f"; {m['ranker_decision']}" if m.get("ranker_decision") else "")
    )


def _match_evaluation(m: Metadata) -> str:
    best = max((m.get(f"baseline_{b}/ndcg@10") or 0) for b in ("popular", "genre", "audio"))
    return (
        f"NDCG@10 {m.get('ndcg@10')} ({m.get('final_system')}); stage 1 "
        f"{m.get('stage1/ndcg@10')}, best baseline {best:.4f}"
    )


def _playlists(m: Metadata) -> str:
    line = f"{m.get('playlists')} playlists, {m.get('memberships')} members"
    if m.get("items"):
        line += (
            f"; {m.get('match_rate', 0):.1%} of {m.get('items')} items in a catalog file, "
            f"{m.get('library_tracks_added')} songs new to the catalog (library tracks)"
        )
    return line


def _candidates(m: Metadata) -> str:
    line = (
        f"{m.get('songs')} songs to sort ({m.get('in_catalog')} in a catalog file, "
        f"{m.get('library_tracks_added')} new library tracks)"
    )
    if m.get("not_in_catalog"):
        line += f"; {m.get('not_in_catalog')} ids with no name the catalog lacks, dropped"
    return line


LINES: dict[str, Callable[[Metadata], str]] = {
    "playlists": _playlists,
    "candidates": _candidates,
    "catalog_tracks": _catalog,
    "track_analyses": _analyses,
    "track_embeddings": _embeddings,
    "search_index": _index,
    "search_evaluation": _search_evaluation,
    "track_emotions": _emotions,
    "playlist_profiles": _profiles,
    "match_results": _matches,
    "match_evaluation": _match_evaluation,
}


def step_lines(metadata: Mapping[str, Metadata], order: list[str], width: int = 18) -> list[str]:
    """'  asset  what it did' for the assets of `order` that materialized."""
    out = []
    for asset in order:
        if asset not in metadata:
            continue
        m = metadata[asset]
        text = m["summary"] if "summary" in m else LINES[asset](m) if asset in LINES else ""
        out.append(f"  {asset:<{width}}{text}")
    return out


def file_accounts(metadata: dict) -> list:
    """The per-file accounts a load step reported (`files` / `file_accounts` metadata)."""
    from spotify_assets.lib.export.accounting import FileAccount

    rows = metadata.get("file_accounts") or metadata.get("files") or []
    return [FileAccount.from_dict(row) for row in rows] if isinstance(rows, list) else []
