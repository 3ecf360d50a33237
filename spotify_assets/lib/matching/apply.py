"""Apply a person's accepted suggestions on Spotify: add each song to its playlist.

Only on a click in the web app (never on a schedule). A playlist loaded from Spotify is
addressed by its id; one from a privacy export has no Spotify id, so the account's playlist of
the same name is used (none or several: skipped, said so). A song is added only if its id is a
Spotify track id. The account is the one SPOTIFY_* credentials name. Applying twice adds
nothing: the client leaves out songs already in the playlist, and applied decisions are marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spotify_assets.lib.spotify.client import SpotifyClient
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.decisions import DecisionRepository
from spotify_assets.lib.store.playlists import PlaylistRepository
from spotify_assets.lib.store.tracks import SPOTIFY_ID_PATTERN

_SPOTIFY_ID = re.compile(SPOTIFY_ID_PATTERN)


@dataclass
class ApplyReport:
    added: dict[str, int] = field(default_factory=dict)  # playlist name → songs added
    already: int = 0  # accepted songs already in their playlist on Spotify
    skipped: list[str] = field(default_factory=list)  # why some were not applied

    def lines(self) -> list[str]:
        out = [f"added {n} song{'s' * (n != 1)} to '{name}'" for name, n in self.added.items()]
        if self.already:
            out.append(f"{self.already} already in their playlist")
        return out + self.skipped or ["nothing to apply: no accepted suggestion is waiting"]


def apply_accepted(db: Database, person: str, client: SpotifyClient) -> ApplyReport:
    report = ApplyReport()
    with db.connect() as conn:
        pending = DecisionRepository(conn).unapplied(person)
        info = PlaylistRepository(conn).names_and_sources(person)
    if not pending:
        return report
    remote_by_name: dict[str, list[str]] | None = None
    by_playlist: dict[str, list[str]] = {}
    for track_id, playlist_id in pending:
        by_playlist.setdefault(playlist_id, []).append(track_id)
    for playlist_id, track_ids in by_playlist.items():
        name, source = info.get(playlist_id, (playlist_id, None))
        if source is None:
            report.skipped.append(f"'{name}': no longer one of {person}'s playlists")
            continue
        remote = playlist_id if source == "spotify" else None
        if remote is None:
            if remote_by_name is None:
                remote_by_name = {}
                for p in client.user_playlists():
                    remote_by_name.setdefault(p.get("name") or "", []).append(p["id"])
            found = remote_by_name.get(name, [])
            if len(found) != 1:
                report.skipped.append(
                    f"'{name}': {'no' if not found else len(found)} playlist"
                    f"{'s' * (len(found) != 1)} of that name on the Spotify account"
                )
                continue
            remote = found[0]
        usable = [t for t in track_ids if _SPOTIFY_ID.match(t)]
        if len(usable) < len(track_ids):
            report.skipped.append(
                f"'{name}': {len(track_ids) - len(usable)} song(s) without a Spotify track id "
                "(known from an export by name only)"
            )
        if not usable:
            continue
        added = client.add_to_playlist(remote, usable)
        if added:
            report.added[name] = len(added)
        report.already += len(usable) - len(added)
        with db.connect() as conn:
            DecisionRepository(conn).mark_applied(person, [(t, playlist_id) for t in usable])
    return report
