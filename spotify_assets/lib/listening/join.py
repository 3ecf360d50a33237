"""Join plays to catalog tracks: by track id when the catalog has it, else by artist + title.

Most plays of most people are of songs outside any catalog here, so a play that does not
join, or joins to a track without audio features, is kept and marked, never dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass

import pandas as pd

from spotify_assets.lib.catalog.names import match_by_name

CATALOG_COLUMNS = ("track_id", "name", "artists", "has_features")  # popularity optional


@dataclass(frozen=True)
class JoinReport:
    plays: int
    by_id: int
    by_name: int
    none: int
    with_features: int

    def rate(self, count: int) -> float:
        return count / self.plays if self.plays else 0.0

    def as_dict(self) -> dict:
        return {
            **asdict(self),
            "id_rate": round(self.rate(self.by_id), 4),
            "name_rate": round(self.rate(self.by_name), 4),
            "join_rate": round(self.rate(self.by_id + self.by_name), 4),
            "features_rate": round(self.rate(self.with_features), 4),
        }


def join_plays(
    plays: pd.DataFrame, catalog: pd.DataFrame, featured_ids: Collection[str] = ()
) -> tuple[pd.DataFrame, JoinReport]:
    """`plays` plus catalog_track_id, join_method and has_features.

    `catalog` has CATALOG_COLUMNS; `featured_ids` are play track ids with features from
    elsewhere (the `track_features` table), which count even when the catalog lacks the track.
    """
    items = pd.DataFrame(
        {
            "artist": plays["artist_name"].to_numpy(dtype=object),
            "title": plays["track_name"].to_numpy(dtype=object),
            "track_id": plays["track_id"].to_numpy(dtype=object),
        },
        index=plays.index,
    )
    matched = match_by_name(items, catalog)
    in_catalog = items["track_id"].isin(set(catalog["track_id"].dropna()))
    method = pd.Series("none", index=plays.index, dtype=object)
    method = method.mask(matched.notna(), "name").mask(in_catalog, "id")

    featured = catalog.loc[catalog["has_features"].astype(bool), "track_id"]
    has_features = matched.isin(set(featured)) | items["track_id"].isin(set(featured_ids))

    joined = plays.copy()
    joined["catalog_track_id"] = matched.astype(object)
    joined["join_method"] = method
    joined["has_features"] = has_features.astype(bool)
    counts = method.value_counts()
    return joined, JoinReport(
        plays=len(plays),
        by_id=int(counts.get("id", 0)),
        by_name=int(counts.get("name", 0)),
        none=int(counts.get("none", 0)),
        with_features=int(has_features.sum()),
    )
