"""ZeroShotEntropyConfig / ZeroShotEntropyModel (the ZED-style pixel model of real photographs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import NativeCropImageProcessor, ZeroShotEntropyConfig, ZeroShotEntropyModel
from deepfake_detectors.modeling import zero_shot_entropy
from deepfake_detectors.modeling.zero_shot_entropy import (
    discretized_logistic_entropy,
    discretized_logistic_log_prob,
    next_level,
    split_blocks,
)

TINY = dict(image_size=16, hidden_size=8, num_blocks=1)


def grainy(rng: np.random.Generator, size: int, grain: int = 1) -> np.ndarray:
    """A smooth gradient plus Gaussian noise, the noise drawn at 1/``grain`` resolution and repeated (``grain=2``:
    each 2 x 2 block shares one noise value, as after a generator's 2x up-sampling). Values 0-255, ``[3, size, size]``."""
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([rng.uniform(60, 190) + 40 * (a * x + (1 - a) * y) for a in rng.uniform(0, 1, 3)])
    noise = rng.normal(0, 8, (3, size // grain, size // grain)).repeat(grain, 1).repeat(grain, 2)
    return np.clip(np.round(base + noise), 0, 255)


def as_pixels(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(values).float() / 127.5 - 1


def test_config_validation_and_json_round_trip(tmp_path: Path) -> None:
    for bad, match in [(dict(num_levels=3), "num_levels"), (dict(score_level=2), "score_level"),
                       (dict(image_size=18), "divisible"), (dict(crops_per_side=None), "crops_per_side"),
                       (dict(crop_aggregation="median"), "crop_aggregation"), (dict(hidden_size=0), "positive")]:
        with pytest.raises(ValueError, match=match):
            ZeroShotEntropyConfig(**bad)
    config = ZeroShotEntropyConfig(**TINY, score_level=0, calibration={"mean": 0.1, "std": 0.2, "n_real": 3})
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "deepfake-zero-shot-entropy"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, ZeroShotEntropyConfig)
    for key in ("image_size", "hidden_size", "num_blocks", "num_levels", "score_level", "calibration"):
        assert getattr(loaded, key) == getattr(config, key)


def test_discretized_logistic_is_a_distribution_over_the_256_intensities() -> None:
    bins = torch.arange(256.0)
    mean = torch.tensor([[-1.2], [-0.3], [0.0], [0.99], [1.5]])
    log_scale = torch.tensor([[-6.0], [-3.0], [-1.0], [0.5], [-4.0]])
    total = discretized_logistic_log_prob(bins, mean, log_scale).exp().sum(-1)
    assert torch.allclose(total, torch.ones(5), atol=1e-4)
    # A sharp prediction puts almost all its mass on the nearest intensity.
    at_191 = torch.tensor(191 / 127.5 - 1)
    assert discretized_logistic_log_prob(torch.tensor(191.0), at_191, torch.tensor(-7.0)).exp() > 0.95


def test_entropy_is_that_of_the_256_bin_distribution_whatever_the_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    mean = torch.linspace(-1.3, 1.3, 60).view(2, 3, 10)
    log_scale = torch.linspace(-7.0, 3.0, 60).view(2, 3, 10).flip(-1)
    log_p = discretized_logistic_log_prob(torch.arange(256.0), mean[..., None], log_scale[..., None])
    by_definition = -(log_p.exp() * log_p).sum(-1)
    fast = discretized_logistic_entropy(mean, log_scale)
    assert torch.allclose(fast, by_definition, atol=1e-4)
    assert fast.min() < 0.1 and fast.max() > 5.0  # sharp and flat predictions both covered
    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(**TINY)).eval()
    values = ZeroShotEntropyModel.intensities(torch.rand(5, 3, 16, 16) * 2 - 1)
    with torch.no_grad():
        _, chunked = model.coding_costs(values, 1, entropy_positions=0)
        monkeypatch.setattr(zero_shot_entropy, "ENTROPY_CHUNK", 64)
        _, at_once = model.coding_costs(values, 1, entropy_positions=0)
    assert chunked.shape == (5, 9, 8, 8) and torch.allclose(chunked, at_once)


def test_block_split_and_pyramid() -> None:
    values = torch.arange(16.0).view(1, 1, 4, 4).repeat(1, 3, 1, 1)
    top_left, others = split_blocks(values)
    assert top_left.shape == (1, 3, 2, 2) and others.shape == (1, 9, 2, 2)
    assert torch.allclose((top_left[0, 0] + 1) * 127.5, torch.tensor([[0.0, 2.0], [8.0, 10.0]]), atol=1e-4)
    assert torch.equal(others[0, 0], torch.tensor([[1.0, 3.0], [9.0, 11.0]]))  # right of each top-left
    assert torch.equal(next_level(values)[0, 0], torch.tensor([[2.0, 4.0], [10.0, 12.0]]))  # 2.5, 4.5... rounded


def test_scores_combine_crops_and_training_mode_gives_the_loss_only() -> None:
    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(**TINY)).eval()
    crops = torch.rand(2, 4, 3, 16, 16) * 2 - 1
    per_crop = model(crops.flatten(0, 1)).scores.view(2, 4)
    assert torch.allclose(model(crops).scores, per_crop.mean(1), atol=1e-6)
    model.config.crop_aggregation = "max_logit"
    assert torch.allclose(model(crops).scores, per_crop.max(1).values, atol=1e-6)
    trained = model.train()(crops)
    assert trained.scores is None and torch.isfinite(trained.loss) and trained.loss.requires_grad
    with pytest.raises(ValueError, match="divisible"):
        model.eval()(torch.zeros(1, 3, 18, 16))


def test_sampled_entropy_estimates_the_full_entropy() -> None:
    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(image_size=64, hidden_size=8, num_blocks=1)).eval()
    values = ZeroShotEntropyModel.intensities(torch.rand(2, 3, 64, 64) * 2 - 1)
    with torch.no_grad():
        _, full = model.coding_costs(values, 0, entropy_positions=0)
        _, sampled = model.coding_costs(values, 0, entropy_positions=256)
    assert full.shape == (2, 9, 32, 32) and sampled.shape == (2, 9, 256)
    assert torch.allclose(sampled.mean((1, 2)), full.mean((1, 2, 3)), rtol=0.02)


def test_trained_on_real_images_only_it_scores_upsampled_images_as_surprising() -> None:
    """The ZED mechanism on synthetic data: a pixel model of grainy "photos" expects each pixel's grain to be its
    own; where 2 x 2 blocks share their grain (an up-sampling trace) the image is coded more cheaply than the model
    expects, so its surprise is higher, although the model never saw such an image."""
    rng = np.random.default_rng(0)
    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(image_size=32, hidden_size=16, num_blocks=1, num_levels=1,
                                                       score_level=0, entropy_positions=256))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(120):
        batch = torch.stack([as_pixels(grainy(rng, 32)) for _ in range(8)])
        loss = model(batch).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    real = model(torch.stack([as_pixels(grainy(rng, 32)) for _ in range(12)])).scores
    fake = model(torch.stack([as_pixels(grainy(rng, 32, grain=2)) for _ in range(12)])).scores
    assert real.abs().mean() < 0.5  # bits per sub-pixel: the model expects about what real images cost
    assert fake.min() > real.max()


def test_save_load_auto_model_and_pipeline(tmp_path: Path) -> None:
    from deepfake_detectors import EnsembleDeepfakeDetector

    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(**TINY)).eval()
    model.save_pretrained(tmp_path)
    model.default_processor().save_pretrained(tmp_path)
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, ZeroShotEntropyModel)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    pixels = torch.rand(3, 4, 3, 16, 16) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))
    detector = EnsembleDeepfakeDetector.from_pretrained(tmp_path, device="cpu")
    processor = detector.processors["zero_shot_entropy"]
    assert isinstance(processor, NativeCropImageProcessor) and processor.crop_size == 16 and processor.upscale_small
    rng = np.random.default_rng(1)
    photos = [Image.fromarray(np.uint8(grainy(rng, 40).transpose(1, 2, 0))) for _ in range(6)]
    detector.calibrate(photos[:3], photos[3:])
    # an image smaller than a crop is upscaled to it; a corrupt file is reported and the others are scored
    corrupt = tmp_path / "broken.jpg"
    corrupt.write_bytes(b"not an image")
    small = Image.fromarray(np.full((10, 12, 3), 128, np.uint8))
    results = detector.predict([photos[0], small, str(corrupt)])
    assert [r.error is None for r in results] == [True, True, False]
    assert "broken.jpg" in results[2].error
    assert all(np.isfinite(r.score) for r in results[:2])


def test_explanation_covers_the_whole_image() -> None:
    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(**TINY)).eval()
    image = Image.fromarray(np.uint8(grainy(np.random.default_rng(2), 48).transpose(1, 2, 0)))
    explanation = model.explain(image)
    assert explanation.heatmap.shape == (48, 48) and explanation.probability is None
    assert explanation.method == "coding surprise" and 0 <= explanation.heatmap.min() <= explanation.heatmap.max() <= 1
    assert model.explain(Image.new("RGB", (10, 10))).heatmap.shape == (16, 16)  # upscaled to one crop, as scored


def test_training_script_uses_real_images_only_without_resizing_and_calibrates(tmp_path: Path) -> None:
    from conftest import REPO_ROOT, labelled_crop_splits, load_script

    from deepfake_detectors import EnsembleDeepfakeDetector

    dataset = str(labelled_crop_splits(tmp_path, per_class=4, splits=("train", "validation")))
    out = tmp_path / "entropy"
    load_script("train_zero_shot_entropy").main(
        ["--dataset", dataset, "--crop-size", "16", "--hidden-size", "8", "--num-blocks", "1", "--max-steps", "2",
         "--batch-size", "4", "--output-dir", str(out), "--run-dir", str(tmp_path / "run")])
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["n_real_images"] == 4  # the 4 fakes of the train split are never read
    assert "rescale" not in config["training"]["augmentation"] and "blur" not in config["training"]["augmentation"]
    assert config["calibration"]["n_real"] == 4 and "optimal" in config["calibration"]["thresholds"]
    detector = EnsembleDeepfakeDetector.from_pretrained(out, device="cpu")
    results = detector.predict([str(REPO_ROOT / "examples" / "photo_real_01.jpg")])
    assert results[0].error is None and np.isfinite(results[0].score)


def test_images_smaller_than_a_crop_are_marked_out_of_domain(tmp_path: Path) -> None:
    """Enlarged pixels are predictable, so an image smaller than a crop (upscaled to it) cannot be judged: the result
    says so, with the size, whether or not the repo has a domain description."""
    from deepfake_detectors import EnsembleDeepfakeDetector

    model = ZeroShotEntropyModel(ZeroShotEntropyConfig(**TINY)).eval()
    model.save_pretrained(tmp_path)
    model.default_processor().save_pretrained(tmp_path)
    detector = EnsembleDeepfakeDetector.from_pretrained(tmp_path, device="cpu")
    rng = np.random.default_rng(3)
    photos = [Image.fromarray(np.uint8(grainy(rng, 32).transpose(1, 2, 0))) for _ in range(4)]
    detector.calibrate(photos[:2], photos[2:])
    large, small = detector.predict([photos[0], Image.fromarray(np.full((12, 20, 3), 90, np.uint8))])
    assert large.in_domain is not False
    assert small.in_domain is False and "smaller than the 16 px crop" in small.domain_note and "20 x 12" in small.domain_note
