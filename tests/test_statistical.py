"""StatisticalConfig / StatisticalModel (Mahalanobis distances of multi-scale image statistics and of JPEG blocks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepfake_detectors import StatisticalConfig, StatisticalModel
from deepfake_detectors.features.statistics import jpeg_block_dct

# Registered before the import so that pytest rewrites the helper's asserts (detailed failure messages).
pytest.register_assert_rewrite("feature_member_checks")

from feature_member_checks import (  # noqa: E402
    check_buffer_only_save_and_load,
    check_config_json_round_trip,
    check_fit_rejects_bad_features,
    check_mahalanobis_config,
    check_mahalanobis_feature_cache,
    check_mahalanobis_fit_scores,
    check_noise_scores_higher_than_held_out_real,
    check_score_is_squared_mahalanobis_distance,
    fit_on_train,
    images,  # noqa: F401 - fixture
    saved,  # noqa: F401 - fixture
)

BLOCK_BUFFERS = (
    "feature_mean",
    "feature_scale",
    "precision",
    "block_mean",
    "block_scale",
    "block_precision",
    "log_distance_mean",
    "log_distance_std",
)


@pytest.fixture(scope="module")
def fitted(images) -> StatisticalModel:
    return fit_on_train(StatisticalModel(StatisticalConfig()), images)


@pytest.fixture(scope="module")
def fitted_whole_image_only(images) -> StatisticalModel:
    return fit_on_train(StatisticalModel(StatisticalConfig(block_feature=None)), images)


def test_config_defaults_feature_dim_and_validation() -> None:
    check_mahalanobis_config(StatisticalConfig, ["sobel_stats", "highpass_stats", "colour_moments"], 83)
    config = StatisticalConfig()
    assert (config.block_feature, config.num_blocks, config.block_dim) == ("jpeg_block_dct", 16, 64)
    assert StatisticalConfig(image_size=64).num_blocks == 64
    assert StatisticalConfig(block_feature=None).block_dim == 0
    with pytest.raises(ValueError, match="blocks, dim"):
        StatisticalConfig(block_feature="colour_moments")  # a whole-image feature is not a block feature
    with pytest.raises(ValueError, match="unknown block feature"):
        StatisticalConfig(block_feature="no_such_feature")
    with pytest.raises(ValueError, match="block_top_k"):
        StatisticalConfig(block_top_k=0)
    assert StatisticalConfig(image_size=8).num_blocks == 1  # the default top 2 then means the one block
    with pytest.raises(ValueError, match="whole_image_weight"):
        StatisticalConfig(whole_image_weight=-1.0)


def test_images_with_fewer_blocks_than_top_k_use_all_their_blocks() -> None:
    model = StatisticalModel(StatisticalConfig(image_size=8))  # one 8x8 block, default block_top_k = 2
    generator = torch.Generator().manual_seed(0)
    model.fit(model.features(torch.rand(40, 3, 8, 8, generator=generator)))
    values = model.features(torch.rand(3, 3, 8, 8, generator=generator))
    assert torch.allclose(model.distances(values)[:, 1], model.block_distances(model.split(values)[1])[:, 0])


def test_block_top_k_averages_the_worst_blocks(fitted, images) -> None:
    values = fitted.features(images["noise"][:3])
    _, blocks = fitted.split(values)
    per_block = fitted.block_distances(blocks)
    worst_first = per_block.sort(dim=1, descending=True).values
    assert torch.allclose(fitted.distances(values)[:, 1], worst_first[:, :2].mean(1))
    fitted.config.block_top_k = 1
    try:
        assert torch.allclose(fitted.distances(values)[:, 1], worst_first[:, 0])
    finally:
        fitted.config.block_top_k = 2


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    check_noise_scores_higher_than_held_out_real(fitted, images)


def test_whole_image_only_score_is_squared_mahalanobis_distance(fitted_whole_image_only, images) -> None:
    check_mahalanobis_fit_scores(fitted_whole_image_only, images)
    check_score_is_squared_mahalanobis_distance(fitted_whole_image_only, images)


def test_score_weights_standardised_log_distances_of_image_and_worst_blocks(fitted, images) -> None:
    from sklearn.covariance import LedoitWolf

    train, noise = images["train"], images["noise"]
    blocks = jpeg_block_dct(train).double().reshape(-1, 64)
    standardised = (blocks - blocks.mean(0)) / blocks.std(0).clamp_min(1e-6)
    assert np.allclose(fitted.block_precision.numpy(), LedoitWolf().fit(standardised.numpy()).precision_)

    def log_distances(pixels: torch.Tensor) -> torch.Tensor:
        whole, _ = fitted.split(fitted.features(pixels))
        whole = fitted.standardise(whole)
        whole_distance = torch.einsum("bi,ij,bj->b", whole, fitted.precision, whole)
        per_block = (jpeg_block_dct(pixels).double() - blocks.mean(0)) / blocks.std(0).clamp_min(1e-6)
        block_distances = torch.einsum("bki,ij,bkj->bk", per_block, fitted.block_precision, per_block)
        block_distance = block_distances.sort(dim=1).values[:, -2:].mean(1)  # the 2 least typical blocks
        return torch.log(torch.stack([whole_distance, block_distance], 1) + 1e-6)

    reference = log_distances(train)
    standardised = (log_distances(noise) - reference.mean(0)) / reference.std(0)
    expected = 0.25 * standardised[:, 0] + standardised[:, 1]
    assert (fitted.config.block_top_k, fitted.config.whole_image_weight) == (2, 0.25)
    assert torch.allclose(fitted.score(noise).double(), expected, rtol=1e-4, atol=1e-4)
    # On the training images each part is standardised: mean 0, std 1, so the weighted sum has mean 0.
    assert abs(float(fitted.score(train).mean())) < 1e-3


def test_one_odd_block_raises_the_score(fitted, images) -> None:
    """The block part looks at the worst block: changing one 8x8 block of a real image must be noticed."""
    real = images["held_out"][:4].clone()
    tampered = real.clone()
    generator = torch.Generator().manual_seed(0)
    tampered[:, :, 8:16, 16:24] = torch.rand(4, 3, 8, 8, generator=generator)
    block_before = fitted.distances(fitted.features(real))[:, 1]
    block_after = fitted.distances(fitted.features(tampered))[:, 1]
    assert (block_after > block_before).all()
    assert (fitted.score(tampered) > fitted.score(real)).all()


def test_fit_rejects_bad_features(fitted) -> None:
    check_fit_rejects_bad_features(StatisticalModel, StatisticalConfig)


def test_save_and_load_give_identical_scores_from_buffers_only(fitted, saved, images) -> None:
    check_buffer_only_save_and_load(StatisticalModel, fitted, saved, images, buffers=BLOCK_BUFFERS)


def test_config_json_round_trip(saved, fitted) -> None:
    keys = (
        "feature_names", "feature_dim", "block_feature", "block_dim", "num_blocks", "block_top_k",
        "whole_image_weight", "image_size", "id2label",
    )
    check_config_json_round_trip(StatisticalConfig, saved, fitted, keys)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    check_mahalanobis_feature_cache(fitted, images)
