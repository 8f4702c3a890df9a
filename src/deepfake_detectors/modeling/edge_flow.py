"""Edge flow: a RealNVP normalizing flow on multi-scale edges (Haar wavelet details or Sobel statistics); the NLL is
the fake-ness score."""

from __future__ import annotations

import math
from typing import Iterable, Optional

import torch
from torch import nn
from transformers import initialization as init

from ..configuration.edge_flow import EdgeFlowConfig
from ..features.filters import blur3x3, haar_details
from ..features.statistics import grayscale, pyramid, sobel
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput

_EPS = 1e-6
_HISTOGRAM_FLOOR = 1e-3


def _soft_histogram(position: torch.Tensor, weight: torch.Tensor, bins: int, circular: bool) -> torch.Tensor:
    """Linear-interpolation histogram of fractional bin positions ``[batch, n]`` (weights ``[batch, n]``)."""
    lower = position.floor()
    upper_share = position - lower
    lower = lower.long()
    upper = lower + 1
    if circular:
        lower, upper = lower % bins, upper % bins
    else:
        upper = upper.clamp_max(bins - 1)
    histogram = weight.new_zeros(weight.shape[0], bins)
    histogram.scatter_add_(1, lower, weight * (1.0 - upper_share))
    histogram.scatter_add_(1, upper, weight * upper_share)
    return histogram


def _coherence(jxx: torch.Tensor, jyy: torch.Tensor, jxy: torch.Tensor) -> torch.Tensor:
    """Orientation coherence of a structure tensor: 0 = isotropic, 1 = one dominant direction."""
    return ((jxx - jyy).pow(2) + 4 * jxy.pow(2)).sqrt() / (jxx + jyy + _EPS)


def edge_features(images: torch.Tensor, config: EdgeFlowConfig) -> torch.Tensor:
    """Multi-scale edges of images in [0, 1], ``[batch, config.feature_dim]``, as ``config.edge_representation``
    says: the Haar wavelet details of the luma (:func:`~deepfake_detectors.features.filters.haar_details`), or
    :func:`sobel_edge_statistics`.

    Example:
        >>> edge_features(torch.rand(2, 3, 32, 32), EdgeFlowConfig()).shape
        torch.Size([2, 1008])
    """
    if config.edge_representation == "wavelet":
        return haar_details(grayscale(images.float()), config.num_scales)
    return sobel_edge_statistics(images, config)


def sobel_edge_statistics(images: torch.Tensor, config: EdgeFlowConfig) -> torch.Tensor:
    """Multi-scale Sobel edge statistics of images in [0, 1], ``[batch, config.feature_dim]``.

    Per pyramid level of the luma: the log of a log-spaced gradient-magnitude histogram, the log of a
    magnitude-weighted orientation histogram (over 180 degrees), mean and standard deviation of the local
    orientation coherence (structure tensor smoothed 3x3), the global coherence and the log mean magnitude.

    Example:
        >>> sobel_edge_statistics(torch.rand(2, 3, 32, 32), EdgeFlowConfig(edge_representation="statistics")).shape
        torch.Size([2, 48])
    """
    low, high = (math.log(v) for v in config.magnitude_range)
    levels = pyramid(grayscale(images.float()), config.num_scales)
    if len(levels) < config.num_scales:
        raise ValueError(f"images of side {tuple(images.shape[-2:])} are too small for {config.num_scales} scales")
    features = []
    for level in levels:
        gx, gy = sobel(level)
        magnitude = (gx.pow(2) + gy.pow(2) + 1e-12).sqrt()
        flat_magnitude = magnitude.flatten(1)
        count = flat_magnitude.shape[1]

        position = ((flat_magnitude.log() - low) / (high - low) * (config.magnitude_bins - 1)).clamp(
            0, config.magnitude_bins - 1
        )
        magnitude_hist = _soft_histogram(position, torch.ones_like(position), config.magnitude_bins, False) / count

        angle = torch.remainder(torch.atan2(gy, gx), math.pi).flatten(1)
        position = angle / math.pi * config.orientation_bins
        orientation_hist = _soft_histogram(position, flat_magnitude, config.orientation_bins, True)
        orientation_hist = orientation_hist / (flat_magnitude.sum(dim=1, keepdim=True) + _EPS)

        jxx, jyy, jxy = gx.pow(2), gy.pow(2), gx * gy
        local = _coherence(blur3x3(jxx), blur3x3(jyy), blur3x3(jxy)).flatten(1)
        global_coherence = _coherence(jxx.flatten(1).mean(1), jyy.flatten(1).mean(1), jxy.flatten(1).mean(1))
        features += [
            torch.log(magnitude_hist + _HISTOGRAM_FLOOR),
            torch.log(orientation_hist + _HISTOGRAM_FLOOR),
            local.mean(dim=1, keepdim=True),
            local.std(dim=1, keepdim=True),
            global_coherence[:, None],
            torch.log(flat_magnitude.mean(dim=1, keepdim=True) + _EPS),
        ]
    return torch.cat(features, dim=1)


class ZeroLinear(nn.Linear):
    """A linear layer initialised to zero, so a coupling layer starts as the identity."""


class AffineCoupling(nn.Module):
    """RealNVP affine coupling: the masked-out half is scaled and shifted by a function of the kept half.

    ``y = m * x + (1 - m) * (x * exp(s) + t)`` with ``(s, t) = net(m * x)`` and ``s = c * tanh(s_raw / c)``.

    Args:
        dim: feature dimension.
        hidden_size: width of the two hidden layers.
        mask: ``dim`` booleans, ``True`` for the kept (conditioning) coordinates.
        max_log_scale: the bound ``c`` of the log-scales.
    """

    def __init__(self, dim: int, hidden_size: int, mask: list[bool], max_log_scale: float) -> None:
        super().__init__()
        self.mask_pattern = [bool(v) for v in mask]  # plain list: rebuilt from the config, never saved
        self.max_log_scale = max_log_scale
        self.net = nn.Sequential(
            nn.Linear(dim, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            ZeroLinear(hidden_size, 2 * dim),
        )

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map ``inputs`` towards the base space; returns the output and the log-determinant per row."""
        mask = torch.tensor(self.mask_pattern, dtype=inputs.dtype, device=inputs.device)
        raw_log_scale, shift = self.net(inputs * mask).chunk(2, dim=1)
        log_scale = self.max_log_scale * torch.tanh(raw_log_scale / self.max_log_scale) * (1 - mask)
        outputs = inputs * mask + (1 - mask) * (inputs * log_scale.exp() + shift)
        return outputs, log_scale.sum(dim=1)

    def inverse(self, outputs: torch.Tensor) -> torch.Tensor:
        """Invert :meth:`forward` (for sampling and tests)."""
        mask = torch.tensor(self.mask_pattern, dtype=outputs.dtype, device=outputs.device)
        raw_log_scale, shift = self.net(outputs * mask).chunk(2, dim=1)
        log_scale = self.max_log_scale * torch.tanh(raw_log_scale / self.max_log_scale) * (1 - mask)
        return outputs * mask + (1 - mask) * (outputs - shift) * (-log_scale).exp()


def coupling_mask(dim: int, layer: int) -> list[bool]:
    """Mask of coupling ``layer`` (``True`` = kept / conditioning coordinate).

    Pairs of layers alternate between even/odd and first-half/second-half splits, and within a pair the mask is
    flipped, so every coordinate is transformed and mixed with every scale. A plain list, so that it never
    touches the meta device ``from_pretrained`` builds models on.

    Example:
        >>> coupling_mask(4, 0), coupling_mask(4, 3)
        ([True, False, True, False], [False, False, True, True])
    """
    if (layer // 2) % 2 == 0:
        mask = [index % 2 == 0 for index in range(dim)]
    else:
        mask = [index < dim // 2 for index in range(dim)]
    return mask if layer % 2 == 0 else [not kept for kept in mask]


class EdgeFlowModel(DeepfakeDetectorPreTrainedModel):
    """Density of the multi-scale edges of real images, modelled by a RealNVP flow (one-class).

    Images in [-1, 1] are mapped to :func:`edge_features` (``config.feature_dim`` values), standardised with the
    persistent buffers ``feature_mean`` / ``feature_std``, whitened with ``whitening`` (``config.whiten``; the
    inverse Cholesky factor of the real features' Ledoit-Wolf covariance, a fixed invertible linear flow layer),
    all three fixed by :meth:`fit_initial_statistics` on real training images before training, soft-clipped
    (``c * asinh(x / c)``, ``c = soft_clip``) and pushed through ``num_coupling_layers`` affine couplings to a
    standard normal. With the couplings still at their identity initialisation (and ``soft_clip=0``) the model is
    exactly the Gaussian of the real features; training moves it beyond.
    Loss = mean negative log-likelihood (nats, of the standardised features); score = per-image NLL.

    Args:
        config: an :class:`EdgeFlowConfig`.

    Example:
        >>> model = EdgeFlowModel(EdgeFlowConfig(num_coupling_layers=4, hidden_size=16)).eval()
        >>> model.fit_initial_statistics([torch.rand(8, 3, 32, 32) * 2 - 1]).feature_mean.shape
        torch.Size([1008])
        >>> model(torch.zeros(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = EdgeFlowConfig
    base_model_prefix = "edge_flow"

    def __init__(self, config: EdgeFlowConfig) -> None:
        super().__init__(config)
        dim = config.feature_dim
        self.couplings = nn.ModuleList(
            AffineCoupling(dim, config.hidden_size, coupling_mask(dim, layer), config.max_log_scale)
            for layer in range(config.num_coupling_layers)
        )
        self.register_buffer("feature_mean", torch.zeros(dim), persistent=True)
        self.register_buffer("feature_std", torch.ones(dim), persistent=True)
        if config.whiten:
            self.register_buffer("whitening", torch.eye(dim), persistent=True)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, ZeroLinear):
            init.zeros_(module.weight)
            init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            init.kaiming_uniform_(module.weight, a=0.0, nonlinearity="relu")
            init.zeros_(module.bias)
        elif isinstance(module, EdgeFlowModel):
            init.zeros_(module.feature_mean)
            init.ones_(module.feature_std)
            if module.config.whiten:
                module.whitening.copy_(torch.eye(module.config.feature_dim))

    @torch.no_grad()
    def edge_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Raw (unstandardised) edge features ``[batch, feature_dim]`` of images normalised to [-1, 1]."""
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(f"expected pixel_values of shape [batch, 3, H, W], got {tuple(pixel_values.shape)}")
        return edge_features((pixel_values.float() + 1.0) / 2.0, self.config)

    @torch.no_grad()
    def fit_initial_statistics(self, batches: Iterable[torch.Tensor]) -> "EdgeFlowModel":
        """Fix ``feature_mean`` / ``feature_std`` (and ``whitening``) from real training images (run once, before
        training).

        Standard deviations below ``config.min_feature_std`` are raised to it, so a feature that is nearly
        constant on real images cannot blow up.

        Args:
            batches: an iterable of ``pixel_values`` batches of real training images.

        Returns:
            The model itself; the new mean and standard deviation are in the buffers.
        """
        features = [self.edge_features(batch.to(self.feature_mean.device)) for batch in batches]
        if not features:
            raise ValueError("fit_initial_statistics needs at least one batch of images")
        features = torch.cat(features)
        if features.shape[0] < 2:
            raise ValueError("fit_initial_statistics needs at least two images")
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(features.std(dim=0).clamp_min(self.config.min_feature_std))
        if self.config.whiten:
            from sklearn.covariance import LedoitWolf

            standardised = ((features - self.feature_mean) / self.feature_std).double().cpu().numpy()
            covariance = torch.from_numpy(LedoitWolf().fit(standardised).covariance_)
            factor = torch.linalg.cholesky(covariance)
            identity = torch.eye(factor.shape[0], dtype=factor.dtype)
            inverse_factor = torch.linalg.solve_triangular(factor, identity, upper=False).tril()
            self.whitening.copy_(inverse_factor.to(self.whitening))
        return self

    def to_base(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Standardise raw features, whiten and soft-clip them and run the couplings.

        Returns:
            The base-space points and the summed log-determinant of soft clip and couplings (per row).
        """
        hidden = (features - self.feature_mean) / self.feature_std
        log_det = hidden.new_zeros(hidden.shape[0])
        if self.config.whiten:
            hidden = hidden @ self.whitening.T
            log_det = log_det + torch.diagonal(self.whitening).abs().log().sum()
        clip = self.config.soft_clip
        if clip > 0:
            log_det = log_det - 0.5 * torch.log1p((hidden / clip).pow(2)).sum(dim=1)
            hidden = clip * torch.asinh(hidden / clip)
        for coupling in self.couplings:
            hidden, layer_log_det = coupling(hidden)
            log_det = log_det + layer_log_det
        return hidden, log_det

    @torch.no_grad()
    def sample(self, num_samples: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw raw edge-feature vectors from the model (inverse flow of standard normal samples)."""
        hidden = torch.randn(
            num_samples, self.config.feature_dim, generator=generator, device=self.feature_mean.device
        )
        for coupling in reversed(self.couplings):
            hidden = coupling.inverse(hidden)
        if self.config.soft_clip > 0:
            hidden = self.config.soft_clip * torch.sinh(hidden / self.config.soft_clip)
        if self.config.whiten:
            hidden = torch.linalg.solve_triangular(self.whitening, hidden.T, upper=False).T
        return hidden * self.feature_std + self.feature_mean

    @staticmethod
    def _nll(base: torch.Tensor, log_det: torch.Tensor) -> torch.Tensor:
        log_prob = -0.5 * base.pow(2).sum(dim=1) - 0.5 * base.shape[1] * math.log(2 * math.pi)
        return -(log_prob + log_det)

    def negative_log_likelihood(self, features: torch.Tensor) -> torch.Tensor:
        """Per-row NLL (nats) of raw feature vectors under the flow, on the standardised scale."""
        return self._nll(*self.to_base(features))

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Score the batch; ``scores`` are per-image NLLs and ``loss`` their mean.

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, H, W]``.
            labels: ignored (one-class training on real images only); accepted for Trainer compatibility.

        Returns:
            :class:`DetectorOutput` with ``loss``, ``scores`` and ``embeddings`` (the base-space points).
        """
        base, log_det = self.to_base(self.edge_features(pixel_values))
        nll = self._nll(base, log_det)
        return DetectorOutput(loss=nll.mean(), scores=nll.detach(), embeddings=base)
