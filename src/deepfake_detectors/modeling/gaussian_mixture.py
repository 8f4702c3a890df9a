"""Gaussian mixture density of colour features; score = negative log-likelihood."""

from __future__ import annotations

from typing import Any

from ..configuration.gaussian_mixture import GaussianMixtureConfig
from .feature_base import SklearnDetectorModel


class GaussianMixtureModel(SklearnDetectorModel):
    """scikit-learn ``GaussianMixture`` on standardised colour histograms and moments; score = ``-score_samples``
    = the negative log-likelihood of the image's features under the mixture fitted on real images.

    Args:
        config: a :class:`GaussianMixtureConfig`.

    Example:
        >>> model = GaussianMixtureModel(GaussianMixtureConfig(n_components=2))
        >>> real = torch.rand(40, 3, 32, 32)  # images in [0, 1]
        >>> model = model.fit(model.features(real))
        >>> model(torch.rand(2, 3, 32, 32)).scores.shape
        torch.Size([2])
    """

    config_class = GaussianMixtureConfig
    base_model_prefix = "gaussian_mixture"

    def build_estimator(self) -> Any:
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(
            n_components=self.config.n_components,
            covariance_type=self.config.covariance_type,
            reg_covar=self.config.reg_covar,
            max_iter=self.config.max_iter,
            n_init=self.config.n_init,
            random_state=self.config.random_state,
        )
