"""Multi-scale statistics: squared Mahalanobis distance of edge, residual and colour statistics."""

from __future__ import annotations

from ..configuration.statistical import StatisticalConfig
from .feature_base import MahalanobisDetectorModel


class StatisticalModel(MahalanobisDetectorModel):
    """Squared Mahalanobis distance of standardised Sobel, high-pass residual and colour statistics (several
    scales) to the real-image Gaussian.

    The fitted statistics (``feature_mean``, ``feature_scale`` and the Ledoit-Wolf ``precision``) are persistent
    buffers saved in ``model.safetensors``; nothing else is persisted.

    Args:
        config: a :class:`StatisticalConfig`.

    Example:
        >>> model = StatisticalModel(StatisticalConfig())
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = StatisticalConfig
    base_model_prefix = "statistical"
