"""fine_tuned_model as a real materialization: a tiny test-built base bundle, a generated
person's playlists on the embedded Postgres; the result is a new partition that embeds."""

import dagster as dg
import pytest
import yaml

from spotify_assets.defs.artifacts import artifact_store_resource, document_io_manager
from spotify_assets.defs.embeddings.assets import track_embeddings
from spotify_assets.defs.emotions.assets import track_emotions
from spotify_assets.defs.finetune.assets import fine_tune_promotion, fine_tuned_model
from spotify_assets.defs.matching.assets import playlist_profiles
from spotify_assets.defs.search.assets import search_index
from spotify_assets.lib.bundles import load_bundles
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.defs import test_matching_pipeline as mp
from spotify_assets_tests.defs.test_matching_pipeline import world  # noqa: F401 (fixture)
from spotify_assets_tests.tiny_models import write_bundles_file

ALL = [*mp.ALL, search_index, fine_tuned_model, fine_tune_promotion]


@pytest.fixture
def tiny_home(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv("SPOTIFY_ASSETS_HOME", str(tmp_path / "home"))
    path = write_bundles_file(tmp_path / "bundles.yaml", tiny_model_dir, name="tiny", dims=32)
    monkeypatch.setenv("SPOTIFY_ASSETS_BUNDLES", str(path))
    return tmp_path / "home"


def _materialize(database_url, instance, paths, key, selection, raise_on_error=True, **config):
    if key not in instance.get_dynamic_partitions("model_bundle"):
        instance.add_dynamic_partitions("model_bundle", [key])
    run_config = mp.run_config(paths, selection)
    for op, values in config.items():
        run_config["ops"][op] = {"config": values}
    return dg.materialize(
        ALL,
        selection=selection,
        resources={
            **mp.resources(database_url),
            "artifacts": artifact_store_resource(),
            "documents": document_io_manager(),
        },
        instance=instance,
        partition_key=key,
        run_config=run_config,
        raise_on_error=raise_on_error,
    )


@pytest.mark.slow
def test_fine_tuned_model_registers_a_bundle_that_materializes_beside_the_base(
    database_url,
    instance,
    world,  # noqa: F811 (the imported fixture)
    tiny_home,
):
    paths, _ = world
    mp.base(database_url, instance, paths)
    tiny = load_bundles().by_name("tiny")
    bundled = [track_embeddings, track_emotions, search_index, playlist_profiles]
    assert _materialize(database_url, instance, paths, tiny.hash, bundled).success

    config = {"max_pairs": 200, "batch_size": 16, "learning_rate": 1e-3}
    result = _materialize(
        database_url, instance, paths, tiny.hash, [fine_tuned_model], fine_tuned_model=config
    )
    assert result.success
    info = meta(result, "fine_tuned_model")
    tuned_hash = info["bundle_hash"]
    assert tuned_hash != tiny.hash and info["trained"] and info["pairs"] == 200
    assert info["held_out_excluded"] > 0
    assert tuned_hash in instance.get_dynamic_partitions("model_bundle")
    learned = yaml.safe_load((tiny_home / "learned_bundles.yaml").read_text())
    assert info["bundle"] in learned["bundles"] and "default" not in learned
    assert load_bundles().default == "minilm-offline"  # registering is not promoting

    # the same training again reuses the stored model
    again = _materialize(
        database_url, instance, paths, tiny.hash, [fine_tuned_model], fine_tuned_model=config
    )
    assert not meta(again, "fine_tuned_model")["trained"]

    # the new partition embeds with the fine-tuned model, loaded from the artifact store
    tuned = _materialize(database_url, instance, paths, tuned_hash, [track_embeddings])
    assert tuned.success
    embedded = meta(tuned, "track_embeddings")
    assert embedded["model"].startswith("test/tiny+ft-") and embedded["dims"] == 32
    assert embedded["embedded"] == embedded["tracks"] > 0  # its own rows, none reused

    # the gate, before the fine-tuned partition is backfilled: a one-line remedy
    missing = _materialize(
        database_url, instance, paths, tiny.hash, [fine_tune_promotion], raise_on_error=False
    )
    assert not missing.success
    [failure] = [e for e in missing.all_events if e.is_step_failure]
    message = str(failure.event_specific_data.user_failure_data.description)
    assert "backfill the" in message and tuned_hash[:8] in message

    # backfill it like any bundle; then a margin nothing can clear keeps the base and says why
    assert _materialize(database_url, instance, paths, tuned_hash, bundled).success
    gated = _materialize(
        database_url, instance, paths, tiny.hash, [fine_tune_promotion],
        fine_tune_promotion={"margin": 1.0},
    )  # fmt: skip
    verdict = meta(gated, "fine_tune_promotion")
    assert not verdict["promoted"] and verdict["decision"].startswith("base kept")
    assert verdict["matching MRR/items"] > 0 and verdict["search hybrid_ndcg@10/items"] > 0
    assert load_bundles().default == "minilm-offline"
