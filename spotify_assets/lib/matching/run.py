"""One matching run for a person's candidate list: cached by a context hash, else computed.

The context hash covers who (person, list), with what (bundle, algorithm version, config
hash) and on what (the playlists' profile hashes, the candidates' content hashes). The same
context returns the stored results: no embedding, no ranker, no cross-encoder call.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spotify_assets.lib import versions
from spotify_assets.lib.artifacts import ArtifactStore
from spotify_assets.lib.bundles import ModelBundle
from spotify_assets.lib.catalog.artists import describe_artist
from spotify_assets.lib.colistening.fit import refitter
from spotify_assets.lib.colistening.inputs import load_colistening_inputs
from spotify_assets.lib.embeddings.update import update_track_embeddings
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.features import ACOUSTIC_FEATURES
from spotify_assets.lib.hashing import stable_hash
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.explain import closest_features, reason_text
from spotify_assets.lib.matching.ranker import CHECKED_WEIGHTS, FEATURES, LearnedRanker
from spotify_assets.lib.matching.score import Reranker, Scored, score_matrix
from spotify_assets.lib.matching.signals import PARTS, top_indices
from spotify_assets.lib.models.embedder import LazyEmbedder
from spotify_assets.lib.playlists.profiles import profile_text
from spotify_assets.lib.playlists.world import PlaylistWorld, load_world
from spotify_assets.lib.reports import MatchesReport
from spotify_assets.lib.store.artists import ArtistProfile
from spotify_assets.lib.store.colistening import ColisteningRepository
from spotify_assets.lib.store.database import Database
from spotify_assets.lib.store.decisions import DecisionRepository
from spotify_assets.lib.store.matching import CandidateRepository, MatchRepository

log = logging.getLogger(__name__)


class MatchError(InputError):
    """Matching cannot start: something it needs is missing; the message says what to run."""


def context_of(
    person: str, list_name: str, bundle: ModelBundle, config: MatchConfig,
    world: PlaylistWorld, candidates: pd.DataFrame, decisions: list | None = None,
) -> dict:  # fmt: skip
    playlist_set = stable_hash("ps", sorted(zip(world.playlist_ids, world.hashes, strict=True)))
    candidate_set = stable_hash(
        "cs", sorted(zip(candidates["track_id"], candidates["content_hash"], strict=True))
    )
    parts = {
        "person": person,
        "candidates_list": list_name,
        "bundle_hash": bundle.hash,
        "algo_version": versions.MATCHING_ALGO_VERSION,
        "config_hash": config.hash,
        "playlist_set_hash": playlist_set,
        "candidate_set_hash": candidate_set,
    }
    hashed = {**parts, "decisions": stable_hash("sd", decisions)} if decisions else parts
    return {"context_hash": stable_hash("mx", hashed), **parts}


@dataclass(frozen=True)
class Feedback:
    """The person's decisions on earlier suggestions (lib/store/decisions.py)."""

    digest: list[tuple[str, str, str]]  # (track, playlist, decision): part of the context

    def of_kind(self, decision: str) -> list[tuple[str, str]]:
        return [(t, p) for t, p, d in self.digest if d == decision]

    def pairs(self, world: PlaylistWorld, decision: str) -> tuple[np.ndarray, np.ndarray]:
        """(track rows, playlist columns) in `world` of one kind of decision."""
        row = {t: i for i, t in enumerate(world.tracks.track_ids)}
        col = {p: j for j, p in enumerate(world.playlist_ids)}
        found = [(row[t], col[p]) for t, p in self.of_kind(decision) if t in row and p in col]
        rows = np.array([r for r, _ in found], dtype=np.int64)
        cols = np.array([c for _, c in found], dtype=np.int64)
        return rows, cols


def _feedback(db: Database, person: str) -> Feedback | None:
    with db.connect() as conn:
        digest = DecisionRepository(conn).digest(person)
    return Feedback(digest) if digest else None


def run_matching(
    db: Database,
    bundle: ModelBundle,
    config: MatchConfig,
    person: str,
    list_name: str,
    embedder: LazyEmbedder,
    reranker_factory: Callable[[], Reranker | None] = lambda: None,
    progress: Callable[[str], None] = log.info,
    artifacts: ArtifactStore | None = None,
    catalog_playlists: bool = False,
) -> MatchesReport:
    """Sort `person`'s `list_name` songs into their playlists (with `catalog_playlists`, into
    the catalog's own playlists instead). `artifacts`: where the trained ranker and a summary
    of a computed context are kept."""
    started = time.perf_counter()
    with db.connect() as conn:
        candidate_ids = CandidateRepository(conn).track_ids(person, list_name)
    if not candidate_ids:
        raise MatchError(
            f"no candidates in list {list_name!r} for {person!r}: load songs to sort first "
            "(the playlists asset's candidates, or `spotify-assets sort --candidates file PATH`)"
        )
    emb = update_track_embeddings(db, bundle, embedder, only=candidate_ids, progress=progress)
    # the person's decisions on earlier suggestions: accepted songs are members of the
    # playlists (profiles, the ranker's memberships), rejected ones are not suggested again
    feedback = None if catalog_playlists else _feedback(db, person)
    accepted = feedback.of_kind("accept") if feedback else []
    if accepted:
        progress(f"match_results: {len(accepted)} accepted suggestions count as memberships")
    with db.connect() as conn:
        world = load_world(
            conn, bundle, None, None if catalog_playlists else person, candidate_ids,
            colistening_of=person, accepted=accepted,
        )  # fmt: skip
    if not world.playlist_ids:
        whose = "the catalog" if catalog_playlists else repr(person)
        raise MatchError(f"{whose} has no playlists: materialize `playlists` first")
    if stale := world.stale:
        raise MatchError(
            f"playlist_profiles is out of date for {len(stale)} playlists (e.g. {stale[0]}): "
            "materialize playlist_profiles for this bundle first"
        )
    songs_frame = world.texts[world.texts["track_id"].isin(set(candidate_ids))]
    missing = len(set(candidate_ids)) - len(songs_frame)
    context = context_of(person, list_name, bundle, config, world, songs_frame,
                         feedback.digest if feedback else None)  # fmt: skip
    with db.connect() as conn:
        cached = MatchRepository(conn).context(context["context_hash"])
    common = {
        "context_hash": context["context_hash"],
        "songs": len(songs_frame),
        "playlists": len(world.playlist_ids),
        "embeddings_computed": emb.embedded,
        "embeddings_reused": emb.reused + len(world.playlist_ids) - world.names_embedded,
        "names_embedded": world.names_embedded,
        "candidates_without_vectors": missing,
    }
    if cached is not None:
        progress(f"match_results: context {context['context_hash'][:20]}… cached, reusing")
        return MatchesReport(
            **common, context_hit=True, suggestions=cached.get("suggestions", 0),
            abstained=cached.get("abstained", 0), rerank_calls=0, rerank_pairs=0,
            rerank_seconds=0.0, ranker=cached.get("ranker", ""),
            ranker_decision=cached.get("ranker_decision", ""),
            validation=cached.get("validation", {}),
            seconds=round(time.perf_counter() - started, 2), artifacts=cached.get("artifacts", {}),
        )  # fmt: skip

    progress(
        f"match_results: scoring {len(songs_frame)} songs × {len(world.playlist_ids)} playlists"
    )
    member_rows = np.concatenate([m for m in world.members]) if world.members else np.zeros(0, int)
    member_cols = np.repeat(np.arange(len(world.members)), [len(m) for m in world.members])
    ranker = LearnedRanker(config)
    refit = None if catalog_playlists else _refit_colistening(db, person, world)
    ranker.fit(world.tracks, world.profiles, member_rows, member_cols, refit)
    decision = ranker.report.summary()
    validation = validation_summary(ranker)
    progress(f"match_results: learned ranker {ranker.report.reason}; {decision}")

    song_rows = songs_frame.index.to_numpy()
    songs = world.tracks.take(song_rows)
    member = np.zeros((len(world.tracks), len(world.playlist_ids)), dtype=bool)
    member[member_rows, member_cols] = True
    if feedback:  # a rejected suggestion is not made again
        rejected = feedback.pairs(world, "reject")
        member[rejected[0], rejected[1]] = True
    reranker = reranker_factory()
    texts = [profile_text(world.profiles, p, world.tracks) for p in range(len(world.playlist_ids))]
    scored = score_matrix(
        songs, world.profiles, config, ranker, reranker,
        songs_frame["description"].tolist(), texts, exclude=member[song_rows],
    )  # fmt: skip
    results = result_rows(world, songs, songs_frame, scored, ranker, config)
    abstained = int(songs_frame.shape[0] - results.loc[results["song_rank"] == 1, "fits"].sum())
    saved: dict[str, str] = {}
    if artifacts is not None:
        folder = f"matching/{bundle.hash}/{context['context_hash']}"
        if ranker.trained:
            saved["ranker"] = artifacts.put_bytes(
                f"{folder}/ranker.json", ranker.to_json(), "application/json"
            )
        saved["context"] = artifacts.put_json(
            f"{folder}/context.json", {**context, "ranker": ranker.report.__dict__}
        )
    stats = {
        "artifacts": saved,
        "suggestions": len(results),
        "abstained": abstained,
        "ranker": ranker.report.reason,
        "ranker_decision": decision,
        "validation": validation,
        "rerank_pairs": scored.rerank_stats.pairs,
    }
    with db.connect() as conn, conn.transaction():
        MatchRepository(conn).save(context, results, stats)
    report = MatchesReport(
        **common, context_hit=False, suggestions=len(results), abstained=abstained,
        rerank_calls=scored.rerank_stats.calls, rerank_pairs=scored.rerank_stats.pairs,
        rerank_seconds=round(scored.rerank_stats.seconds, 3), ranker=ranker.report.reason,
        ranker_decision=decision, validation=validation,
        seconds=round(time.perf_counter() - started, 2), artifacts=saved,
    )  # fmt: skip
    progress(f"match_results: {report.suggestions} suggestions, {abstained} songs with no good fit")
    return report


def validation_summary(ranker: LearnedRanker) -> dict:
    """What the person's validation songs chose, with the figures behind it (JSON-safe; a
    figure that could not be measured is left out)."""
    report, chosen = ranker.report, ranker.chosen
    out = {
        "ranker_serves": ranker.serves,
        "ranker_blend": chosen.ranker_blend,
        **{name: getattr(chosen, name) for name in CHECKED_WEIGHTS},
        "validation_memberships": report.validation_memberships,
        "validation_mrr": report.validation_mrr,
        "validation_mrr_stage1": report.validation_mrr_stage1,
        "blend_mrr": report.blend_mrr,
        "renormalize_missing": chosen.renormalize_missing,
        "variants": report.variants or None,
        "variant_note": report.variant_note or None,
        "type_weights": {t: list(w) for t, w in chosen.type_weights.items()},
        "type_weights_learned": report.type_weights or None,
        "abstain_threshold": chosen.abstain_below,
        "abstain_max_rank": chosen.abstain_max_rank,
        "abstain_fitted": report.abstain_pairs > 0,
        "abstain_precision": report.abstain_precision,
        "abstain_recall": report.abstain_recall,
        "abstain_pairs": report.abstain_pairs,
    }
    return {key: value for key, value in out.items() if value is not None}


def result_rows(
    world: PlaylistWorld,
    songs,
    songs_frame: pd.DataFrame,
    scored: Scored,
    ranker: LearnedRanker,
    config: MatchConfig,
) -> pd.DataFrame:
    """Each song's top-N playlists and each playlist's top-K songs, with contributions."""
    final = scored.final
    s_idx = top_indices(final, config.top_n, axis=1)
    song_rank = {(s, int(p)): r + 1 for s in range(len(songs)) for r, p in enumerate(s_idx[s])}
    p_idx = top_indices(final, config.top_k, axis=0)
    playlist_rank = {
        (int(s), p): r + 1 for p in range(final.shape[1]) for r, s in enumerate(p_idx[:, p])
    }
    pairs = sorted(k for k in set(song_rank) | set(playlist_rank) if np.isfinite(final[k[0], k[1]]))
    if not pairs:
        return pd.DataFrame()
    rows = np.array([s for s, _ in pairs])
    cols = np.array([p for _, p in pairs])
    st1 = scored.stage1
    parts = {name: st1.parts[name] for name in PARTS}
    lift = {name: parts[name][rows, cols] - parts[name][rows].mean(axis=1) for name in PARTS}
    shap = None
    if ranker.serves:  # its SHAP contributions explain a score only when it served
        shap = ranker.contributions(ranker.features(st1, world.profiles, rows, cols))[:, :-1]
    prof = world.profiles
    mean, spread = prof.audio_mean, prof.spread
    genre_dist = prof.genre_dist
    names = world.playlists.playlists["name"].tolist()
    has_colisten = songs.has_colisten
    colistening = bool(world.tracks.has_colisten.any())  # the person has a model
    records = []
    for i, (s, p) in enumerate(pairs):
        genre_code = songs.genre[s]
        contributions = {name: round(float(parts[name][s, p]), 4) for name in PARTS}
        contributions["stage1"] = round(float(st1.score[s, p]), 4)
        for key, matrix in (("ranker", scored.ranker), ("cross_encoder", scored.rerank)):
            if np.isfinite(matrix[s, p]):
                contributions[key] = round(float(matrix[s, p]), 4)
        if shap is not None:
            top = np.argsort(-np.abs(shap[i]))[:3]
            contributions["ranker_top"] = {FEATURES[j]: round(float(shap[i, j]), 3) for j in top}
        measured = bool(np.isfinite(songs.features[s]).any())
        reasons = reason_text(
            names[p],
            {name: float(lift[name][i]) for name in PARTS},
            float(st1.signals["sem_centroid"][s, p]),
            float(st1.signals["sem_name"][s, p]),
            []
            if prof.fallback[p] or not measured
            else closest_features(
                songs.features[s], mean[p], spread[p], prof.global_mean, prof.global_std
            ),
            songs_frame["top_bucket"].iloc[s] if measured else None,
            songs.genres[genre_code] if genre_code >= 0 else None,
            float(genre_dist[p, genre_code]) if genre_code >= 0 and genre_dist.size else 0.0,
            played_with=_played_with(world, songs, s, p),
            no_colistening=colistening and not has_colisten[s],
            artist_traits=_artist_traits(songs, s, measured),
        )
        score = float(final[s, p])
        records.append(
            {
                "track_id": songs.track_ids[s],
                "playlist_id": world.playlist_ids[p],
                "song_rank": song_rank.get((s, p)),
                "playlist_rank": playlist_rank.get((s, p)),
                "score": score,
                "confidence": float(scored.confidence[s, p]),
                "fits": bool(scored.fits[s, p]),
                "stage1": float(st1.score[s, p]),
                "ranker": _finite(scored.ranker[s, p]),
                "rerank": _finite(scored.rerank[s, p]),
                "contributions": contributions,
                "reasons": reasons,
            }
        )
    frame = pd.DataFrame.from_records(records)
    for column in ("song_rank", "playlist_rank"):
        frame[column] = frame[column].astype("Int64")
    return frame


COLISTEN_CLOSE = 0.5  # cosine at which a member counts as "played with" the song


def _played_with(world: PlaylistWorld, songs, s: int, p: int) -> int:
    """How many of playlist p's songs sit close to song s in the person's co-listening."""
    if not songs.colisten.shape[1] or not np.isfinite(songs.colisten[s]).all():
        return 0
    members = world.tracks.colisten[world.members[p]]
    members = members[np.isfinite(members).all(axis=1)]
    return int((members @ songs.colisten[s] >= COLISTEN_CLOSE).sum()) if len(members) else 0


def _refit_colistening(db: Database, person: str, world: PlaylistWorld):
    """The person's co-listening, learnable again without the ranker's validation songs (by
    the method their stored model chose); None when they have no model (catalog playlists,
    or nothing to learn from)."""
    if not world.tracks.has_colisten.any():
        return None
    with db.connect() as conn:
        report = ColisteningRepository(conn).report(person) or {}
        inputs = load_colistening_inputs(conn, person)
    return refitter(inputs, world.tracks.track_ids.tolist(), report.get("method", ""))


def _artist_traits(songs, s: int, measured: bool) -> list[str]:
    """Song s's artist's usual traits in words (lib/catalog/artists), only those the song
    lacks of its own: its artist's genres if it has no genre, sound if no features."""
    genres = songs.artist_genres[s]
    order = np.argsort(-genres, kind="stable")
    profile = ArtistProfile(
        key="", name="", songs=0, featured=0,
        genres=tuple(songs.artist_genre_names[g] for g in order if genres[g] > 0),
        features={f: float(v) for f, v in zip(ACOUSTIC_FEATURES, songs.artist_features[s],
                                              strict=True) if np.isfinite(v)},
    )  # fmt: skip
    return describe_artist(profile, genres=songs.genre[s] < 0, sound=not measured)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
