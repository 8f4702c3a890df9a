"""Configuration of the local outlier factor member."""

from __future__ import annotations

from typing import Any, Sequence

from .feature_base import SklearnDetectorConfig


class LocalOutlierFactorConfig(SklearnDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.LocalOutlierFactorModel`: local outlier factor (novelty
    mode) on multi-scale patch features.

    The features describe how contrast and fine detail are spread over 4x4 and 2x2 patch grids, plus high-pass
    residual statistics at two scales.

    Args:
        feature_names (`list[str]`, defaults to `["patch_stats", "highpass_stats"]`): features from
            :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (50
            for the defaults).
        n_neighbors (`int`, defaults to 20): neighbours defining the local density (at least 1; scikit-learn
            uses ``n - 1`` when fewer training images are given).
        novelty (`bool`, defaults to `True`): must be `True`: new images are scored against the fitted real
            images (``score_samples`` only exists in novelty mode).
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        sklearn_version (`str`, *optional*): scikit-learn version of the fitted estimator (set by ``fit``).
        random_state (`int`, defaults to 0): unused by LOF, kept for a uniform interface.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = LocalOutlierFactorConfig(n_neighbors=10)
        >>> config.feature_dim, config.novelty
        (50, True)
    """

    model_type = "deepfake-local-outlier-factor"

    def __init__(
        self,
        feature_names: Sequence[str] = ("patch_stats", "highpass_stats"),
        n_neighbors: int = 20,
        novelty: bool = True,
        **kwargs: Any,
    ) -> None:
        if int(n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}")
        if novelty is not True:
            raise ValueError("novelty must be True: the detector scores new images against the fitted real images")
        self.n_neighbors = int(n_neighbors)
        self.novelty = True
        super().__init__(feature_names=feature_names, **kwargs)
