"""GaussianMixtureConfig / GaussianMixtureModel (scikit-learn GaussianMixture on colour features)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from transformers import AutoConfig, AutoImageProcessor, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepfakeImageProcessor, GaussianMixtureConfig, GaussianMixtureModel
from deepfake_detectors.configuration.feature_base import compute_feature_dim
from deepfake_detectors.features import FeatureCache

PICKLE_SUFFIXES = {".pkl", ".pickle", ".joblib", ".bin", ".pt", ".pth"}


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
def fitted(images) -> GaussianMixtureModel:
    model = GaussianMixtureModel(GaussianMixtureConfig())
    return model.fit(model.features(images["train"])).eval()


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("gaussian_mixture")
    fitted.save_pretrained(directory)
    unit_processor().save_pretrained(directory)
    return directory


def test_config_defaults_feature_dim_and_validation() -> None:
    config = GaussianMixtureConfig()
    assert config.feature_names == ["colour_histogram", "colour_moments"]
    assert config.feature_dim == 47 == compute_feature_dim(config.feature_names)
    assert (config.n_components, config.covariance_type, config.reg_covar) == (10, "full", 1e-3)
    for bad in (dict(n_components=0), dict(covariance_type="dense"), dict(reg_covar=-1.0), dict(max_iter=0)):
        with pytest.raises(ValueError):
            GaussianMixtureConfig(**bad)
    with pytest.raises(ValueError, match="unknown feature"):
        GaussianMixtureConfig(feature_names=["colour_histogram", "no_such_feature"])


def test_score_is_negative_log_likelihood(fitted, images) -> None:
    standardised = fitted.standardise(fitted.features(images["noise"])).numpy()
    expected = -fitted.estimator.score_samples(standardised)
    assert np.allclose(fitted.score(images["noise"]).numpy(), expected, rtol=1e-5)


def test_fit_scores_noise_higher_than_held_out_real(fitted, images) -> None:
    real, noise = fitted.score(images["held_out"]), fitted.score(images["noise"])
    assert real.shape == (12,) and noise.shape == (8,)
    assert noise.mean() > real.mean()
    assert fitted.config.sklearn_version is not None


def test_unfitted_model_refuses_to_score_or_save(tmp_path) -> None:
    model = GaussianMixtureModel(GaussianMixtureConfig())
    with pytest.raises(RuntimeError, match="not fitted"):
        model.score(torch.rand(2, 3, 32, 32))
    with pytest.raises(RuntimeError, match="unfitted"):
        model.save_pretrained(tmp_path)


def test_save_and_load_give_identical_scores(fitted, saved, images) -> None:
    assert (saved / "estimator.skops").is_file() and (saved / "model.safetensors").is_file()
    assert not [path.name for path in saved.iterdir() if path.suffix in PICKLE_SUFFIXES]
    loaded, info = AutoModel.from_pretrained(saved, output_loading_info=True)
    assert isinstance(loaded, GaussianMixtureModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    pixels = torch.cat([images["held_out"], images["noise"]])
    assert torch.equal(loaded.score(pixels), fitted.score(pixels))
    assert isinstance(AutoImageProcessor.from_pretrained(saved), DeepfakeImageProcessor)


def test_config_json_round_trip(saved, fitted) -> None:
    config = AutoConfig.from_pretrained(saved)
    assert isinstance(config, GaussianMixtureConfig)
    for key in ("feature_names", "feature_dim", "n_components", "covariance_type", "reg_covar", "sklearn_version"):
        assert getattr(config, key) == getattr(fitted.config, key)


def test_sklearn_version_mismatch_warns(saved, tmp_path) -> None:
    for path in saved.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    config = json.loads((tmp_path / "config.json").read_text())
    config["sklearn_version"] = "0.0.1"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match="scikit-learn 0.0.1"):
        AutoModel.from_pretrained(tmp_path)


def test_shared_feature_cache_gives_same_scores_and_computes_once(fitted, images) -> None:
    pixels = images["noise"]
    cache = FeatureCache(pixels)
    first = fitted.score(pixels, feature_cache=cache)
    again = fitted.score(pixels, feature_cache=cache)
    assert torch.equal(first, fitted.score(pixels)) and torch.equal(again, first)
    assert sorted(cache.computed) == sorted(fitted.config.feature_names)
