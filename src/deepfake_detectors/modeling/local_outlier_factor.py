"""Local outlier factor (novelty mode) on multi-scale patch and residual features."""

from __future__ import annotations

from typing import Any

from ..configuration.local_outlier_factor import LocalOutlierFactorConfig
from .feature_base import SklearnDetectorModel


class LocalOutlierFactorModel(SklearnDetectorModel):
    """scikit-learn ``LocalOutlierFactor(novelty=True)`` on standardised patch features; score =
    ``-score_samples`` = the local outlier factor (about 1 for real-like images, larger for outliers).

    Args:
        config: a :class:`LocalOutlierFactorConfig`.

    Example:
        >>> model = LocalOutlierFactorModel(LocalOutlierFactorConfig(n_neighbors=10))
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = LocalOutlierFactorConfig
    base_model_prefix = "local_outlier_factor"

    def build_estimator(self) -> Any:
        from sklearn.neighbors import LocalOutlierFactor

        # Brute-force neighbours: exact, what "auto" picks for these >15-dim features anyway, and no KD/ball tree
        # types in estimator.skops.
        return LocalOutlierFactor(n_neighbors=self.config.n_neighbors, novelty=True, algorithm="brute")
