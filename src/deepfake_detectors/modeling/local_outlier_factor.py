"""Local outlier factor (novelty mode) on multi-scale patch and residual features."""

from __future__ import annotations

from typing import Any

import torch

from ..configuration.local_outlier_factor import LocalOutlierFactorConfig
from .feature_base import SklearnDetectorModel


class LocalOutlierFactorModel(SklearnDetectorModel):
    """scikit-learn ``LocalOutlierFactor(novelty=True)`` on standardised patch features; score =
    ``-score_samples`` = the local outlier factor (about 1 for real-like images, larger for outliers).

    With ``config.projection_dim`` the standardised features are first projected on their leading principal
    components (fitted on the real training images, the ``projection`` buffer of ``model.safetensors``), so that
    LOF, which stores every training vector, can keep many more images in the same file size.

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

    def register_fitted_buffers(self, config: LocalOutlierFactorConfig) -> None:
        super().register_fitted_buffers(config)
        if config.projection_dim is not None:
            self.register_buffer("projection", torch.eye(config.feature_dim, config.projection_dim, dtype=torch.float64))

    def _init_weights(self, module: torch.nn.Module) -> None:
        super()._init_weights(module)
        if module is self and self.config.projection_dim is not None:
            self.projection.copy_(torch.eye(self.config.feature_dim, self.config.projection_dim, dtype=torch.float64))

    def project(self, standardised: torch.Tensor) -> torch.Tensor:
        """Standardised features on the fitted principal components (unchanged without ``projection_dim``)."""
        if self.config.projection_dim is None:
            return standardised
        return standardised @ self.projection.to(standardised)

    def fit_projection(self, standardised: torch.Tensor) -> None:
        """Principal axes of the standardised real features (mean 0 by construction); with fewer images than
        ``projection_dim`` the extra columns are 0."""
        _, _, right = torch.linalg.svd(standardised.to(torch.float64), full_matrices=False)
        axes = right[: self.config.projection_dim].T
        self.projection.zero_()
        self.projection[:, : axes.shape[1]] = axes

    def build_estimator(self) -> Any:
        from sklearn.neighbors import LocalOutlierFactor

        # Brute-force neighbours: exact, what "auto" picks for these >15-dim features anyway, and no KD/ball tree
        # types in estimator.skops.
        return LocalOutlierFactor(n_neighbors=self.config.n_neighbors, novelty=True, algorithm="brute")

    def fit_features(self, standardised: torch.Tensor) -> None:
        """Fit the projection on every real image, then LOF on at most ``config.max_fit_samples`` of them (a seeded
        random subset), stored in float32."""
        if self.config.projection_dim is not None:
            self.fit_projection(standardised)
            standardised = self.project(standardised)
        limit = self.config.max_fit_samples
        if limit is not None and standardised.shape[0] > limit:
            generator = torch.Generator().manual_seed(self.config.random_state)
            keep = torch.randperm(standardised.shape[0], generator=generator)[:limit].sort().values
            standardised = standardised[keep.to(standardised.device)]
        super().fit_features(standardised.float())

    def score_features(self, standardised: torch.Tensor) -> torch.Tensor:
        return super().score_features(self.project(standardised).float())
