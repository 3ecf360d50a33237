"""Learn a person's co-listening vectors again when what they are learned from changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from spotify_assets.lib.colistening.fit import COLISTENING_VERSION, data_hash, fit_colistening
from spotify_assets.lib.colistening.inputs import load_colistening_inputs
from spotify_assets.lib.store.colistening import ColisteningRepository
from spotify_assets.lib.store.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColisteningUpdate:
    person: str
    model_hash: str
    reused: bool  # the same data as last time: nothing learned
    report: dict
    stored: int = 0  # vectors stored

    def line(self) -> str:
        report = self.report
        if report.get("method") == "none":
            return "no playlists, liked songs or plays to learn from yet"
        head = "unchanged, reused" if self.reused else f"learned in {report.get('seconds')} s"
        scores = ", ".join(
            f"{m} {v['validation_mrr']:.3f}" for m, v in (report.get("validation") or {}).items()
        )
        return (
            f"{head}: {report.get('method')} for {report.get('songs_with_vector', 0):,} of "
            f"{report.get('songs', 0):,} songs"
            + (f" (validation MRR {scores})" if scores else "")
        )


def update_colistening(db: Database, person: str, seed: int = 42) -> ColisteningUpdate:
    with db.connect() as conn:
        inputs = load_colistening_inputs(conn, person)
        current = ColisteningRepository(conn).current_hash(person)
        stored_report = ColisteningRepository(conn).report(person)
    model_hash = data_hash(inputs.playlists, inputs.liked, inputs.sessions) + f"-s{seed}"
    if current == model_hash and stored_report is not None:
        return ColisteningUpdate(person, model_hash, True, stored_report)
    if inputs.empty:
        return ColisteningUpdate(person, model_hash, False, {"method": "none"})
    model = fit_colistening(inputs.playlists, inputs.liked, inputs.sessions, seed=seed)
    report = {**model.report, "version": COLISTENING_VERSION}
    with db.connect() as conn, conn.transaction():
        stored = ColisteningRepository(conn).replace(
            person, model_hash, model.method, report, model.vocab, model.vectors
        )
    log.info("co-listening for %s: %s, %d vectors", person, model.method, stored)
    return ColisteningUpdate(person, model_hash, False, report, stored)
