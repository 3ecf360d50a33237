"""The Postgres tables that assets write: their important columns (from the migrations in
spotify_assets/lib/store/migrations/) as definition metadata, and their row counts as
materialization metadata, so the UI shows "Columns" and "Rows" for each table asset.

`table(...)` goes into an asset's definition metadata (`dagster/column_schema`,
`dagster/table_name`); `rows(...)` into a materialization's (`dagster/row_count`, and for a
partitioned asset `dagster/partition_row_count`: the rows of the partition's slice of the
table, which is what its row count is too).
"""

from __future__ import annotations

import dagster as dg


def _col(name: str, type_: str, description: str, nullable: bool = True, unique: bool = False):
    return dg.TableColumn(
        name,
        type_,
        description=description,
        constraints=dg.TableColumnConstraints(nullable=nullable, unique=unique),
    )


def table(name: str, *columns: dg.TableColumn) -> dict[str, object]:
    """Definition metadata of an asset that is (a slice of) Postgres table `name`."""
    return {
        "dagster/table_name": f"public.{name}",
        "dagster/column_schema": dg.TableSchema(columns=list(columns)),
    }


def rows(count: int, partitioned: bool = False) -> dict[str, int]:
    """Materialization metadata: the table's (or the partition's) row count after the step."""
    count = int(count)
    if partitioned:
        return {"dagster/row_count": count, "dagster/partition_row_count": count}
    return {"dagster/row_count": count}


BUNDLE_HASH = _col("bundle_hash", "text", "Model bundle (the partition key).", nullable=False)
TRACK_ID = _col("track_id", "text", "Spotify track id.", nullable=False)
CONTENT_HASH = _col(
    "content_hash", "text", "Hash of the input it was computed from; unchanged: reused.", False
)

TRACKS = table(
    "tracks",
    _col("track_id", "text", "Spotify track id (primary key).", nullable=False, unique=True),
    _col("name", "text", "Track title.", nullable=False),
    _col("artists", "text[]", "Artist names, in credit order.", nullable=False),
    _col("album_name", "text", "Album title."),
    _col(
        "genre", "text", "Genres from the catalog file, joined with ';' (subgenre in `subgenre`)."
    ),
    _col(
        "genres", "text[]", "Each genre on its own (generated from `genre`); a filter matches any."
    ),
    _col("release_year", "integer", "Year of release."),
    _col("popularity", "integer", "Spotify popularity, 0-100."),
    _col("danceability", "double precision", "Audio feature, 0-1."),
    _col("energy", "double precision", "Audio feature, 0-1."),
    _col("valence", "double precision", "Audio feature, 0-1: musical positiveness."),
    _col("tempo", "double precision", "Beats per minute."),
    _col("source_format", "text", "Catalog layout it was loaded from.", nullable=False),
    _col("row_hash", "text", "Hash of the normalized row; reloads skip unchanged rows.", False),
)
TRACK_ANALYSES = table(
    "track_analyses",
    _col("track_id", "text", "The track (primary key).", nullable=False, unique=True),
    CONTENT_HASH,
    _col("extractor_version", "integer", "Version of the analysis code.", nullable=False),
    _col("analysis", "jsonb", "Structured analysis: moods, tempo words, era…", nullable=False),
    _col("description", "text", "The text that is embedded and searched.", nullable=False),
)
TRACK_EMBEDDINGS = table(
    "track_embeddings",
    BUNDLE_HASH,
    TRACK_ID,
    CONTENT_HASH,
    _col("model", "text", "Embedding model name.", nullable=False),
    _col("dims", "integer", "Vector dimensions, as the bundle declares.", nullable=False),
    _col("embedding", "vector", "Unit-norm description embedding (pgvector).", nullable=False),
)
TRACK_EMOTIONS = table(
    "track_emotions",
    BUNDLE_HASH,
    TRACK_ID,
    CONTENT_HASH,
    _col("backend", "text", "classifier | zero_shot.", nullable=False),
    _col("scores", "real[]", "Distribution over the 28 GoEmotions labels.", nullable=False),
    _col("buckets", "real[]", "The same folded into 8 mood buckets.", nullable=False),
    _col("top_labels", "text[]", "The 3 most likely labels.", nullable=False),
    _col("top_bucket", "text", "The most likely mood bucket.", nullable=False),
)
PLAYLISTS = table(
    "playlists",
    _col("playlist_id", "text", "Playlist id (primary key).", nullable=False, unique=True),
    _col("name", "text", "Playlist name.", nullable=False),
    _col("description", "text", "Playlist description."),
    _col("person", "text", "Whose playlist it is (empty for a catalog's own playlists)."),
    _col("source", "text", "sample | catalog | export | spotify.", nullable=False),
    _col("snapshot", "text", "Spotify snapshot id, when from the API."),
)
CANDIDATES = table(
    "candidates",
    _col("person", "text", "Whose songs to sort.", nullable=False),
    _col("list", "text", "liked | recent | file.", nullable=False),
    TRACK_ID,
    _col("position", "integer", "Order in the list.", nullable=False),
)
PLAYLIST_PROFILES = table(
    "playlist_profiles",
    BUNDLE_HASH,
    _col("playlist_id", "text", "The playlist.", nullable=False),
    _col("profile_hash", "text", "Hash of everything the profile is built from.", False),
    _col("member_count", "integer", "Songs in the playlist.", nullable=False),
    _col("fallback", "boolean", "Under 3 members: the centroid is the name's embedding.", False),
    _col("centroid", "vector", "Mean member embedding.", nullable=False),
    _col("playlist_type", "text", "Detected type (workout, sleep, …).", nullable=False),
    _col("profile_text", "text", "The profile in words (the cross-encoder's query).", False),
)
MATCH_RESULTS = table(
    "match_results",
    _col(
        "context_hash", "text", "Hash of the run's inputs; results are reused per context.", False
    ),
    TRACK_ID,
    _col("playlist_id", "text", "Suggested playlist.", nullable=False),
    _col("song_rank", "integer", "Rank of the playlist for this song."),
    _col("playlist_rank", "integer", "Rank of the song for this playlist."),
    _col("score", "double precision", "Final score.", nullable=False),
    _col("confidence", "double precision", "Calibrated confidence, 0-1.", nullable=False),
    _col("fits", "boolean", "False: below the abstain threshold ('no good fit').", False),
    _col("reasons", "text", "Why, in words.", nullable=False),
)
PLAYS = table(
    "plays",
    _col("person", "text", "The person (the partition key).", nullable=False),
    _col("play_key", "text", "Track id, else 'name:' + artist|title.", nullable=False),
    _col("played_at", "timestamptz", "Start of playback.", nullable=False),
    _col("ended_at", "timestamptz", "End of playback.", nullable=False),
    _col("ms_played", "integer", "Milliseconds played (NULL: unknown, API plays)."),
    _col("track_id", "text", "Spotify track id, when the source has it."),
    _col("artist_name", "text", "Artist as the export gives it."),
    _col("track_name", "text", "Title as the export gives it."),
    _col("source", "text", "basic_export | extended_export | csv | api.", nullable=False),
    _col("skipped", "boolean", "Skipped, when the export says."),
    _col("conn_country", "text", "Country of the connection (for the local time zone)."),
)
PLAY_JOINS = table(
    "play_joins",
    _col("play_key", "text", "A play's key (primary key).", nullable=False, unique=True),
    _col("catalog_track_id", "text", "The catalog track it joined to (NULL: none)."),
    _col("join_method", "text", "id | name | library | none.", nullable=False),
    _col("joined_at", "timestamptz", "When the join last changed.", nullable=False),
)
