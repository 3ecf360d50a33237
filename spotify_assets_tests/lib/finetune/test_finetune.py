"""Fine-tuning with a tiny test-built model: pairs, training, artifact key, bundle, gate."""

from __future__ import annotations

import numpy as np
import pytest

from spotify_assets.lib.artifacts import LocalArtifactStore
from spotify_assets.lib.bundles import load_bundles
from spotify_assets.lib.finetune.bundle import model_key, register, set_default
from spotify_assets.lib.finetune.gate import decide
from spotify_assets.lib.finetune.pairs import build_pairs, feature_phrase
from spotify_assets.lib.finetune.run import run_fine_tune
from spotify_assets.lib.finetune.train import TrainConfig
from spotify_assets.lib.matching.evaluation import split
from spotify_assets.lib.models.resolve import ModelNotAvailable, resolve_model_dir
from spotify_assets.lib.models.resolve import fetch_artifact_model as fetch
from spotify_assets_tests.tiny_models import write_bundles_file

GENRES = ["rock", "jazz", "pop"]


def _world(n_tracks: int = 60, n_playlists: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    texts = [
        f"song {i} {GENRES[i % 3]} guitar {'loud' if i % 2 else 'soft'}" for i in range(n_tracks)
    ]
    genres = [GENRES[i % 3] for i in range(n_tracks)]
    features = [
        {"energy": float(rng.random()), "valence": float(rng.random()), "tempo": 80.0 + i}
        for i in range(n_tracks)
    ]
    members = [np.arange(p, n_tracks, n_playlists) for p in range(n_playlists)]
    names = [f"list {p}" for p in range(n_playlists)]
    return names, [None, "for running", None, "late night"], members, texts, genres, features


@pytest.fixture
def tiny_bundle(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv("SPOTIFY_ASSETS_HOME", str(tmp_path / "home"))
    path = write_bundles_file(tmp_path / "bundles.yaml", tiny_model_dir, name="tiny", dims=32)
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(path))
    return load_bundles().by_name("tiny")


def test_pairs_leave_out_every_held_out_track_and_respect_the_cap():
    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, seed=7, max_pairs=40)
    _, held = split(members, 7)
    held_texts = {texts[int(r)] for h in held for r in h}
    assert held_texts and pairs.excluded == sum(len(h) for h in held)
    assert not held_texts & set(pairs.positives)
    assert len(pairs) == 40
    assert {"playlist", "feature"} == set(pairs.kinds)
    assert pairs.kinds.count("feature") == round(0.3 * 40)
    uncapped = build_pairs(names, descs, members, texts, genres, features, max_pairs=10_000)
    n_playlist = uncapped.kinds.count("playlist")
    assert n_playlist == sum(len(m) for m in split(members, 42)[0])  # every training pair
    assert uncapped.kinds.count("feature") == round(n_playlist * 0.3 / 0.7)
    # every playlist anchor names a playlist
    anchors = {a for a, k in zip(pairs.anchors, pairs.kinds, strict=True) if k == "playlist"}
    assert all(a.split(":")[0] in names for a in anchors)


def test_feature_phrase_words_the_clear_features_only():
    assert feature_phrase("rock", {"energy": 0.9, "valence": 0.1, "tempo": 150}) == (
        "energetic sad fast rock music"
    )
    assert feature_phrase(None, {"energy": 0.5, "tempo": float("nan")}) == "music"


def test_fine_tune_changes_weights_stores_the_model_and_gives_a_new_bundle(tmp_path, tiny_bundle):
    import torch
    from sentence_transformers import SentenceTransformer

    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, max_pairs=64)
    store = LocalArtifactStore(tmp_path / "artifacts")
    config = TrainConfig(batch_size=8, learning_rate=1e-3)
    result = run_fine_tune(tiny_bundle, pairs, store, config)
    assert result.report is not None and result.report.steps == len(pairs) // 8
    assert store.exists(result.key)
    assert result.bundle.hash != tiny_bundle.hash
    assert result.bundle.embedding.dims == tiny_bundle.embedding.dims

    tuned_dir = fetch(result.key, store, tmp_path / "cache")
    before = SentenceTransformer(str(resolve_model_dir("x", tiny_bundle.embedding.source)))
    after = SentenceTransformer(str(tuned_dir))
    changed = [
        not torch.equal(a, b)
        for a, b in zip(before.state_dict().values(), after.state_dict().values(), strict=True)
    ]
    assert any(changed)

    again = run_fine_tune(tiny_bundle, pairs, store, config)
    assert again.report is None and again.key == result.key  # stored: nothing retrained


def test_artifact_key_follows_training_data_and_config(tiny_bundle):
    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, max_pairs=30)
    fewer = build_pairs(names, descs, members, texts, genres, features, max_pairs=20)
    config = TrainConfig()
    key = model_key(tiny_bundle, pairs, config)
    assert key == model_key(tiny_bundle, pairs, TrainConfig())
    assert key != model_key(tiny_bundle, fewer, config)
    assert key != model_key(tiny_bundle, pairs, TrainConfig(learning_rate=1e-4))


def test_learned_bundle_is_loaded_and_promotion_is_one_setting(tmp_path, tiny_bundle):
    from spotify_assets.lib.finetune.bundle import fine_tuned_bundle

    tuned = fine_tuned_bundle(tiny_bundle, "models/fine_tuned/ft_v1_abcdef0123456789.tar")
    assert register(tuned) and not register(tuned)
    catalog = load_bundles()
    assert catalog.by_hash(tuned.hash).embedding.source == tuned.embedding.source
    assert catalog.default == "minilm-offline"
    set_default(tuned.name)
    assert load_bundles().default == tuned.name
    set_default(None)
    assert load_bundles().default == "minilm-offline"
    assert tiny_bundle.hash in {b.hash for b in load_bundles().bundles.values()}


def test_a_missing_artifact_names_the_remedy(tmp_path, tiny_bundle):
    with pytest.raises(ModelNotAvailable, match="materialize `fine_tuned_model`"):
        resolve_model_dir("x", "artifact://models/fine_tuned/ft_v1_missing.tar")


def test_gate_keeps_the_base_without_a_clear_improvement():
    rng = np.random.default_rng(0)
    base = rng.random(200)
    same = decide({"matching": (base, base + rng.normal(0, 0.01, 200)), "search": (base, base)})
    assert not same.promote and same.reason.startswith("base kept")
    better = decide({"matching": (base, base + 0.1), "search": (base, base + 0.05)})
    assert better.promote
    one_suite = decide({"matching": (base, base + 0.1), "search": (base, base - 0.05)})
    assert not one_suite.promote and "search" in one_suite.reason


def test_a_promotion_makes_the_tuned_bundle_active_and_one_change_switches_back(tiny_bundle):
    from spotify_assets.lib.finetune.bundle import fine_tuned_bundle
    from spotify_assets.lib.finetune.promotion import apply

    tuned = fine_tuned_bundle(tiny_bundle, "models/fine_tuned/ft_v1_0123456789abcdef.tar")
    register(tuned)
    base = np.linspace(0, 0.5, 50)
    assert apply(decide({"m": (base, base), "s": (base, base)}), tuned) is None
    assert load_bundles().default == "minilm-offline"
    assert apply(decide({"m": (base, base + 0.2), "s": (base, base + 0.2)}), tuned) == tuned.name
    assert load_bundles().default_bundle.hash == tuned.hash
    set_default(None)  # switching back
    catalog = load_bundles()
    assert catalog.default == "minilm-offline" and catalog.by_hash(tuned.hash).name == tuned.name


class ModalStandIn:
    """In-process stand-in for the deployed `fine_tune_model` Function: Modal's `.remote(**kw)`
    surface, running the same `train_packed` the container runs; the Hub id it is sent
    resolves to the tiny model, as the container's volume would hold it."""

    def __init__(self, model_dir, answer=None):
        self.model_dir = model_dir
        self.answer = answer
        self.calls = []

    def remote(self, model, anchors, positives, config):
        from spotify_assets.lib.finetune.remote import train_packed

        self.calls.append({"model": model, "pairs": len(anchors), "config": config})
        if self.answer is not None:
            return self.answer(model, anchors, positives, config)
        return train_packed(str(self.model_dir), anchors, positives, config, device="cpu")


def test_the_modal_path_trains_the_same_loop_and_stores_what_the_local_one_would(
    tmp_path, tiny_bundle, tiny_model_dir
):
    from sentence_transformers import SentenceTransformer

    from spotify_assets.lib.finetune.remote import RemoteTrainer

    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, max_pairs=48)
    store = LocalArtifactStore(tmp_path / "artifacts")
    config = TrainConfig(batch_size=8, learning_rate=1e-3)
    modal = ModalStandIn(tiny_model_dir)
    result = run_fine_tune(tiny_bundle, pairs, store, config, trainer=RemoteTrainer(modal))
    [call] = modal.calls
    n = len(pairs)
    assert call == {"model": tiny_bundle.embedding.model, "pairs": n, "config": config.payload()}
    assert result.report.steps == n // 8 and result.report.pairs == n
    assert result.key == model_key(tiny_bundle, pairs, config)  # the same key as a local run
    model = SentenceTransformer(str(fetch(result.key, store, tmp_path / "cache")))
    assert model.encode(["a song"]).shape == (1, 32)
    # stored: a second run, local or remote, trains nothing
    assert run_fine_tune(tiny_bundle, pairs, store, config).report is None


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda *a: (_ for _ in ()).throw(RuntimeError("CUDA out of memory")),
         "'fine_tune_model' failed: RuntimeError: CUDA out of memory"),
        (lambda *a: b"not a tar", "returned bytes, expected (model tar bytes, report)"),
        (lambda *a: (b"not a tar", {}), "unusable answer: not a packed model"),
        (lambda *a: "model", "returned str, expected (model tar bytes, report)"),
    ],
    ids=["remote error", "bare bytes", "junk bytes", "wrong type"],
)  # fmt: skip
def test_a_bad_modal_answer_is_a_clear_error_and_nothing_is_stored(
    tmp_path, tiny_bundle, tiny_model_dir, answer, message
):
    from spotify_assets.lib.finetune.remote import RemoteFineTuneError, RemoteTrainer

    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, max_pairs=16)
    store = LocalArtifactStore(tmp_path / "artifacts")
    trainer = RemoteTrainer(ModalStandIn(tiny_model_dir, answer))
    with pytest.raises(RemoteFineTuneError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_fine_tune(tiny_bundle, pairs, store, TrainConfig(batch_size=8), trainer=trainer)
    assert not store.exists(model_key(tiny_bundle, pairs, TrainConfig(batch_size=8)))


def test_a_model_trained_on_other_pairs_than_sent_is_refused(tmp_path, tiny_bundle, tiny_model_dir):
    from spotify_assets.lib.finetune.remote import RemoteFineTuneError, RemoteTrainer, train_packed

    def fewer(model, anchors, positives, config):
        return train_packed(str(tiny_model_dir), anchors[:8], positives[:8], config, "cpu")

    names, descs, members, texts, genres, features = _world()
    pairs = build_pairs(names, descs, members, texts, genres, features, max_pairs=16)
    trainer = RemoteTrainer(ModalStandIn(tiny_model_dir, fewer))
    with pytest.raises(RemoteFineTuneError, match=f"trained on 8 pairs, {len(pairs)} were sent"):
        run_fine_tune(tiny_bundle, pairs, LocalArtifactStore(tmp_path / "a"),
                      TrainConfig(batch_size=8), trainer=trainer)  # fmt: skip


def test_the_compute_resource_picks_the_trainer(monkeypatch, tiny_model_dir):
    import spotify_assets.lib.finetune.remote as remote
    from spotify_assets.defs.resources import ComputeResource

    looked_up = []
    monkeypatch.setattr(
        remote, "lookup_trainer", lambda app: looked_up.append(app) or remote.RemoteTrainer(None)
    )
    assert ComputeResource(backend="local").fine_tune_trainer() is None
    trainer = ComputeResource(backend="modal", modal_app="my-app").fine_tune_trainer()
    assert isinstance(trainer, remote.RemoteTrainer) and looked_up == ["my-app"]
