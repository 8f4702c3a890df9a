"""Local outlier factor (novelty mode) on multi-scale patch and residual features."""

from __future__ import annotations

from typing import Any

import torch

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

    def fit_features(self, standardised: torch.Tensor) -> None:
        """Fit on at most ``config.max_fit_samples`` real images (a seeded random subset), stored in float32."""
        limit = self.config.max_fit_samples
        if limit is not None and standardised.shape[0] > limit:
            generator = torch.Generator().manual_seed(self.config.random_state)
            keep = torch.randperm(standardised.shape[0], generator=generator)[:limit].sort().values
            standardised = standardised[keep.to(standardised.device)]
        super().fit_features(standardised.float())
