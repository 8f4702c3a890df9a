"""ColourDistributionConfig / ColourDistributionModel (Mahalanobis distance on colour features)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from safetensors.torch import load_file
from transformers import AutoConfig, AutoImageProcessor, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import ColourDistributionConfig, ColourDistributionModel, DeepfakeImageProcessor
from deepfake_detectors.configuration.feature_base import compute_feature_dim
from deepfake_detectors.features import FeatureCache


def unit_processor() -> DeepfakeImageProcessor:
    return DeepfakeImageProcessor(size=32, image_mean=[0, 0, 0], image_std=[1, 1, 1])


@pytest.fixture(scope="module")
def images() -> dict[str, torch.Tensor]:
    """60 synthetic 32x32 images in [0, 1]: 40 smooth for fitting, 12 smooth held out, 8 noise."""
    rng = np.random.default_rng(0)
    processor = unit_processor()
    real = processor([smooth_image(rng) for _ in range(52)])["pixel_values"]
    noise = processor([noisy_image(rng) for _ in range(8)])["pixel_values"]
    return {"train": real[:40], "held_out": real[40:], "noise": noise}


@pytest.fixture(scope="module")
def fitted(images) -> ColourDistributionModel:
    model = ColourDistributionModel(ColourDistributionConfig())
    return model.fit(model.features(images["train"])).eval()


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("colour_distribution")
    fitted.save_pretrained(directory)
    unit_processor().save_pretrained(directory)
    return directory


def test_config_defaults_feature_dim_and_validation() -> None:
    config = ColourDistributionConfig()
    assert config.feature_names == ["colour_histogram", "colour_moments"]
    assert config.feature_dim == 47 == compute_feature_dim(config.feature_names)
    assert ColourDistributionConfig(feature_names=["colour_moments"]).feature_dim == 23
    with pytest.raises(ValueError, match="unknown feature"):
        ColourDistributionConfig(feature_names=["colour_moments", "no_such_feature"])
    with pytest.raises(ValueError, match="at least 1"):
        ColourDistributionConfig(feature_dim=0)


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    real, noise = fitted.score(images["held_out"]), fitted.score(images["noise"])
    assert real.shape == (12,) and noise.shape == (8,)
    assert noise.mean() > real.mean()
    assert (real >= 0).all()


def test_score_is_squared_mahalanobis_distance(fitted, images) -> None:
    from sklearn.covariance import LedoitWolf

    train = fitted.features(images["train"])
    standardised = ((train - train.mean(0)) / train.std(0).clamp_min(1e-6)).numpy()
    precision = LedoitWolf().fit(standardised).precision_
    assert np.allclose(fitted.precision.numpy(), precision)
    test = fitted.standardise(fitted.features(images["noise"])).numpy()
    expected = np.einsum("bi,ij,bj->b", test, precision, test)
    assert np.allclose(fitted.score(images["noise"]).numpy(), expected, rtol=1e-5)


def test_fit_rejects_bad_features(fitted) -> None:
    model = ColourDistributionModel(ColourDistributionConfig())
    with pytest.raises(ValueError, match="shape"):
        model.fit(torch.zeros(10, 5))
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(torch.zeros(1, 47))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(torch.full((4, 47), float("nan")))


def test_save_and_load_give_identical_scores_from_buffers_only(fitted, saved, images) -> None:
    assert sorted(path.name for path in saved.iterdir()) == [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ]
    tensors = load_file(saved / "model.safetensors")
    assert sorted(tensors) == ["feature_mean", "feature_scale", "precision"]
    assert all(tensor.dtype == torch.float64 for tensor in tensors.values())
    loaded, info = AutoModel.from_pretrained(saved, output_loading_info=True)
    assert isinstance(loaded, ColourDistributionModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(loaded.precision, fitted.precision)
    pixels = torch.cat([images["held_out"], images["noise"]])
    assert torch.equal(loaded.score(pixels), fitted.score(pixels))
    assert isinstance(AutoImageProcessor.from_pretrained(saved), DeepfakeImageProcessor)


def test_config_json_round_trip(saved, fitted) -> None:
    config = AutoConfig.from_pretrained(saved)
    assert isinstance(config, ColourDistributionConfig)
    for key in ("feature_names", "feature_dim", "image_size", "id2label"):
        assert getattr(config, key) == getattr(fitted.config, key)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    pixels = images["noise"]
    cache = FeatureCache(pixels)
    first = fitted.score(pixels, feature_cache=cache)
    again = fitted.score(pixels, feature_cache=cache)
    assert torch.equal(first, fitted.score(pixels)) and torch.equal(again, first)
    assert sorted(cache.computed) == sorted(fitted.config.feature_names)
    with pytest.raises(ValueError, match="feature_cache"):
        fitted.score(pixels[:2], feature_cache=cache)
