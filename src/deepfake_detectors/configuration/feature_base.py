"""Shared configuration of the feature-based one-class members (Mahalanobis and scikit-learn)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional, Sequence

from .base import DeepfakeDetectorConfig


@lru_cache(maxsize=64)
def _feature_dim(feature_names: tuple[str, ...], image_size: int) -> int:
    import torch

    from ..features import FeatureCache

    with torch.no_grad():
        dummy = torch.rand(2, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
        return int(FeatureCache(dummy).concat(list(feature_names)).shape[1])


def compute_feature_dim(feature_names: Sequence[str], image_size: int = 32) -> int:
    """Total size of the concatenated named features, found by running them on a dummy batch.

    Args:
        feature_names: names from :data:`deepfake_detectors.features.FEATURES`.
        image_size: side of the (square) images the features will see.

    Raises:
        ValueError: for an empty list or an unknown feature name.

    Example:
        >>> compute_feature_dim(["colour_moments"])
        23
    """
    names = tuple(feature_names)
    _check_feature_names(names)
    return _feature_dim(names, int(image_size))


def _check_feature_names(feature_names: Sequence[str]) -> None:
    from ..features import FEATURES

    if not feature_names:
        raise ValueError("feature_names must name at least one feature")
    unknown = [name for name in feature_names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature names {unknown}; known: {sorted(FEATURES)}")
    duplicated = sorted({name for name in feature_names if list(feature_names).count(name) > 1})
    if duplicated:
        raise ValueError(f"feature names listed more than once: {duplicated}")


class FeatureDetectorConfig(DeepfakeDetectorConfig):
    r"""Base config of a detector on named hand-made features.

    Args:
        feature_names (`list[str]`): features from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size (checked at run time); computed from
            ``feature_names`` when not given.
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.
    """

    def __init__(
        self,
        feature_names: Sequence[str] = (),
        feature_dim: Optional[int] = None,
        image_size: int = 32,
        **kwargs: Any,
    ) -> None:
        if isinstance(feature_names, str):
            feature_names = [feature_names]
        self.feature_names = list(feature_names)
        super().__init__(image_size=image_size, **kwargs)
        if self.feature_names:
            _check_feature_names(self.feature_names)
        if feature_dim is None:
            # A bare base config (no features) gets a placeholder size of 1.
            feature_dim = compute_feature_dim(self.feature_names, self.image_size) if self.feature_names else 1
        if int(feature_dim) < 1:
            raise ValueError(f"feature_dim must be at least 1, got {feature_dim}")
        self.feature_dim = int(feature_dim)


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
