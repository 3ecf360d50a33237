"""The blind suite's own rules: every intent is answerable from ground truth, in known classes,
with more than one way of asking."""

from spotify_assets.lib.search.suite import INTENTS
from spotify_assets.lib.search.suite_blind import BLIND_INTENTS

CLASSES = {
    "genre", "genre variant", "mood", "energy", "tempo", "loudness", "key/mode", "live",
    "speech", "acoustic/instrumental", "year", "combination",
}  # fmt: skip


def test_every_blind_intent_has_truth_a_known_class_and_several_phrasings():
    assert len(BLIND_INTENTS) >= 25
    for intent in BLIND_INTENTS:
        assert intent.truth or intent.genres, intent.phrasings
        assert intent.query_class in CLASSES, intent.query_class
        assert len(intent.phrasings) >= 2, intent.phrasings
        assert all(p.strip() == p and p for p in intent.phrasings)


def test_blind_phrasings_are_many_distinct_and_not_the_main_suites():
    phrasings = [p.lower() for i in BLIND_INTENTS for p in i.phrasings]
    assert len(phrasings) >= 60 and len(set(phrasings)) == len(phrasings)
    main = {p.lower() for i in INTENTS for p in i.phrasings}
    shared = set(phrasings) & main
    # written independently, common phrasings ("country songs") coincide; most must not
    assert len(shared) <= len(phrasings) // 4, sorted(shared)
