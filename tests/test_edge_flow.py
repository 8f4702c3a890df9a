"""EdgeFlowConfig / EdgeFlowModel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import noisy_image, smooth_image
from transformers import AutoConfig, AutoModel

import deepfake_detectors  # noqa: F401 - registers the Auto classes
from deepfake_detectors import DeepfakeImageProcessor, EdgeFlowConfig, EdgeFlowModel
from deepfake_detectors.modeling.edge_flow import coupling_mask, edge_features

TINY = dict(image_size=32, num_coupling_layers=4, hidden_size=32)
#: The Sobel-statistics representation without whitening (48 values).
STATS = dict(TINY, edge_representation="statistics", whiten=False)


def _pixels(make, count: int, seed: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return DeepfakeImageProcessor(size=32)([make(rng) for _ in range(count)])["pixel_values"]


def test_edge_features_shape_and_histograms() -> None:
    config = EdgeFlowConfig(**STATS)
    images = torch.rand(3, 3, 32, 32)
    features = edge_features(images, config)
    assert features.shape == (3, config.feature_dim) == (3, 48)
    assert torch.isfinite(features).all()
    per_scale = config.magnitude_bins + config.orientation_bins + 4
    magnitude_hist = features[:, : config.magnitude_bins].exp() - 1e-3
    assert torch.allclose(magnitude_hist.sum(1), torch.ones(3), atol=1e-4)
    orientation_hist = features[:, config.magnitude_bins : config.magnitude_bins + config.orientation_bins].exp() - 1e-3
    assert torch.allclose(orientation_hist.sum(1), torch.ones(3), atol=1e-4)
    # horizontal stripes: all gradients vertical, one orientation bin, coherence 1
    stripes = torch.zeros(1, 3, 32, 32)
    stripes[..., ::4, :] = 1.0
    coherence = edge_features(stripes, config)[0, per_scale - 2]
    assert coherence == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="too small"):
        edge_features(torch.rand(1, 3, 12, 12), config)


def test_couplings_are_invertible_with_the_right_log_determinant() -> None:
    model = EdgeFlowModel(EdgeFlowConfig(**STATS))
    for coupling in model.couplings:
        torch.nn.init.normal_(coupling.net[-1].weight, std=0.3)
    inputs = torch.randn(5, 48, dtype=torch.float64)
    model.double()
    coupling = model.couplings[0]
    outputs, log_det = coupling(inputs)
    assert torch.allclose(coupling.inverse(outputs), inputs, atol=1e-10)
    jacobian = torch.autograd.functional.jacobian(lambda x: coupling(x[None])[0][0], inputs[0])
    assert log_det[0].item() == pytest.approx(torch.linalg.slogdet(jacobian).logabsdet.item(), abs=1e-8)
    masks = torch.tensor([coupling_mask(48, layer) for layer in range(4)])
    assert (~masks).any(0).all()  # every coordinate is transformed by some layer


@pytest.mark.parametrize("soft_clip", [0.0, 2.0])
def test_identity_couplings_at_init_give_the_gaussian_nll(soft_clip: float) -> None:
    model = EdgeFlowModel(EdgeFlowConfig(**STATS, soft_clip=soft_clip)).eval()
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    model.fit_initial_statistics([pixels[:2], pixels[2:]])
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    x = (model.edge_features(pixels) - model.feature_mean) / model.feature_std
    if soft_clip:  # change of variables y = c * asinh(x / c), dy/dx = 1 / sqrt(1 + (x / c)^2)
        y = soft_clip * torch.asinh(x / soft_clip)
        expected = 0.5 * y.pow(2).sum(1) + 0.5 * torch.log1p((x / soft_clip).pow(2)).sum(1)
    else:
        expected = 0.5 * x.pow(2).sum(1)
    expected = expected + 0.5 * 48 * math.log(2 * math.pi)
    output = model(pixels)
    assert output.scores.shape == (4,) and output.embeddings.shape == (4, 48)
    assert torch.allclose(output.scores, expected, rtol=1e-5, atol=1e-4)
    assert (model.feature_std >= model.config.min_feature_std).all()
    with pytest.raises(ValueError):
        model.fit_initial_statistics([])


@pytest.mark.parametrize("representation", [STATS, TINY], ids=["statistics", "wavelet"])
def test_training_lowers_the_nll_and_noise_scores_higher(representation: dict) -> None:
    model = EdgeFlowModel(EdgeFlowConfig(**representation))
    real = _pixels(smooth_image, 16, seed=0)
    model.fit_initial_statistics([real])
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = model(real).loss.item()
    for _ in range(30):
        loss = model(real).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert model(real).loss.item() < first - 5.0
    held_out_real = model.score(_pixels(smooth_image, 8, seed=1))
    noise = model.score(_pixels(noisy_image, 8, seed=2))
    assert noise.min() > held_out_real.max()
    samples = model.sample(256, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (256, model.config.feature_dim) and torch.isfinite(samples).all()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="too small"):
        EdgeFlowConfig(image_size=12, num_scales=3)
    with pytest.raises(ValueError, match="num_coupling_layers"):
        EdgeFlowConfig(num_coupling_layers=1)
    with pytest.raises(ValueError, match="magnitude_range"):
        EdgeFlowConfig(magnitude_range=(0.5, 0.1))
    with pytest.raises(ValueError, match="max_log_scale"):
        EdgeFlowConfig(max_log_scale=0)
    with pytest.raises(ValueError, match="magnitude_bins"):
        EdgeFlowConfig(magnitude_bins=1)
    with pytest.raises(ValueError, match="soft_clip"):
        EdgeFlowConfig(soft_clip=-1)
    with pytest.raises(ValueError, match="edge_representation"):
        EdgeFlowConfig(edge_representation="canny")
    with pytest.raises(ValueError, match="divisible"):
        EdgeFlowConfig(image_size=36, num_scales=3)  # 36 is not a multiple of 8
    assert EdgeFlowConfig(image_size=36, num_scales=3, edge_representation="statistics").feature_dim == 48


def test_config_round_trip(tmp_path) -> None:
    config = EdgeFlowConfig(**TINY, num_scales=2, magnitude_bins=6, magnitude_range=(1e-3, 0.4), soft_clip=3.0)
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(loaded, EdgeFlowConfig) and loaded.model_type == "deepfake-edge-flow"
    for key in ("num_scales", "magnitude_bins", "magnitude_range", "num_coupling_layers", "soft_clip", "feature_dim"):
        assert getattr(loaded, key) == getattr(config, key)


@pytest.mark.parametrize("representation", [STATS, TINY], ids=["statistics", "wavelet"])
def test_save_and_load_keep_the_normalisation_and_scores(tmp_path, representation: dict) -> None:
    model = EdgeFlowModel(EdgeFlowConfig(**representation))
    for coupling in model.couplings:
        torch.nn.init.normal_(coupling.net[-1].weight, std=0.1)
    model.fit_initial_statistics([torch.rand(8, 3, 32, 32) * 2 - 1])
    model.eval().save_pretrained(tmp_path)
    limit = 500_000 if model.config.feature_dim == 48 else 8_000_000  # the 1008 x 1008 whitening: 4 MB
    assert (tmp_path / "model.safetensors").stat().st_size < limit
    loaded, info = AutoModel.from_pretrained(tmp_path, output_loading_info=True)
    assert isinstance(loaded, EdgeFlowModel)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert torch.equal(loaded.feature_mean, model.feature_mean) and torch.equal(loaded.feature_std, model.feature_std)
    if model.config.whiten:
        assert torch.equal(loaded.whitening, model.whitening)
    pixels = torch.rand(4, 3, 32, 32) * 2 - 1
    assert torch.equal(model.score(pixels), loaded.score(pixels))


def test_wavelet_edges_are_the_haar_details_of_the_luma() -> None:
    from deepfake_detectors.features.filters import haar_details
    from deepfake_detectors.features.statistics import grayscale

    config = EdgeFlowConfig(**TINY)
    images = torch.rand(3, 3, 32, 32)
    features = edge_features(images, config)
    assert features.shape == (3, config.feature_dim) == (3, 1008)
    assert torch.equal(features, haar_details(grayscale(images), 3))
    # a vertical step edge shows up in the left-right differences only, where it crosses a 2x2 cell
    step = torch.zeros(1, 3, 32, 32)
    step[..., 17:] = 1.0
    finest = edge_features(step, config)[0, : 3 * 256].view(3, 16, 16)
    assert finest[1:].abs().max() == 0 and (finest[0, :, 8] != 0).all() and finest[0, :, :8].abs().max() == 0


def test_whitened_flow_at_init_is_the_full_gaussian_of_real_features() -> None:
    """Identity couplings + whitening = the Ledoit-Wolf Gaussian of the standardised real features."""
    from sklearn.covariance import LedoitWolf

    model = EdgeFlowModel(EdgeFlowConfig(**TINY, soft_clip=0.0)).eval()
    real = _pixels(smooth_image, 40, seed=0)
    model.fit_initial_statistics([real[:20], real[20:]])
    standardised = ((model.edge_features(real) - model.feature_mean) / model.feature_std).double().numpy()
    covariance = LedoitWolf().fit(standardised).covariance_
    test = _pixels(noisy_image, 4, seed=3)
    x = ((model.edge_features(test) - model.feature_mean) / model.feature_std).double().numpy()
    expected = 0.5 * np.einsum("bi,ij,bj->b", x, np.linalg.inv(covariance), x)
    expected += 0.5 * np.linalg.slogdet(covariance)[1] + 0.5 * x.shape[1] * math.log(2 * math.pi)
    assert np.allclose(model(test).scores.double().numpy(), expected, rtol=1e-3)
    # the whitening is lower triangular and inverts back exactly in sample()
    assert torch.equal(model.whitening, model.whitening.tril())
