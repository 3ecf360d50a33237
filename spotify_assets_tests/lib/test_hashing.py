import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from spotify_assets.lib import versions
from spotify_assets.lib.analyses.describe import content_hash
from spotify_assets.lib.hashing import canonical_json, stable_hash, stable_hash_frame
from spotify_assets.lib.sample import generate_tracks

PAYLOAD = {"b": [1, 2.5, None], "a": {"y": "ü", "x": True}, "c": 3.0}


def test_key_order_does_not_matter():
    reordered = {"c": 3.0, "a": {"x": True, "y": "ü"}, "b": [1, 2.5, None]}
    assert stable_hash("te", PAYLOAD) == stable_hash("te", reordered)


def test_value_changes_change_the_hash():
    assert stable_hash("te", PAYLOAD) != stable_hash("te", {**PAYLOAD, "c": 3.5})
    assert stable_hash("te", PAYLOAD) != stable_hash("tr", PAYLOAD)


def test_format_is_versioned_prefix_and_sha256():
    digest = stable_hash("te", PAYLOAD)
    prefix, hexdigest = digest.rsplit("_", 1)
    assert prefix == f"te_v{versions.HASH_SCHEME_VERSION}"
    assert len(hexdigest) == 64 and int(hexdigest, 16) >= 0


def test_numbers_have_one_spelling():
    assert (
        canonical_json({"x": 3.0}) == canonical_json({"x": 3}) == canonical_json({"x": np.int64(3)})
    )
    assert canonical_json({"x": float("nan")}) == canonical_json({"x": None})
    assert canonical_json({"x": np.float64(0.25)}) == '{"x":0.25}'
    with pytest.raises(ValueError):
        canonical_json({"x": math.inf})


def test_stable_across_processes_and_hash_seeds():
    code = (
        "import json,sys; from spotify_assets.lib.hashing import stable_hash; "
        "print(stable_hash('te', json.loads(sys.argv[1])))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, json.dumps(PAYLOAD)],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {stable_hash("te", json.loads(json.dumps(PAYLOAD)))}


def test_frame_hashing_matches_row_by_row():
    frame = pd.DataFrame(
        {
            "s": pd.Series(["a", None, 'q"uote', "back\\slash", "tab\there", "ü", ""], dtype="str"),
            "f": [0.1, 3.0, np.nan, 1e-05, -4.5, 1e20, 0.30000000000000004],
            "i": pd.Series([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
            "b": pd.Series([True, None, False, True, True, False, None], dtype=object),
            "l": [["a", "b"], [], ['x"'], ["ü"], ["\n"], ["a"], []],
        }
    )
    fast = stable_hash_frame("tr", frame, {"schema": 1})
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    slow = [stable_hash("tr", {"schema": 1, **row}) for row in rows]
    assert fast == slow
    assert len(set(fast)) == len(fast)


def test_bumping_extractor_version_changes_every_content_hash(monkeypatch):
    tracks = generate_tracks(n_tracks=200).rename(columns={"track_name": "name"})
    records = tracks.to_dict("records")
    before = [content_hash(r) for r in records]
    monkeypatch.setattr(versions, "EXTRACTOR_VERSION", versions.EXTRACTOR_VERSION + 1)
    after = [content_hash(r) for r in records]
    assert all(b != a for b, a in zip(before, after, strict=True))
    assert len(set(before)) == len(before)
