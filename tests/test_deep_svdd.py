"""DeepSVDDConfig / DeepSVDDModel."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepSVDDConfig, DeepSVDDModel

TINY = dict(image_size=32, hidden_sizes=[4, 8], rep_dim=8)


def test_encoder_has_no_bias_and_no_affine_norm() -> None:
    model = DeepSVDDModel(DeepSVDDConfig(**TINY))
    names = [name for name, _ in model.named_parameters()]
    assert names and not any(name.endswith("bias") for name in names)
    assert all(not module.affine for module in model.modules() if isinstance(module, torch.nn.BatchNorm2d))


def test_center_from_mean_embedding_with_eps() -> None:
    model = DeepSVDDModel(DeepSVDDConfig(**TINY, center_eps=0.1))
    batches = [torch.rand(8, 3, 32, 32) * 2 - 1 for _ in range(3)]
    center = model.fit_initial_statistics(batches).center.clone()
    model.eval()
    with torch.no_grad():
        mean = torch.cat([model.embed(batch) for batch in batches]).mean(0)
    big = mean.abs() >= 0.1
    assert torch.allclose(center[big], mean[big], atol=1e-5)
    assert (center[~big].abs() == pytest.approx(0.1)) if (~big).any() else True
    assert (center.abs() >= 0.1 - 1e-7).all()
    with pytest.raises(ValueError):
        model.fit_initial_statistics([])


def test_score_is_squared_distance_to_center() -> None:
    model = DeepSVDDModel(DeepSVDDConfig(**TINY)).eval()
    model.center.fill_(0.5)
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    output = model(pixels)
    expected = (output.embeddings - 0.5).pow(2).sum(1)
    assert torch.allclose(output.scores, expected)
    assert torch.isclose(output.loss, expected.mean())


def test_training_pulls_real_images_towards_the_center() -> None:
    model = DeepSVDDModel(DeepSVDDConfig(**TINY))
    pixels = torch.rand(32, 3, 32, 32) * 2 - 1
    model.fit_initial_statistics([pixels])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = model(pixels).loss.item()
    for _ in range(30):
        loss = model(pixels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.5 * first


def test_save_and_load_keep_the_center_and_scores(tmp_path) -> None:
    model = DeepSVDDModel(DeepSVDDConfig(**TINY))
    model.fit_initial_statistics([torch.rand(8, 3, 32, 32) * 2 - 1])
    model.eval().save_pretrained(tmp_path)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), DeepSVDDConfig)
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(loaded.center, model.center)
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="divisible"):
        DeepSVDDConfig(image_size=36, hidden_sizes=[4, 8, 16])
