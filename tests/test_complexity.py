"""Input-complexity correction of one-class scores (features/complexity.py and the models' score())."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import noisy_image, smooth_image
from deepfake_detectors import (
    DeepfakeImageProcessor,
    DeepSVDDConfig,
    DeepSVDDModel,
    EnsembleDeepfakeDetector,
    ResidualAutoencoderConfig,
    ResidualAutoencoderModel,
)
from deepfake_detectors.features.complexity import ComplexityAdjustment, compressed_bits_per_dimension


def _unit(images) -> torch.Tensor:
    return torch.stack([torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255 for image in images])


def test_bits_order_flat_smooth_noise() -> None:
    rng = np.random.default_rng(0)
    flat = torch.full((1, 3, 32, 32), 0.5)
    bits = compressed_bits_per_dimension(torch.cat([flat, _unit([smooth_image(rng)]), _unit([noisy_image(rng)])]))
    assert bits.shape == (3,)
    assert bits[0] < bits[1] < bits[2]
    assert bits[2] > 7.5  # uniform noise is incompressible: about 8 bits per value plus format overhead


def test_bits_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="compressor"):
        compressed_bits_per_dimension(torch.zeros(1, 3, 8, 8), compressor="zip")
    with pytest.raises(ValueError, match="shape"):
        compressed_bits_per_dimension(torch.zeros(3, 8, 8))


def test_fit_recovers_the_slope_and_removes_the_trend() -> None:
    rng = np.random.default_rng(0)
    bits = rng.uniform(2.0, 7.0, 500)
    scores = np.exp(0.3 + 2.5 * np.log(bits) + rng.normal(0, 0.05, 500))
    adjustment = ComplexityAdjustment.fit(scores, bits)
    assert adjustment.log_score and adjustment.slope == pytest.approx(2.5, abs=0.05)
    adjusted = adjustment.apply(torch.tensor(scores), torch.tensor(bits)).numpy()
    assert abs(np.corrcoef(adjusted, np.log(bits))[0, 1]) < 0.05
    # negative scores cannot be logged: the identity is used instead
    assert not ComplexityAdjustment.fit(scores - 100.0, bits).log_score
    with pytest.raises(ValueError, match="three"):
        ComplexityAdjustment.fit(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="same complexity"):
        ComplexityAdjustment.fit(np.arange(1.0, 6.0), np.ones(5))


def test_round_trip_through_dict() -> None:
    adjustment = ComplexityAdjustment(slope=1.5, input_mean=[0.0] * 3, input_std=[1.0] * 3, n_real=10)
    assert ComplexityAdjustment.from_dict(adjustment.to_dict()) == adjustment
    with pytest.raises(ValueError, match="finite"):
        ComplexityAdjustment.from_dict({**adjustment.to_dict(), "slope": float("nan")})


@pytest.mark.parametrize("kind", ["autoencoder", "deep_svdd"])
def test_model_score_applies_the_stored_adjustment(kind: str, tmp_path: Path) -> None:
    if kind == "autoencoder":
        config = ResidualAutoencoderConfig(image_size=32, hidden_sizes=[4, 4, 8, 8, 8], latent_dim=8)
        model = ResidualAutoencoderModel(config)
    else:
        model = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8))
        model.center.fill_(0.3)
    model.eval()
    rng = np.random.default_rng(2)
    processor = DeepfakeImageProcessor(size=32)
    real = [smooth_image(rng) for _ in range(12)] + [noisy_image(rng) for _ in range(4)]
    pixels = processor(real)["pixel_values"]
    raw = model.score(pixels)
    adjustment = model.fit_complexity_adjustment([pixels[:8], pixels[8:]], processor.image_mean, processor.image_std)
    assert model.config.complexity_adjustment["n_real"] == 16
    bits = compressed_bits_per_dimension(pixels * 0.5 + 0.5)
    expected = torch.log(raw) - adjustment.slope * torch.log(bits)
    assert torch.allclose(model.score(pixels), expected, atol=1e-5)
    assert torch.allclose(model.raw_score(pixels), raw)

    # persisted in config.json and applied again after loading
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path).eval()
    assert torch.allclose(loaded.score(pixels), expected, atol=1e-5)


def test_pipeline_calibrates_on_adjusted_scores() -> None:
    model = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8)).eval()
    model.center.fill_(0.3)
    processor = DeepfakeImageProcessor(size=32)
    rng = np.random.default_rng(3)
    real = [smooth_image(rng) for _ in range(10)] + [noisy_image(rng) for _ in range(10)]
    model.fit_complexity_adjustment([processor(real)["pixel_values"]])
    detector = EnsembleDeepfakeDetector.from_members({"deep_svdd": (model, processor)})
    detector.calibrate(real)
    adjusted = model.score(processor(real)["pixel_values"]).numpy()
    calibration = model.config.get_calibration()
    assert calibration.mean == pytest.approx(float(adjusted.mean()), rel=1e-5, abs=1e-6)


def test_ensemble_compresses_each_image_once_for_all_corrected_members(monkeypatch) -> None:
    import deepfake_detectors.pipeline.scoring as scoring

    processor = DeepfakeImageProcessor(size=32)
    rng = np.random.default_rng(4)
    real = [smooth_image(rng) for _ in range(10)] + [noisy_image(rng) for _ in range(6)]
    members = {}
    for seed, name in enumerate(["first", "second"]):
        torch.manual_seed(seed)
        model = DeepSVDDModel(DeepSVDDConfig(image_size=32, hidden_sizes=[4, 8], rep_dim=8)).eval()
        model.center.fill_(0.3)
        model.fit_complexity_adjustment([processor(real)["pixel_values"]])
        members[name] = (model, processor)
    detector = EnsembleDeepfakeDetector.from_members(members)
    calls = []

    def counting(images, compressor="png"):
        calls.append(images.shape[0])
        return compressed_bits_per_dimension(images, compressor)

    monkeypatch.setattr(scoring, "compressed_bits_per_dimension", counting)
    shared = detector.raw_member_scores(real)
    assert calls == [len(real)]  # one compression of the batch, shared by both members
    for name, (model, _) in members.items():
        assert np.allclose(shared[name], model.score(processor(real)["pixel_values"]).numpy(), atol=1e-6)
