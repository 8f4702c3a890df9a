"""A per-batch cache so that several detectors share one computation of the same image feature."""

from __future__ import annotations

from typing import Callable

import torch

FeatureFunction = Callable[[torch.Tensor], torch.Tensor]

#: name -> function mapping ``[batch, 3, H, W]`` images in [0, 1] to ``[batch, dim]`` features.
FEATURES: dict[str, FeatureFunction] = {}


def register_feature(name: str) -> Callable[[FeatureFunction], FeatureFunction]:
    """Decorator registering a batch feature function under ``name`` (used by :class:`FeatureCache`)."""

    def decorate(function: FeatureFunction) -> FeatureFunction:
        if name in FEATURES and FEATURES[name] is not function:
            raise ValueError(f"feature {name!r} is already registered")
        FEATURES[name] = function
        return function

    return decorate


class FeatureCache:
    """Computes each named feature of one batch at most once.

    Args:
        images: ``[batch, 3, H, W]`` images in [0, 1] (not normalised).

    Example:
        >>> cache = FeatureCache(torch.rand(2, 3, 32, 32))
        >>> cache.get("colour_moments") is cache.get("colour_moments")
        True
    """

    def __init__(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected [batch, 3, H, W] images, got {tuple(images.shape)}")
        self.images = images
        self._values: dict[str, torch.Tensor] = {}
        self.computed: list[str] = []

    def get(self, name: str) -> torch.Tensor:
        """The feature ``name`` of the batch, computed on first use."""
        if name not in self._values:
            if name not in FEATURES:
                raise KeyError(f"unknown feature {name!r}; known: {sorted(FEATURES)}")
            self._values[name] = FEATURES[name](self.images).float()
            self.computed.append(name)
        return self._values[name]

    def concat(self, names: list[str]) -> torch.Tensor:
        """Several features side by side, ``[batch, sum of dims]``."""
        return torch.cat([self.get(name).flatten(1) for name in names], dim=1)

