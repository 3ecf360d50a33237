"""Offline evaluation of matching: hide a quarter of each playlist and try to put it back.

Seeded and reproducible. Playlists with at least MIN_EVAL_MEMBERS members lose 25% of them;
profiles and the learned ranker are rebuilt from the rest. Two views, each overall and
within the true playlist's subgenre (where playlists have one):
- per held-out song: the filtered rank of its true playlist among all playlists (other true
  playlists and the song's remaining playlists do not compete) → MRR, Recall@1, Recall@5;
- per playlist: its held-out members among N sampled non-members → NDCG@10, Recall@10.
Every system is scored in the same run on the same split: the baselines (most-populous
playlist, genre rule, audio-only nearest centroid), stage 1 as configured, stage 1 + learned
ranker always on (`ranker`), what ships after the validation gate (`shipped`: the chosen
stage-1 weights, blend, or stage 1), and + cross-encoder when the bundle has one. `abstain/*`:
precision and recall of "fits" on the held-out songs at the fitted threshold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from spotify_assets.lib.colistening.fit import fit_colistening, refitter
from spotify_assets.lib.colistening.inputs import ColisteningInputs
from spotify_assets.lib.errors import InputError
from spotify_assets.lib.matching.config import MatchConfig
from spotify_assets.lib.matching.ranker import (
    BELOW,
    CHECKED_WEIGHTS,
    LearnedRanker,
    serve_blend,
    within_rank,
)
from spotify_assets.lib.matching.score import Reranker
from spotify_assets.lib.matching.signals import stage1, top_indices
from spotify_assets.lib.metrics import PLAYLIST_NEGATIVES, ndcg_at_k, recall_at_k
from spotify_assets.lib.playlists.profiles import Profiles, TrackArrays, build_profiles

MIN_EVAL_MEMBERS = 8
HOLDOUT = 0.25
K = 10


@dataclass
class EvalInputs:
    tracks: TrackArrays
    playlist_ids: list[str]
    names: list[str]
    descriptions: list[str]
    subgenres: list[str | None]  # the playlist's own subgenre label, if any
    members: list[np.ndarray]  # rows of `tracks`, in playlist order
    name_vectors: np.ndarray
    song_texts: Sequence[str] | None = None  # for the cross-encoder
    # the person's playlists, liked songs and sessions: co-listening vectors are fitted on
    # them per split, without the held-out memberships (None: no co-listening)
    colistening: ColisteningInputs | None = None
    # rows of `tracks` a playlist's sampled non-members come from (None: any track); a view
    # of featured songs samples them from featured songs, so both sides are alike
    negative_pool: np.ndarray | None = None

    @classmethod
    def from_world(
        cls, world, members: list[np.ndarray] | None = None, with_texts: bool = False,
        colistening: ColisteningInputs | None = None, negative_pool: np.ndarray | None = None,
    ) -> EvalInputs:  # fmt: skip
        """The harness's inputs from a loaded playlists world (lib/playlists/world.py);
        `members` replaces the world's (a view of them), `with_texts` adds the songs'
        descriptions for the cross-encoder."""
        frame = world.playlists.playlists
        return cls(
            world.tracks, world.playlist_ids, frame["name"].tolist(),
            frame["description"].tolist(), frame["subgenre"].tolist(),
            world.members if members is None else members, world.profiles.name_vectors,
            world.texts["description"].tolist() if with_texts else None,
            colistening, negative_pool,
        )  # fmt: skip


@dataclass
class EvalResult:
    metrics: dict[str, float]
    details: dict = field(default_factory=dict)
    # per held-out membership ("track_id playlist_id"), each system's reciprocal rank: the
    # paired items a comparison of two bundles on the same split bootstraps over
    held_out: list[str] = field(default_factory=list)
    reciprocal_ranks: dict[str, np.ndarray] = field(default_factory=dict)
    # per evaluated playlist (in `evaluated` order), each system's NDCG@10: paired items too
    playlist_ndcg: dict[str, np.ndarray] = field(default_factory=dict)
    evaluated: list[str] = field(default_factory=list)

    def table(self) -> list[dict]:
        """One row per system: the metrics, for logs and the closing report."""
        systems: dict[str, dict] = {}
        for key, value in self.metrics.items():
            if "/" in key:
                system, metric = key.split("/", 1)
                systems.setdefault(system, {"system": system})[metric] = value
        return list(systems.values())


def split(members: list[np.ndarray], seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(train, held out) per playlist; playlists under MIN_EVAL_MEMBERS keep everything."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for rows in members:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) < MIN_EVAL_MEMBERS:
            train.append(rows)
            held.append(rows[:0])
            continue
        n_out = max(1, round(HOLDOUT * len(rows)))
        out = rng.choice(len(rows), n_out, replace=False)
        mask = np.zeros(len(rows), dtype=bool)
        mask[out] = True
        train.append(rows[~mask])
        held.append(rows[mask])
    return train, held


def _pairs(members: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    rows = np.concatenate([m for m in members]) if members else np.zeros(0, dtype=np.int64)
    cols = np.repeat(np.arange(len(members)), [len(m) for m in members])
    return rows.astype(np.int64), cols


def evaluate_matching(
    inputs: EvalInputs,
    config: MatchConfig,
    reranker: Reranker | None = None,
    profile_texts: Callable[[Profiles], list[str]] | None = None,
    seed: int = 42,
    negatives: int = PLAYLIST_NEGATIVES,
    log: Callable[[str], None] = lambda _: None,
) -> EvalResult:
    started = time.perf_counter()
    tracks, n_p = inputs.tracks, len(inputs.playlist_ids)
    train, held = split(inputs.members, seed)
    colistening_report, refit = None, None
    if inputs.colistening is not None and not inputs.colistening.empty:
        # fitted without the held-out memberships: they must not teach where they belong
        held_sets = {pid: set(tracks.track_ids[h].tolist())
                     for pid, h in zip(inputs.playlist_ids, held, strict=True)}  # fmt: skip
        source = inputs.colistening.without(held_sets)
        model = fit_colistening(source.playlists, source.liked, source.sessions, seed=seed)
        tracks = tracks.with_colisten(model.for_tracks(tracks.track_ids.tolist()))
        colistening_report = model.report
        refit = refitter(source, tracks.track_ids.tolist(), model.method, seed)
        log(f"evaluation: co-listening by {model.method} for {int(tracks.has_colisten.sum())} "
            f"of {len(tracks)} songs")  # fmt: skip
    profiles = build_profiles(
        tracks, inputs.playlist_ids, inputs.names, inputs.descriptions, train, inputs.name_vectors
    )
    train_rows, train_cols = _pairs(train)
    held_rows, held_cols = _pairs(held)
    if not len(held_rows):
        raise InputError(
            f"nothing to evaluate: no playlist has {MIN_EVAL_MEMBERS} or more members; load "
            "playlists with more songs"
        )
    ranker = LearnedRanker(config)
    ranker_report = ranker.fit(tracks, profiles, train_rows, train_cols, refit)
    log(f"evaluation: {n_p} playlists, {len(held_rows)} held-out memberships; ranker "
        f"{ranker_report.reason} ({ranker_report.pairs} pairs)")  # fmt: skip

    # the songs to score: held-out songs plus each evaluated playlist's sampled non-members
    rng = np.random.default_rng(seed + 1)
    member_sets = [set(m.tolist()) for m in inputs.members]
    sub_codes = _playlist_subgenre_codes(inputs)
    per_playlist: dict[int, dict[str, np.ndarray]] = {}
    for p in np.unique(held_cols):
        entry = {"pos": held[p]}
        for view, pool in (
            ("overall", inputs.negative_pool),
            (
                "subgenre",
                np.nonzero(tracks.subgenre == sub_codes[p])[0] if sub_codes[p] >= 0 else None,
            ),
        ):
            if view == "subgenre" and pool is None:
                continue
            draw = rng.choice(
                len(tracks) if pool is None else pool,
                size=min(negatives * 3, len(tracks) if pool is None else len(pool)),
                replace=False,
            )
            draw = np.array(
                [t for t in draw if t not in member_sets[p]][:negatives], dtype=np.int64
            )
            entry[view] = draw
        per_playlist[int(p)] = entry  # fmt: skip
    wanted = [held_rows] + [a for e in per_playlist.values() for a in e.values()]
    song_rows = np.unique(np.concatenate(wanted))
    local = np.full(len(tracks), -1)
    local[song_rows] = np.arange(len(song_rows))
    songs = tracks.take(song_rows)

    exclude = np.zeros((len(songs), n_p), dtype=bool)  # the song's remaining (training) playlists
    keep = local[train_rows] >= 0
    exclude[local[train_rows[keep]], train_cols[keep]] = True
    configured = stage1(songs, profiles, config, members=exclude)
    chosen = ranker.chosen  # the stage-1 weights, blend and threshold validation chose
    st1 = stage1(songs, profiles, chosen, members=exclude)
    log(f"evaluation: stage 1 for {len(songs)} songs × {n_p} playlists")

    # stage 2 pairs: each song's shortlist plus every per-playlist candidate pair
    masked = np.where(exclude, -np.inf, st1.score)
    short = np.zeros(st1.score.shape, dtype=bool)
    short[np.arange(len(songs))[:, None], top_indices(masked, config.rerank_depth)] = True
    for p, entry in per_playlist.items():
        for candidates in entry.values():
            short[local[candidates], p] = True
    short &= ~exclude
    rows, cols = np.nonzero(short)
    # stage1: as configured; ranker: always on, at the configured blend (ungated); shipped:
    # what serves (the chosen weights, and the ranker at the chosen blend when it serves)
    systems: dict[str, np.ndarray] = {"stage1": configured.score.astype(np.float64)}
    shipped = st1.score.astype(np.float64)
    if ranker.trained:
        prob = ranker.predict(ranker.features(st1, profiles, rows, cols))
        for name, blend in (("ranker", config.ranker_blend), ("shipped", chosen.ranker_blend)):
            if name == "shipped" and not ranker.serves:
                continue
            full = st1.score - BELOW
            full[rows, cols] = serve_blend(st1.score[rows, cols], prob, blend, rows,
                                           chosen.ranker_keeps_scale)  # fmt: skip
            systems[name] = full
    systems.setdefault("shipped", shipped)
    if reranker is not None and inputs.song_texts is not None and profile_texts is not None:
        texts = profile_texts(profiles)
        pairs = [
            (texts[c], inputs.song_texts[song_rows[r]]) for r, c in zip(rows, cols, strict=True)
        ]
        t0 = time.perf_counter()
        ce = np.asarray(reranker.score(pairs), dtype=np.float64)
        base = systems["shipped"].copy()
        base[rows, cols] = (1 - config.rerank_blend) * base[rows, cols] + config.rerank_blend * ce
        systems["cross_encoder"] = base
        log(
            f"evaluation: cross-encoder scored {len(pairs)} pairs in {time.perf_counter() - t0:.1f}s"
        )
    baselines = _baselines(songs, profiles, st1)
    if not np.isfinite(st1.signals["colisten"]).any():
        baselines.pop("baseline_co_listening")
    all_systems = {**baselines, **systems}

    # tiny seeded noise breaks ties at random instead of by playlist order
    noise = np.random.default_rng(seed + 2).random(st1.score.shape) * 1e-9
    metrics: dict[str, float] = {}
    reciprocal: dict[str, np.ndarray] = {}
    playlist_ndcg: dict[str, np.ndarray] = {}
    held_local = local[held_rows]
    true = np.zeros(st1.score.shape, dtype=bool)
    true[held_local, held_cols] = True
    for name, scores in all_systems.items():
        scores = np.where(exclude, -np.inf, scores + noise)
        metrics.update(_song_metrics(name, scores, held_local, held_cols, true, sub_codes))
        reciprocal[name] = 1.0 / np.concatenate([
            _filtered_ranks(scores, held_local[i:i + 4096], held_cols[i:i + 4096], true)
            for i in range(0, len(held_local), 4096)
        ])  # fmt: skip
        per = _playlist_metrics(name, scores, per_playlist, local)
        playlist_ndcg[name] = np.asarray(per.pop(f"{name}/ndcg@10/each"))
        metrics.update(per)
    metrics.update(_abstain_metrics(systems["shipped"], st1.score, ranker, exclude, true,
                                    held_local, chosen))  # fmt: skip
    # the ranker is scored whenever it trained; it is what ships only if it beat stage 1 on
    # the training playlists' own validation songs (LearnedRanker.serves)
    metrics["ranker_serves"] = float(ranker.serves)
    metrics["ranker_blend"] = float(chosen.ranker_blend)
    for name in CHECKED_WEIGHTS:
        metrics[name] = float(getattr(chosen, name))
    metrics["held_out_memberships"] = float(len(held_rows))
    metrics["evaluated_playlists"] = float(len(per_playlist))
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    details = {
        "seed": seed,
        "negatives": negatives,
        "config_hash": config.hash,
        "ranker": ranker_report.__dict__,
        "songs_scored": len(songs),
        "playlists": n_p,
        "colistening": colistening_report,
    }
    held_out = [
        f"{tracks.track_ids[r]} {inputs.playlist_ids[c]}"
        for r, c in zip(held_rows, held_cols, strict=True)
    ]
    evaluated = [inputs.playlist_ids[p] for p in per_playlist]
    return EvalResult(metrics, details, held_out, reciprocal, playlist_ndcg, evaluated)


def final_system(metrics: dict[str, float]) -> str:
    """What serves: the cross-encoder when the bundle has one, else what the validation gate
    shipped (the ranker at the chosen blend, or stage 1 with the chosen weights)."""
    serves = metrics.get("ranker_serves", 1.0) > 0
    for system in ("cross_encoder", "shipped", "ranker", "stage1"):
        if f"{system}/ndcg@10" in metrics and (system != "ranker" or serves):
            return system
    raise ValueError("no matching system was evaluated")


def _abstain_metrics(shipped, stage1_score, ranker, exclude, true, held_local, chosen) -> dict:
    """Precision and recall of "fits" on the held-out songs: their held-out memberships vs
    each one's best `top_n` other playlists as shipped (what a person would be shown), at the
    threshold served (`abstain/...`) and at the one fitted on validation pairs
    (`abstain_fitted/...`, when there were enough); per pair, and per song (`song_precision`:
    of the songs shown as fitting somewhere, the first fitting playlist is one of theirs;
    `song_recall`: of all held-out songs)."""
    songs = np.unique(held_local)
    served = np.where(exclude[songs], -np.inf, shipped[songs])
    truth = true[songs]
    top = top_indices(np.where(truth, -np.inf, served), chosen.top_n)
    shown = np.zeros(truth.shape, dtype=bool)
    shown[np.arange(len(songs))[:, None], top] = True
    shown &= np.isfinite(served) & ~truth
    floor_ok = np.ones(truth.shape, dtype=bool)
    if ranker.floors is not None:
        floor_ok = stage1_score[songs] >= ranker.floors[None, :]
    out = {}
    thresholds = {"abstain": (chosen.abstain_below, chosen.abstain_max_rank)}
    if ranker.report.abstain_pairs:
        thresholds["abstain_fitted"] = (ranker.report.abstain_threshold,
                                        ranker.report.abstain_max_rank)  # fmt: skip
    for key, (threshold, max_rank) in thresholds.items():
        fits = (served >= threshold) & floor_ok & within_rank(served, max_rank)
        tp, fp = int((fits & truth).sum()), int((fits & shown).sum())
        out[f"{key}/threshold"] = float(threshold)
        out[f"{key}/max_rank"] = int(max_rank)
        out[f"{key}/precision"] = tp / (tp + fp) if tp + fp else float("nan")
        out[f"{key}/recall"] = tp / max(int(truth.sum()), 1)
        # per song, as a person sees it: the first playlist shown as fitting is right
        first = np.where(fits, served, -np.inf).argmax(axis=1)
        any_fit = fits.any(axis=1)
        right = any_fit & truth[np.arange(len(songs)), first]
        out[f"{key}/song_precision"] = (
            float(right.sum() / any_fit.sum()) if any_fit.any() else float("nan")
        )
        out[f"{key}/song_recall"] = float(right.sum() / max(len(songs), 1))
    return out


def _playlist_subgenre_codes(inputs: EvalInputs) -> np.ndarray:
    lookup = {name: i for i, name in enumerate(inputs.tracks.subgenres)}
    return np.array([lookup.get(s, -1) if s else -1 for s in inputs.subgenres], dtype=np.int64)


def _baselines(songs: TrackArrays, profiles: Profiles, st1) -> dict[str, np.ndarray]:
    shape = st1.score.shape
    size = np.broadcast_to(profiles.count[None, :], shape).astype(np.float64)
    majority = profiles.genre_counts.argmax(axis=1) if profiles.genre_counts.size else None
    if majority is not None:
        same = (songs.genre[:, None] == majority[None, :]) & (songs.genre[:, None] >= 0)
    else:
        same = np.zeros(shape, dtype=bool)
    tie = 1e-6 * size / max(size.max(), 1)  # ties go to the bigger playlist
    return {
        "baseline_popular": size,
        "baseline_genre": same.astype(np.float64) + tie,
        "baseline_audio": st1.signals["acoustic"].astype(np.float64),
        # "put the song where its artist already is": the share of the playlist's members by
        # the song's primary artist, what a person would think of first
        "baseline_same_artist": np.nan_to_num(st1.signals["artist"].astype(np.float64)) + tie,
        # the person's co-listening alone: closeness to the members in what they put and
        # play together (unknown: below every known pair)
        "baseline_co_listening": np.nan_to_num(
            st1.signals["colisten"].astype(np.float64), nan=-2.0
        ) + tie,
    }


def _filtered_ranks(scores: np.ndarray, rows: np.ndarray, cols: np.ndarray, true: np.ndarray,
                    allowed: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """1 + number of competing playlists that beat the true one (other true ones excluded)."""
    target = scores[rows, cols][:, None]
    competing = ~true[rows]
    if allowed is not None:
        competing &= allowed
    return 1 + ((scores[rows] > target) & competing).sum(axis=1)


def _song_metrics(name, scores, rows, cols, true, sub_codes) -> dict[str, float]:
    out: dict[str, float] = {}
    views = [("", None)]
    if (sub_codes >= 0).any():
        views.append(("_subgenre", sub_codes[None, :] == sub_codes[cols][:, None]))
    for suffix, allowed in views:
        ok = np.ones(len(rows), dtype=bool) if allowed is None else sub_codes[cols] >= 0
        ranks = np.concatenate([
            _filtered_ranks(scores, rows[i:i + 4096], cols[i:i + 4096], true,
                            None if allowed is None else allowed[i:i + 4096])
            for i in range(0, len(rows), 4096)
        ])[ok]  # fmt: skip
        if not len(ranks):
            continue
        out[f"{name}/mrr{suffix}"] = float(np.mean(1.0 / ranks))
        out[f"{name}/recall@1{suffix}"] = float(np.mean(ranks <= 1))
        out[f"{name}/recall@5{suffix}"] = float(np.mean(ranks <= 5))
    return out


def _playlist_metrics(name, scores, per_playlist, local) -> dict[str, float]:
    """Per evaluated playlist: its held-out songs among its sampled non-members, ranked by
    `scores` → NDCG@10 and Recall@10 (lib/metrics.py), overall and within its subgenre."""
    sums: dict[str, list[float]] = {}
    for p, entry in per_playlist.items():
        pos = local[entry["pos"]]
        for view in ("overall", "subgenre"):
            if view not in entry:
                continue
            cand = np.concatenate([pos, local[entry[view]]])
            ranked = cand[np.argsort(-scores[cand, p], kind="stable")].tolist()
            relevant = set(pos.tolist())
            suffix = "" if view == "overall" else "_subgenre"
            sums.setdefault(f"{name}/ndcg@10{suffix}", []).append(ndcg_at_k(ranked, relevant, K))
            sums.setdefault(f"{name}/recall@10{suffix}", []).append(
                recall_at_k(ranked, relevant, K)
            )
    out: dict = {key: float(np.mean(values)) for key, values in sums.items() if values}
    out[f"{name}/ndcg@10/each"] = sums.get(f"{name}/ndcg@10", [])
    return out
