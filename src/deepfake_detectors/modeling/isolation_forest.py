"""Isolation forest on frequency (power spectrum) and spatial (gradient, patch) features."""

from __future__ import annotations

from typing import Any

from ..configuration.isolation_forest import IsolationForestConfig
from .feature_base import SklearnDetectorModel


class IsolationForestModel(SklearnDetectorModel):
    """scikit-learn ``IsolationForest`` on standardised spectrum and gradient features; score = ``-score_samples``
    (the average path length turned into an anomaly score: higher = easier to isolate = more likely fake).

    Args:
        config: an :class:`IsolationForestConfig`.

    Example:
        >>> model = IsolationForestModel(IsolationForestConfig(n_estimators=20))
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = IsolationForestConfig
    base_model_prefix = "isolation_forest"

    def build_estimator(self) -> Any:
        from sklearn.ensemble import IsolationForest

        return IsolationForest(
            n_estimators=self.config.n_estimators,
            max_samples=self.config.max_samples,
            random_state=self.config.random_state,
        )
