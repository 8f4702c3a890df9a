"""Configuration of the Gaussian mixture member."""

from __future__ import annotations

from typing import Any, Sequence

from .feature_base import SklearnDetectorConfig

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


class GaussianMixtureConfig(SklearnDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.GaussianMixtureModel`: a Gaussian mixture density of colour
    features; the score is the negative log-likelihood.

    Args:
        feature_names (`list[str]`, defaults to `["colour_histogram", "colour_moments"]`): features from
            :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (47
            for the defaults).
        n_components (`int`, defaults to 10): mixture components (at least 1; at most the number of training
            images).
        covariance_type (`str`, defaults to `"full"`): one of ``"full"``, ``"tied"``, ``"diag"``, ``"spherical"``.
        reg_covar (`float`, defaults to 1e-3): added to the covariance diagonals (>= 0); keeps full covariances of
            standardised features invertible.
        max_iter (`int`, defaults to 200): EM iterations (at least 1).
        n_init (`int`, defaults to 1): EM restarts; the best is kept (at least 1).
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        sklearn_version (`str`, *optional*): scikit-learn version of the fitted estimator (set by ``fit``).
        random_state (`int`, defaults to 0): seed of the k-means initialisation.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = GaussianMixtureConfig(n_components=4, covariance_type="diag")
        >>> config.feature_dim, config.n_components
        (47, 4)
    """

    model_type = "deepfake-gaussian-mixture"

    def __init__(
        self,
        feature_names: Sequence[str] = ("colour_histogram", "colour_moments"),
        n_components: int = 10,
        covariance_type: str = "full",
        reg_covar: float = 1e-3,
        max_iter: int = 200,
        n_init: int = 1,
        **kwargs: Any,
    ) -> None:
        if int(n_components) < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}")
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}")
        if not float(reg_covar) >= 0.0:
            raise ValueError(f"reg_covar must be >= 0, got {reg_covar}")
        if int(max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1, got {max_iter}")
        if int(n_init) < 1:
            raise ValueError(f"n_init must be at least 1, got {n_init}")
        self.n_components = int(n_components)
        self.covariance_type = covariance_type
        self.reg_covar = float(reg_covar)
        self.max_iter = int(max_iter)
        self.n_init = int(n_init)
        super().__init__(feature_names=feature_names, **kwargs)
