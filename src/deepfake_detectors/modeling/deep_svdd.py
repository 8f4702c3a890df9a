"""Deep SVDD: a bias-free conv encoder trained to map real images close to a fixed centre."""

from __future__ import annotations

from typing import Iterable, Optional

import torch
from torch import nn
from transformers import initialization as init

from ..configuration.deep_svdd import DeepSVDDConfig
from ..features.filters import highpass_residual
from .base import DeepfakeDetectorPreTrainedModel, DetectorOutput


class HypersphereMixin:
    """Deep SVDD's centre and objective, shared by every model with an ``embed`` method and a ``center`` buffer.

    Score = squared distance of the embedding to the fixed centre; loss = its batch mean.
    """

    @torch.no_grad()
    def fit_initial_statistics(self, batches: Iterable[torch.Tensor]) -> "HypersphereMixin":
        """Fix the centre to the mean embedding of real images (run once, before training).

        Args:
            batches: an iterable of ``pixel_values`` batches of real training images.

        Returns:
            The model itself; the new centre is in the ``center`` buffer.
        """
        was_training = self.training
        self.eval()
        total, count = torch.zeros_like(self.center), 0
        for pixel_values in batches:
            embeddings = self.embed(pixel_values.to(self.center.device))
            total += embeddings.sum(dim=0)
            count += embeddings.shape[0]
        self.train(was_training)
        if count == 0:
            raise ValueError("fit_initial_statistics needs at least one batch of images")
        center = total / count
        eps = self.config.center_eps
        center[(center.abs() < eps) & (center < 0)] = -eps
        center[(center.abs() < eps) & (center >= 0)] = eps
        self.center.copy_(center)
        return self

    def forward(self, pixel_values: torch.Tensor, labels: Optional[torch.Tensor] = None, **kwargs) -> DetectorOutput:
        """Embed the batch; ``scores`` are squared distances to the centre and ``loss`` their mean.

        Args:
            pixel_values: images normalised to [-1, 1], ``[batch, 3, H, W]``.
            labels: ignored (one-class training on real images only); accepted for Trainer compatibility.
        """
        embeddings = self.embed(pixel_values)
        distances = (embeddings - self.center).pow(2).sum(dim=1)
        return DetectorOutput(loss=distances.mean(), scores=distances.detach(), embeddings=embeddings)


class DeepSVDDModel(HypersphereMixin, DeepfakeDetectorPreTrainedModel):
    """One-class Deep SVDD (Ruff et al., ICML 2018): score = squared distance of the embedding to the centre.

    The centre ``center`` is a persistent buffer, fixed once from the mean embedding of real training images
    (:meth:`fit_initial_statistics`) and never trained. Loss = mean squared distance of the batch.

    Args:
        config: a :class:`DeepSVDDConfig`.

    Example:
        >>> model = DeepSVDDModel(DeepSVDDConfig(hidden_sizes=[8, 16], rep_dim=8))
        >>> model(torch.zeros(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = DeepSVDDConfig
    base_model_prefix = "deep_svdd"

    def __init__(self, config: DeepSVDDConfig) -> None:
        super().__init__(config)
        in_channels = config.num_channels * (2 if config.input_highpass else 1)
        layers: list[nn.Module] = []
        for out_channels in config.hidden_sizes:
            layers += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels, eps=1e-4, affine=False),
                nn.LeakyReLU(0.1),
                nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                nn.BatchNorm2d(out_channels, eps=1e-4, affine=False),
                nn.LeakyReLU(0.1),
                nn.MaxPool2d(2),
            ]
            in_channels = out_channels
        self.encoder = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.hidden_sizes)
        self.projection = nn.Linear(in_channels * side * side, config.rep_dim, bias=False)
        self.register_buffer("center", torch.zeros(config.rep_dim), persistent=True)
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, nn.Conv2d):
            init.kaiming_normal_(module.weight, a=0.1, nonlinearity="leaky_relu")
        elif isinstance(module, nn.Linear):
            init.xavier_uniform_(module.weight)
        elif isinstance(module, nn.BatchNorm2d):
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
        elif isinstance(module, DeepSVDDModel):
            init.zeros_(module.center)

    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Embeddings ``[batch, rep_dim]`` of images normalised to [-1, 1]."""
        if self.config.input_highpass:
            pixel_values = torch.cat([pixel_values, 4.0 * highpass_residual(pixel_values)], dim=1)
        return self.projection(self.encoder(pixel_values).flatten(1))
