"""What a retrain records about its inputs."""

import numpy as np
import pandas as pd


def test_a_retrain_records_its_features_and_says_when_they_changed():
    """Features are shared per song across people: another person's import can change the
    values this person's moods are fitted on. A retrain records which features it used (by
    source, a fingerprint) and the next one says when they changed."""
    from spotify_assets.lib.listening.retrain import coverage, feature_change

    plays = pd.DataFrame({
        "play_key": ["a", "b", "c", "d"],
        "catalog_track_id": ["t1", "t1", None, None],
        "has_features": [True, True, True, False],
        "feature_source": ["catalog", "catalog", "imported", None],
        "energy": [0.5, 0.5, 0.2, np.nan],
        "valence": [0.1, 0.1, 0.9, np.nan],
    })  # fmt: skip
    before = coverage(plays)
    assert before["features_by_source"] == {"catalog": 2, "imported": 1}
    assert before["songs_with_features"] == 2  # t1 twice, and play c's own song
    assert feature_change(before, coverage(plays.copy())) is None
    assert feature_change(None, before) is None  # a first retrain: nothing to compare
    changed = plays.copy()
    changed.loc[changed["catalog_track_id"] == "t1", "energy"] = 0.9  # someone's CSV import
    note = feature_change(before, coverage(changed))
    assert note and "audio features changed" in note and "catalog 2 → 2" in note
    more = plays.copy()
    more.loc[3, ["has_features", "feature_source", "energy", "valence"]] = [True, "imported", 0.4, 0.4]
    note = feature_change(before, coverage(more))
    assert "plays with features 3 → 4" in note and "imported 1 → 2" in note
