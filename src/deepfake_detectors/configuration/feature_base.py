"""Shared configuration of the feature-based one-class members (Mahalanobis and scikit-learn)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .base import DeepfakeDetectorConfig


class FeatureDetectorConfig(DeepfakeDetectorConfig):
    r"""Base config of a detector on named hand-made features.

    Args:
        feature_names (`list[str]`): features from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`): total feature size (checked at run time).
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.
    """

    def __init__(
        self,
        feature_names: Sequence[str] = (),
        feature_dim: int = 1,
        image_size: int = 32,
        **kwargs: Any,
    ) -> None:
        self.feature_names = list(feature_names)
        self.feature_dim = int(feature_dim)
        super().__init__(image_size=image_size, **kwargs)


class SklearnDetectorConfig(FeatureDetectorConfig):
    r"""Base config of a scikit-learn member; the estimator itself lives in ``estimator.skops``.

    Args:
        sklearn_version (`str`, *optional*): the scikit-learn version the estimator was fitted with (recorded by
            ``fit``; loading with another version warns).
        random_state (`int`, defaults to 0): seed of randomised estimators.
    """

    def __init__(self, sklearn_version: Optional[str] = None, random_state: int = 0, **kwargs: Any) -> None:
        self.sklearn_version = sklearn_version
        self.random_state = int(random_state)
        super().__init__(**kwargs)
