"""FrequencyVAEConfig / FrequencyVAEModel."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepfakeImageProcessor, FrequencyVAEConfig, FrequencyVAEModel
from deepfake_detectors.modeling.frequency_vae import radial_profile

TINY = dict(image_size=32, scales=[1, 2], hidden_sizes=[8, 16], latent_dim=8)


def _pixels(make, count: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return DeepfakeImageProcessor(size=32)([make(rng) for _ in range(count)])["pixel_values"]


def test_spectral_maps_shapes_and_normalisation() -> None:
    model = FrequencyVAEModel(FrequencyVAEConfig(**TINY, per_channel=True)).eval()
    pixels = torch.rand(3, 3, 32, 32) * 2 - 1
    maps = model.spectral_maps(pixels)
    assert [tuple(m.shape) for m in maps] == [(3, 12, 32, 32), (3, 12, 16, 16)]
    log_magnitude = maps[0][:, :4]
    assert torch.allclose(log_magnitude.mean(dim=(-2, -1)), torch.zeros(3, 4), atol=1e-4)
    phase_norm = maps[0][:, 4:8].pow(2) + maps[0][:, 8:].pow(2)
    assert torch.allclose(phase_norm, torch.ones_like(phase_norm), atol=1e-4)  # cos^2 + sin^2 = 1
    assert model.num_spectral_elements == 12 * (32 * 32 + 16 * 16)
    output = model(pixels)
    assert output.scores.shape == (3,) and output.embeddings.shape == (3, 8)
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(1, 3, 16, 16))


def test_score_is_the_sum_of_the_terms_and_deterministic_in_eval() -> None:
    config = FrequencyVAEConfig(**TINY, beta=0.5, spectral_weight=2.0)
    model = FrequencyVAEModel(config).eval()
    pixels = torch.rand(2, 3, 32, 32) * 2 - 1
    maps = model.spectral_maps(pixels)
    mean, logvar = model.encode(maps)
    terms = model.loss_terms(maps, model.decode(mean), mean, logvar)
    expected = terms["reconstruction"] + 2.0 * terms["spectral"] + 0.5 * terms["kl"]
    assert torch.allclose(model(pixels).scores, expected, atol=1e-6)
    assert torch.equal(model(pixels).scores, model(pixels).scores)
    assert (terms["kl"] >= 0).all() and (terms["spectral"] >= 0).all()


def test_radial_profile_of_a_radial_function() -> None:
    coords = torch.arange(8.0) - 4
    radius = (coords[:, None] ** 2 + coords[None, :] ** 2).sqrt().round().clamp_max(4)  # corners: last bin
    profile = radial_profile(radius.view(1, 1, 8, 8))
    assert torch.allclose(profile[0, 0], torch.arange(5.0))


def test_training_lowers_the_loss_and_noise_scores_higher() -> None:
    model = FrequencyVAEModel(FrequencyVAEConfig(**TINY))
    real = _pixels(smooth_image, 8, seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.eval()
    first = model(real).loss.item()
    model.train()
    for _ in range(20):
        loss = model(real).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    assert model(real).loss.item() < 0.8 * first
    held_out_real = model.score(_pixels(smooth_image, 8, seed=1))
    noise = model.score(_pixels(noisy_image, 8, seed=2))
    assert noise.min() > held_out_real.median()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="divisible"):
        FrequencyVAEConfig(image_size=36, scales=[1, 2], hidden_sizes=[8, 16])
    with pytest.raises(ValueError, match="scales"):
        FrequencyVAEConfig(scales=[])
    with pytest.raises(ValueError, match="beta"):
        FrequencyVAEConfig(beta=-1)
    with pytest.raises(ValueError, match="spectral_weight"):
        FrequencyVAEConfig(spectral_weight=-0.1)
    with pytest.raises(ValueError, match="latent_dim"):
        FrequencyVAEConfig(latent_dim=0)


def test_config_round_trip(tmp_path) -> None:
    config = FrequencyVAEConfig(**TINY, per_channel=True, beta=0.25, calibration={"mean": 1.0, "std": 2.0, "n_real": 5})
    config.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "deepfake-frequency-vae"
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, FrequencyVAEConfig)
    for key in ("scales", "hidden_sizes", "latent_dim", "per_channel", "use_phase", "beta", "calibration"):
        assert getattr(loaded, key) == getattr(config, key)


def test_save_and_load_give_identical_scores(tmp_path) -> None:
    model = FrequencyVAEModel(FrequencyVAEConfig(**TINY)).eval()
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").stat().st_size < 1_000_000
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, FrequencyVAEModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))


def test_default_size_is_a_few_megabytes() -> None:
    parameters = sum(p.numel() for p in FrequencyVAEModel(FrequencyVAEConfig()).parameters())
    assert parameters * 4 < 5_000_000
