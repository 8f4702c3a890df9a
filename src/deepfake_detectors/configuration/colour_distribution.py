"""Configuration of the colour-distribution (Mahalanobis) member."""

from __future__ import annotations

from typing import Any, Sequence

from .feature_base import FeatureDetectorConfig


class ColourDistributionConfig(FeatureDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.ColourDistributionModel`: squared Mahalanobis distance of
    colour features to the Gaussian of real images.

    Everything fitted (feature mean, scale and the Ledoit-Wolf precision matrix) is stored as torch buffers in
    ``model.safetensors``; no scikit-learn object is persisted.

    Args:
        feature_names (`list[str]`, defaults to `["colour_histogram", "colour_moments"]`): features from
            :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (47
            for the defaults).
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> ColourDistributionConfig().feature_dim
        47
    """

    model_type = "deepfake-colour-distribution"

    def __init__(
        self, feature_names: Sequence[str] = ("colour_histogram", "colour_moments"), **kwargs: Any
    ) -> None:
        super().__init__(feature_names=feature_names, **kwargs)
