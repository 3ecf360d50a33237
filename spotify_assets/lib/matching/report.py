"""Match results as text for the CLI: per song its best playlists with reasons, or per playlist
its best songs."""

from __future__ import annotations

import pandas as pd


def _song_label(row: pd.Series) -> str:
    artists = row["artists"] or []
    return f"{row['track_name']} — {', '.join(artists)}" if artists else str(row["track_name"])


def format_by_song(results: pd.DataFrame, per_song: int = 3, limit: int | None = None) -> str:
    if results.empty:
        return "no suggestions"
    ranked = results[results["song_rank"].notna()].sort_values(["track_id", "song_rank"])
    lines = []
    for n, (_, group) in enumerate(ranked.groupby("track_id", sort=False)):
        if limit is not None and n >= limit:
            lines.append(f"... and {ranked['track_id'].nunique() - limit} more songs")
            break
        lines.append(_song_label(group.iloc[0]))
        fits = group[group["fits"]]
        if fits.empty:
            best = group.iloc[0]
            lines.append(
                f"   no good fit (closest: '{best['playlist_name']}', score {best['score']:.2f})"
            )
            continue
        for _, row in fits.head(per_song).iterrows():
            lines.append(
                f"   {int(row['song_rank'])}. {row['playlist_name']:<28} score {row['score']:.2f}"
                f"  confidence {row['confidence']:.2f}  {row['reasons']}"
            )
    return "\n".join(lines)


def format_for_playlist(results: pd.DataFrame, playlist: str, limit: int = 10) -> str:
    mine = results[results["playlist_name"].str.casefold() == playlist.casefold()]
    if mine.empty:
        names = sorted(results["playlist_name"].unique())
        return f"no suggestions for playlist {playlist!r}; playlists with suggestions: {', '.join(names[:20])}"
    mine = mine.sort_values("score", ascending=False).head(limit)
    lines = [f"songs for '{mine.iloc[0]['playlist_name']}':"]
    for i, (_, row) in enumerate(mine.iterrows(), start=1):
        verdict = "" if row["fits"] else "  (weak fit)"
        lines.append(
            f"   {i}. {_song_label(row):<45} score {row['score']:.2f}  {row['reasons']}{verdict}"
        )
    return "\n".join(lines)
