"""Colour distribution: squared Mahalanobis distance of colour features to the real-image Gaussian."""

from __future__ import annotations

from ..configuration.colour_distribution import ColourDistributionConfig
from .feature_base import MahalanobisDetectorModel


class ColourDistributionModel(MahalanobisDetectorModel):
    """Squared Mahalanobis distance of standardised colour histograms and moments to the real-image Gaussian.

    The fitted statistics (``feature_mean``, ``feature_scale`` and the Ledoit-Wolf ``precision``) are persistent
    buffers saved in ``model.safetensors``; nothing else is persisted.

    Args:
        config: a :class:`ColourDistributionConfig`.

    Example:
        >>> model = ColourDistributionModel(ColourDistributionConfig())
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = ColourDistributionConfig
    base_model_prefix = "colour_distribution"
