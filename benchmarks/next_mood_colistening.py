"""Does co-listening help predict the next mood? The neighbour rule beside repeating and the
successor memory, on each real listener's own test weeks.

For each person with plays in this home (benchmarks/library_matching.py imports E–H; the
history-only listeners B and D come from `spotify-assets listening import`): the retrain's
clustering and week boundaries, co-listening vectors learned from the playlists, liked songs and
the sessions *before the validation weeks* only, then per next-play transition the prediction
of repeat-last-mood, the successor memory, and the neighbour rule (lib/listening/neighbours.py:
what followed the song or the songs played with it before), each as a policy the gate could
serve (no model). Macro-F1 on the later validation days (what the gate would confirm on) and on
the test weeks, with the day-blocked bootstrap CI of the neighbour rule minus repeating.

    SPOTIFY_ASSETS_HOME=/tmp/bench .venv/bin/python benchmarks/next_mood_colistening.py
"""

from __future__ import annotations

import argparse

import numpy as np

from spotify_assets.lib.bootstrap import interval, resample
from spotify_assets.lib.colistening.fit import fit_colistening
from spotify_assets.lib.colistening.inputs import load_colistening_inputs
from spotify_assets.lib.listening.datasets import local_times, mood_dataset
from spotify_assets.lib.listening.evaluation import macro_f1
from spotify_assets.lib.listening.ingest import load_sessions, person_zone_of
from spotify_assets.lib.listening.models import time_split
from spotify_assets.lib.listening.mood_policy import (
    REPEAT,
    SUCCESSOR,
    rule_predictions,
    split_by_day,
)
from spotify_assets.lib.listening.moods import assign
from spotify_assets.lib.listening.neighbours import nearest, neighbour_successor
from spotify_assets.lib.listening.retrain import cluster_training_weeks
from spotify_assets.lib.store import Database, resolve_database_url
from spotify_assets.lib.store.people import PersonRepository

NEIGHBOUR = "colistening_neighbours"


def _gain(y: np.ndarray, new: np.ndarray, old: np.ndarray, days: np.ndarray, k: int) -> dict:
    """Macro-F1 of `new` minus `old` with its day-blocked bootstrap interval."""

    def diff(idx: np.ndarray) -> float:
        return macro_f1(y[idx], new[idx], k) - macro_f1(y[idx], old[idx], k)

    return interval(diff, resample(len(y), 500, 0, blocks=days)).to_dict()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="one person")
    args = parser.parse_args()
    db = Database(resolve_database_url())
    with db.connect() as conn:
        people = [args.only] if args.only else PersonRepository(conn).with_plays()
    for person in people:
        plays = load_sessions(db, person)
        if len(plays) < 2000:
            print(f"{person}: {len(plays)} plays; skipped")
            continue
        zone = person_zone_of(db, person).name
        clustering = cluster_training_weeks(plays)
        if not clustering.moods:
            print(f"{person}: no mood clustering ({clustering.reason}); skipped")
            continue
        b1, b2 = clustering.boundaries
        k = clustering.moods.k
        plays = plays.assign(cluster=assign(clustering.moods, plays))
        ordered = plays.sort_values(["person", "played_at"], kind="mergesort").reset_index(drop=True)
        data = mood_dataset(plays, k, tz=zone, keep_all=True)
        keys = ordered["catalog_track_id"].where(ordered["catalog_track_id"].notna(),
                                                 ordered["play_key"]).tolist()  # fmt: skip
        with db.connect() as conn:
            inputs = load_colistening_inputs(conn, person, until=b1)
        model = fit_colistening(inputs.playlists, inputs.liked, inputs.sessions, seed=7)
        songs = sorted({k_ for k_ in keys if k_ is not None})
        near = nearest(songs, model.for_tracks(songs))
        y_all = data["target"].to_numpy()
        rule = neighbour_successor(keys, y_all, near, k)
        keep = y_all >= 0
        data, rule = data[keep].reset_index(drop=True), rule[keep]
        split = time_split(data, boundaries=(b1, b2), target_time_col="target_at")
        y = data["target"].to_numpy(dtype=int)
        majority = int(np.bincount(y[split.train], minlength=k).argmax())
        rules = rule_predictions(data, majority)
        rules[NEIGHBOUR] = np.where(rule >= 0, rule, rules[REPEAT])
        days = local_times(data["played_at"], zone).dt.date.to_numpy()
        later = np.zeros(len(data), dtype=bool)
        later[np.flatnonzero(split.val)] = split_by_day(days[split.val])[1]
        covered = (rule >= 0).mean()
        print(f"\n{person}: {len(plays):,} plays, K={k}, {len(data):,} transitions; co-listening "
              f"{model.method} on plays before {b1.date()}: {len(near):,} songs with "
              f"neighbours; the rule has evidence for {covered:.0%} of transitions")  # fmt: skip
        print(f"    {'policy':<24}{'later validation':>18}{'test':>10}")
        for name in (REPEAT, SUCCESSOR, NEIGHBOUR):
            pred = rules[name]
            scores = [macro_f1(y[m], pred[m], k) if m.any() else float("nan")
                      for m in (later, split.test)]  # fmt: skip
            print(f"    {name:<24}{scores[0]:18.3f}{scores[1]:10.3f}")
        test = split.test
        if test.any():
            gain = _gain(y[test], rules[NEIGHBOUR][test], rules[REPEAT][test], days[test], k)
            print(f"    neighbours − repeat on the test weeks: {gain['value']:+.3f} "
                  f"[{gain['lo']:+.3f}, {gain['hi']:+.3f}] (day-blocked 95% CI)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
