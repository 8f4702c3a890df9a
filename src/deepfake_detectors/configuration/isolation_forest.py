"""Configuration of the isolation forest member."""

from __future__ import annotations

from typing import Any, Sequence, Union

from .feature_base import SklearnDetectorConfig


class IsolationForestConfig(SklearnDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.IsolationForestModel`: an isolation forest on frequency and
    spatial features.

    The features are the radial log power spectrum, the low / mid / high spectral energy shares per channel,
    Sobel gradient statistics at three scales, multi-scale patch statistics and the per-frequency energy of
    the 8x8 block DCT on the JPEG grid.

    Args:
        feature_names (`list[str]`, defaults to `["spectrum_radial", "spectrum_bands", "sobel_stats",
            "patch_stats", "jpeg_dct_stats"]`): features from :data:`deepfake_detectors.features.FEATURES`,
            concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (251
            for the defaults).
        n_estimators (`int`, defaults to 200): number of trees (at least 1).
        max_samples (`str`, `int` or `float`, defaults to `"auto"`): images drawn to grow each tree: ``"auto"``
            (``min(256, n)``), a count >= 1 or a fraction in (0, 1].
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        sklearn_version (`str`, *optional*): scikit-learn version of the fitted estimator (set by ``fit``).
        random_state (`int`, defaults to 0): seed of the forest.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = IsolationForestConfig(n_estimators=50)
        >>> config.feature_dim, config.n_estimators
        (251, 50)
    """

    model_type = "deepfake-isolation-forest"

    def __init__(
        self,
        feature_names: Sequence[str] = (
            "spectrum_radial", "spectrum_bands", "sobel_stats", "patch_stats", "jpeg_dct_stats"
        ),
        n_estimators: int = 200,
        max_samples: Union[str, int, float] = "auto",
        **kwargs: Any,
    ) -> None:
        if int(n_estimators) < 1:
            raise ValueError(f"n_estimators must be at least 1, got {n_estimators}")
        if isinstance(max_samples, str):
            if max_samples != "auto":
                raise ValueError(f"max_samples must be 'auto', an int >= 1 or a float in (0, 1], got {max_samples!r}")
        elif isinstance(max_samples, bool):
            raise ValueError(f"max_samples must be 'auto', an int >= 1 or a float in (0, 1], got {max_samples!r}")
        elif isinstance(max_samples, int):
            if max_samples < 1:
                raise ValueError(f"max_samples must be at least 1 when an int, got {max_samples}")
        elif not 0.0 < float(max_samples) <= 1.0:
            raise ValueError(f"max_samples must be in (0, 1] when a float, got {max_samples}")
        else:
            max_samples = float(max_samples)
        self.n_estimators = int(n_estimators)
        self.max_samples = max_samples
        super().__init__(feature_names=feature_names, **kwargs)
