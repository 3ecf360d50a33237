"""Embedding throughput: a naive encode loop vs the project's local backend, same texts, one run.

(a) `SentenceTransformer.encode` called on consecutive batches of 32, fp32 — what a first
    version of the pipeline would do;
(b) the project's `SentenceEmbedder` (dedupe identical texts, one length-sorted pass, bf16
    autocast when the CPU has native bf16 and a calibration batch keeps cosine ≥ 0.999).
Prints texts/s for both, the ratio, and the min cosine between the two outputs.

    .venv/bin/python benchmarks/embed.py [--texts 5000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spotify_assets.lib.analyses.describe import analyze
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.catalog.formats import detect_format
from spotify_assets.lib.catalog.reader import read_table
from spotify_assets.lib.catalog.validate import validate
from spotify_assets.lib.models.embedder import SentenceEmbedder, cpu_supports_bf16
from spotify_assets.lib.models.resolve import resolve_model_dir
from spotify_assets.lib.sample import generate_tracks

TIDY = Path(__file__).resolve().parents[2] / "shared/data/tidytuesday/spotify_songs.parquet"


def descriptions(n: int) -> tuple[list[str], str]:
    """Real TidyTuesday tracks when ../shared/data is there, else the generated sample."""
    if TIDY.exists():
        table = read_table(TIDY)
        tracks = validate(table, detect_format(table.frame.columns), "-").tracks.head(n)
        source = "TidyTuesday spotify_songs"
    else:
        tracks = generate_tracks(n).rename(columns={"track_name": "name"})
        tracks["artists"] = tracks["artists"].map(lambda a: a.strip('[]"').split('", "'))
        source = "generated sample"
    records = tracks.astype(object).where(pd.notna(tracks), None).to_dict("records")
    return [analyze(r).description for r in records], source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    spec = load_bundles().by_name("minilm-offline").embedding
    texts, source = descriptions(args.texts)
    print(
        f"{len(texts)} descriptions from {source}, mean {np.mean([len(t) for t in texts]):.0f} chars"
    )
    print(f"CPU has native bf16 (avx512_bf16/amx_bf16): {cpu_supports_bf16()}")

    naive_model = SentenceTransformer(str(resolve_model_dir(spec.model, spec.source)), device="cpu")
    started = time.perf_counter()
    naive = np.concatenate(
        [naive_model.encode(texts[i : i + 32], batch_size=32) for i in range(0, len(texts), 32)]
    )
    naive_s = time.perf_counter() - started
    naive /= np.linalg.norm(naive, axis=1, keepdims=True)

    embedder = SentenceEmbedder(spec, device="cpu", precision="auto", batch_size=64)
    started = time.perf_counter()
    ours = embedder.embed(texts)
    ours_s = time.perf_counter() - started

    cosine = (naive * ours).sum(axis=1)
    print(f"(a) naive encode loop, batch 32, fp32: {len(texts) / naive_s:8.1f} texts/s")
    print(
        f"(b) project local backend ({embedder.precision}):     {len(texts) / ours_s:8.1f} texts/s"
    )
    print(f"ratio (b)/(a): {naive_s / ours_s:.2f}x   min cosine (a) vs (b): {cosine.min():.6f}")
    if embedder.calibration_cosine is not None:
        print(f"bf16 calibration min cosine: {embedder.calibration_cosine:.6f}")


if __name__ == "__main__":
    main()
