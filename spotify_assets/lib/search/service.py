"""Natural-language search: parse filters, embed the query, search, explain."""

from __future__ import annotations

from dataclasses import dataclass

from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.embeddings import Embedder
from spotify_assets.lib.search.engine import SearchHit, SearchPlan, search_vectors
from spotify_assets.lib.search.filters import Filter, parse_query, parse_where
from spotify_assets.lib.store.database import Database


@dataclass
class SearchResult:
    query: str
    filters: list[Filter]
    hits: list[SearchHit]
    plan: SearchPlan


def known_genres(db: Database) -> list[str]:
    with db.connect() as conn:
        return [
            r[0] for r in conn.execute("SELECT DISTINCT genre FROM tracks WHERE genre IS NOT NULL")
        ]


def search(
    db: Database,
    bundle: ModelBundle,
    embedder: Embedder,
    query: str,
    limit: int = 10,
    where: str | None = None,
    understand: bool = True,
    genres: list[str] | None = None,
) -> SearchResult:
    """`understand`: also apply filters stated in the query's words ("fast", "sad", "80s")."""
    filters = parse_where(where)
    if understand:
        stated = parse_query(query, genres if genres is not None else known_genres(db))
        explicit = {f.column for f in filters}
        filters += [f for f in stated if f.column not in explicit]
    vector = embedder.embed([query], "query")[0]
    with db.connect() as conn:
        hits, plan = search_vectors(
            conn, bundle.hash, bundle.embedding.dims, vector, filters, limit
        )
    return SearchResult(query, filters, hits, plan)


def format_result(result: SearchResult) -> str:
    lines = [f"query: {result.query}"]
    understood = ", ".join(f.describe() for f in result.filters) or "none"
    lines.append(f"filters understood: {understood}")
    lines.append(
        f"plan: {result.plan.strategy} (rows kept by filters: {result.plan.filtered_rows})"
    )
    why = "semantic match" + "".join(
        f", {f.column} {f.op} {f.value if isinstance(f.value, str) else f'{f.value:g}'}"
        for f in result.filters
    )
    for hit in result.hits:
        d = hit.details
        artists = ", ".join(d.get("artists") or []) or "?"
        features = (
            f"tempo {d.get('tempo') or 0:.0f}, energy {d.get('energy') or 0:.2f}, "
            f"valence {d.get('valence') or 0:.2f}, acoustic {d.get('acousticness') or 0:.2f}"
        )
        lines.append(
            f"{hit.rank:>3}. {d.get('name')} — {artists} [{d.get('genre') or '?'}] "
            f"score {hit.score:.3f} | {features} | why: {why}"
        )
    return "\n".join(lines)
