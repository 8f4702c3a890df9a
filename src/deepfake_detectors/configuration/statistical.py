"""Configuration of the multi-scale statistics (Mahalanobis) member."""

from __future__ import annotations

from typing import Any, Sequence

from .feature_base import FeatureDetectorConfig


class StatisticalConfig(FeatureDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.StatisticalModel`: squared Mahalanobis distance of edge,
    residual and colour statistics to the Gaussian of real images.

    The features are Sobel gradient statistics at three scales, high-pass residual statistics at two scales and
    colour moments. Everything fitted is stored as torch buffers in ``model.safetensors``.

    Args:
        feature_names (`list[str]`, defaults to `["sobel_stats", "highpass_stats", "colour_moments"]`): features
            from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (83
            for the defaults).
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> StatisticalConfig().feature_dim
        83
    """

    model_type = "deepfake-statistical"

    def __init__(
        self,
        feature_names: Sequence[str] = ("sobel_stats", "highpass_stats", "colour_moments"),
        **kwargs: Any,
    ) -> None:
        super().__init__(feature_names=feature_names, **kwargs)
