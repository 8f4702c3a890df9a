"""ResidualAutoencoderConfig / ResidualAutoencoderModel."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import ResidualAutoencoderConfig, ResidualAutoencoderModel

TINY = dict(image_size=32, hidden_sizes=[4, 8, 8, 16, 16], latent_dim=8)


def test_default_config_is_the_published_size() -> None:
    model = ResidualAutoencoderModel(ResidualAutoencoderConfig())
    parameters = sum(p.numel() for p in model.parameters())
    assert model.config.image_size == 128 and model.config.latent_dim == 512
    assert len(model.config.hidden_sizes) == 5
    assert abs(parameters - 34.8e6) / 34.8e6 < 0.05, parameters


def test_shapes_and_tanh_range() -> None:
    model = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY)).eval()
    pixels = torch.rand(3, 3, 32, 32) * 2 - 1
    output = model(pixels)
    assert output.reconstruction.shape == pixels.shape
    assert output.reconstruction.abs().max() <= 1.0
    assert output.scores.shape == (3,)
    assert model.encode(pixels).shape == (3, 8)
    assert model.error_map(pixels).shape == (3, 32, 32)
    per_image = model.reconstruction_error(pixels, reduction="none")
    assert torch.allclose(per_image, output.scores, atol=1e-6)
    assert torch.allclose(model.reconstruction_error(pixels, reduction="mean"), per_image.mean())
    with pytest.raises(ValueError):
        model.reconstruction_error(pixels, reduction="sum")


def test_highpass_weight_adds_to_the_error() -> None:
    plain = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY)).eval()
    weighted = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY, highpass_weight=4.0)).eval()
    weighted.load_state_dict(plain.state_dict())
    pixels = torch.rand(2, 3, 32, 32) * 2 - 1
    assert (weighted(pixels).scores > plain(pixels).scores).all()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="divisible"):
        ResidualAutoencoderConfig(image_size=40)
    with pytest.raises(ValueError, match="highpass_weight"):
        ResidualAutoencoderConfig(highpass_weight=-1)


def test_config_json_round_trip(tmp_path) -> None:
    config = ResidualAutoencoderConfig(**TINY, highpass_weight=2.0, calibration={"mean": 1.0, "std": 2.0, "n_real": 5})
    config.save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["model_type"] == "deepfake-residual-autoencoder"
    assert data["id2label"] == {"0": "real", "1": "fake"}
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, ResidualAutoencoderConfig)
    for key in ("image_size", "hidden_sizes", "latent_dim", "highpass_weight", "calibration"):
        assert getattr(loaded, key) == getattr(config, key)


def test_save_and_load_give_identical_scores(tmp_path) -> None:
    model = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY))
    model.train()
    model(torch.rand(8, 3, 32, 32) * 2 - 1)  # move the batch-norm running statistics away from the init
    model.eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, ResidualAutoencoderModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))


def test_training_reduces_the_reconstruction_error() -> None:
    model = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY))
    pixels = torch.rand(16, 3, 32, 32) * 2 - 1
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model(pixels).loss.item()
    for _ in range(30):
        loss = model(pixels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.7 * first


def test_native_crop_model_combines_crop_errors_and_explains_every_scored_crop() -> None:
    from PIL import Image

    from deepfake_detectors import NativeCropImageProcessor

    model = ResidualAutoencoderModel(ResidualAutoencoderConfig(**TINY, crops_per_side=2)).eval()
    processor = model.default_processor()
    assert isinstance(processor, NativeCropImageProcessor)
    assert processor.crop_size == 32 and processor.upscale_small and processor.image_mean == [0.5, 0.5, 0.5]
    crops = torch.rand(2, 4, 3, 32, 32) * 2 - 1
    per_crop = model(crops.flatten(0, 1)).scores.view(2, 4)
    assert torch.allclose(model(crops).scores, per_crop.mean(dim=1), atol=1e-6)
    model.config.crop_aggregation = "max_logit"
    assert torch.allclose(model(crops).scores, per_crop.max(dim=1).values, atol=1e-6)
    # The map is at the image's own size; a 20 px image is upscaled to one crop first, as when scoring it.
    assert model.explain(Image.new("RGB", (80, 48), (90, 20, 200))).heatmap.shape == (48, 80)
    assert model.explain(Image.new("RGB", (20, 20), (90, 20, 200))).heatmap.shape == (32, 32)
    with pytest.raises(ValueError, match="crop_aggregation"):
        ResidualAutoencoderConfig(**TINY, crops_per_side=2, crop_aggregation="median")


def test_training_script_on_native_crops_saves_a_crop_model_that_scores_photos(tmp_path) -> None:
    from conftest import REPO_ROOT, labelled_crop_splits, load_script

    from deepfake_detectors import EnsembleDeepfakeDetector, NativeCropImageProcessor

    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("train", "validation")))
    out = tmp_path / "ae"
    common = ["--dataset", dataset, "--image-size", "32", "--hidden-sizes", "4", "8", "8", "16", "16",
              "--latent-dim", "8", "--max-steps", "2", "--batch-size", "4", "--output-dir", str(out),
              "--run-dir", str(tmp_path / "run"), "--crops-per-side", "2"]
    script = load_script("train_autoencoder")
    with pytest.raises(ValueError, match="complexity"):
        script.main(common + ["--complexity-adjustment", "png"])
    script.main(common + ["--float16"])
    config = json.loads((out / "config.json").read_text())
    assert config["crops_per_side"] == 2 and config["training"]["n_real_images"] == 4
    assert config["calibration"]["n_real"] == 4 and "optimal" in config["calibration"]["thresholds"]
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    assert isinstance(detector.processors["residual_autoencoder"], NativeCropImageProcessor)
    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as weights:
        assert weights.get_tensor("head.weight").dtype == torch.float16
    # Calibrated on the weights as stored: calibrating the loaded float16 model again gives the stored thresholds.
    from deepfake_detectors.training.data import load_image_dataset, select_label

    validation = load_image_dataset(dataset, "validation")
    again = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    again.calibrate(select_label(validation, "real")["image"], select_label(validation, "fake")["image"])
    recalibrated = again.members["residual_autoencoder"].config.calibration["thresholds"]
    assert recalibrated == pytest.approx(config["calibration"]["thresholds"], rel=1e-9, abs=0)
    examples = REPO_ROOT / "examples"
    results = detector.predict([str(examples / "photo_real_01.jpg"), str(examples / "real_01.jpg")])
    assert all(result.error is None and np.isfinite(result.score) for result in results)
