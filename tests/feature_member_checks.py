"""Checks shared by the test files of the feature-based one-class members.

Two families share most of their behaviour:

* scikit-learn members (TextureOCSVM, IsolationForest, LocalOutlierFactor, GaussianMixture) save the fitted
  estimator as ``estimator.skops`` next to ``model.safetensors`` and record the scikit-learn version;
* Mahalanobis members (ColourDistribution, Statistical) keep everything in float64 buffers.

Each ``tests/test_<member>.py`` imports the ``images`` and ``saved`` fixtures from here explicitly, defines its
own ``fitted`` fixture with :func:`fit_on_train`, and calls the ``check_*`` functions from its tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from safetensors.torch import load_file
from transformers import AutoConfig, AutoImageProcessor, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepfakeImageProcessor
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
def saved(fitted, tmp_path_factory) -> Path:
    """The module's ``fitted`` model saved together with the unit image processor."""
    directory = tmp_path_factory.mktemp(fitted.config.model_type)
    fitted.save_pretrained(directory)
    unit_processor().save_pretrained(directory)
    return directory


def fit_on_train(model, images: dict[str, torch.Tensor]):
    """Fit ``model`` on the features of the training images and put it in eval mode."""
    return model.fit(model.features(images["train"])).eval()


# --------------------------------------------------------------------------------------------- all members


def check_config_defaults(
    config_cls,
    feature_names: Sequence[str],
    feature_dim: int,
    *,
    defaults: Mapping[str, object] | None = None,
    accepted: Iterable[Mapping[str, object]] = (),
    invalid: Iterable[Mapping[str, object]] = (),
    known_feature: str | None = None,
) -> None:
    """Default feature set and dimension, default hyper-parameters, accepted and rejected values.

    ``accepted``: keyword sets the config must accept and store as given. ``invalid``: keyword sets it must
    reject with a ValueError. An unknown feature (listed after ``known_feature``, the first default feature
    unless given) must be rejected too.
    """
    config = config_cls()
    assert config.feature_names == list(feature_names)
    assert config.feature_dim == feature_dim == compute_feature_dim(config.feature_names)
    if defaults:
        assert {key: getattr(config, key) for key in defaults} == dict(defaults)
    for kwargs in accepted:
        config = config_cls(**kwargs)
        assert {key: getattr(config, key) for key in kwargs} == dict(kwargs)
    for bad in invalid:
        with pytest.raises(ValueError):
            config_cls(**bad)
    with pytest.raises(ValueError, match="unknown feature"):
        config_cls(feature_names=[known_feature or feature_names[0], "no_such_feature"])


def check_noise_scores_higher_than_held_out_real(fitted, images: dict[str, torch.Tensor]) -> torch.Tensor:
    """Returns the held-out real scores."""
    real, noise = fitted.score(images["held_out"]), fitted.score(images["noise"])
    assert real.shape == (12,) and noise.shape == (8,)
    assert noise.mean() > real.mean()
    return real


def check_auto_model_round_trip(model_cls, fitted, saved: Path, images: dict[str, torch.Tensor]):
    """AutoModel / AutoImageProcessor load ``saved`` cleanly and give identical scores; returns the loaded model."""
    loaded, info = AutoModel.from_pretrained(saved, output_loading_info=True)
    assert isinstance(loaded, model_cls)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    pixels = torch.cat([images["held_out"], images["noise"]])
    assert torch.equal(loaded.score(pixels), fitted.score(pixels))
    assert isinstance(AutoImageProcessor.from_pretrained(saved), DeepfakeImageProcessor)
    return loaded


def check_config_json_round_trip(config_cls, saved: Path, fitted, keys: Iterable[str]) -> None:
    config = AutoConfig.from_pretrained(saved)
    assert isinstance(config, config_cls)
    for key in keys:
        assert getattr(config, key) == getattr(fitted.config, key)


def check_shared_feature_cache(fitted, images: dict[str, torch.Tensor]) -> FeatureCache:
    """Scores through a shared cache equal plain scores and each feature is computed once; returns the cache."""
    pixels = images["noise"]
    cache = FeatureCache(pixels)
    first = fitted.score(pixels, feature_cache=cache)
    again = fitted.score(pixels, feature_cache=cache)
    assert torch.equal(first, fitted.score(pixels)) and torch.equal(again, first)
    block_feature = getattr(fitted.config, "block_feature", None)
    assert sorted(cache.computed) == sorted(fitted.config.feature_names + ([block_feature] if block_feature else []))
    return cache


# ----------------------------------------------------------------------------------- scikit-learn members


def check_sklearn_fit_scores(fitted, images: dict[str, torch.Tensor]) -> None:
    check_noise_scores_higher_than_held_out_real(fitted, images)
    assert fitted.config.sklearn_version is not None


def check_unfitted_model_refuses_to_score_or_save(model_cls, config_cls, tmp_path: Path) -> None:
    model = model_cls(config_cls())
    with pytest.raises(RuntimeError, match="not fitted"):
        model.score(torch.rand(2, 3, 32, 32))
    with pytest.raises(RuntimeError, match="unfitted"):
        model.save_pretrained(tmp_path)


def check_sklearn_save_and_load(model_cls, fitted, saved: Path, images: dict[str, torch.Tensor]) -> None:
    assert (saved / "estimator.skops").is_file() and (saved / "model.safetensors").is_file()
    assert not [path.name for path in saved.iterdir() if path.suffix in PICKLE_SUFFIXES]
    check_auto_model_round_trip(model_cls, fitted, saved, images)


def check_sklearn_version_mismatch_warns(saved: Path, tmp_path: Path) -> None:
    for path in saved.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    config = json.loads((tmp_path / "config.json").read_text())
    config["sklearn_version"] = "0.0.1"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.warns(UserWarning, match="scikit-learn 0.0.1"):
        AutoModel.from_pretrained(tmp_path)


# -------------------------------------------------------------------------------------- Mahalanobis members


def check_mahalanobis_config(config_cls, feature_names: Sequence[str], feature_dim: int) -> None:
    check_config_defaults(config_cls, feature_names, feature_dim, known_feature="colour_moments")
    assert config_cls(feature_names=["colour_moments"]).feature_dim == 23
    with pytest.raises(ValueError, match="at least 1"):
        config_cls(feature_dim=0)


def check_mahalanobis_fit_scores(fitted, images: dict[str, torch.Tensor]) -> None:
    real = check_noise_scores_higher_than_held_out_real(fitted, images)
    assert (real >= 0).all()


def check_score_is_squared_mahalanobis_distance(fitted, images: dict[str, torch.Tensor]) -> None:
    from sklearn.covariance import LedoitWolf

    train = fitted.features(images["train"])
    standardised = ((train - train.mean(0)) / train.std(0).clamp_min(1e-6)).numpy()
    precision = LedoitWolf().fit(standardised).precision_
    assert np.allclose(fitted.precision.numpy(), precision)
    test = fitted.standardise(fitted.features(images["noise"])).numpy()
    expected = np.einsum("bi,ij,bj->b", test, precision, test)
    assert np.allclose(fitted.score(images["noise"]).numpy(), expected, rtol=1e-5)


def check_fit_rejects_bad_features(model_cls, config_cls) -> None:
    model = model_cls(config_cls())
    dim = model.input_dim
    with pytest.raises(ValueError, match="shape"):
        model.fit(torch.zeros(10, 5))
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(torch.zeros(1, dim))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(torch.full((4, dim), float("nan")))


def check_buffer_only_save_and_load(
    model_cls,
    fitted,
    saved: Path,
    images: dict[str, torch.Tensor],
    buffers: Sequence[str] = ("feature_mean", "feature_scale", "precision"),
) -> None:
    assert sorted(path.name for path in saved.iterdir()) == [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ]
    tensors = load_file(saved / "model.safetensors")
    assert sorted(tensors) == sorted(buffers)
    assert all(tensor.dtype == torch.float64 for tensor in tensors.values())
    loaded = check_auto_model_round_trip(model_cls, fitted, saved, images)
    assert torch.equal(loaded.precision, fitted.precision)


def check_mahalanobis_feature_cache(fitted, images: dict[str, torch.Tensor]) -> None:
    """The shared-cache check, plus: a cache built for another batch is refused."""
    cache = check_shared_feature_cache(fitted, images)
    with pytest.raises(ValueError, match="feature_cache"):
        fitted.score(images["noise"][:2], feature_cache=cache)
