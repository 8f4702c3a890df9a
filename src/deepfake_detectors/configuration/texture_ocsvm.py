"""Configuration of the texture one-class SVM member."""

from __future__ import annotations

from typing import Any, Sequence, Union

from .feature_base import SklearnDetectorConfig

KERNELS = ("linear", "poly", "rbf", "sigmoid")


class TextureOCSVMConfig(SklearnDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.TextureOCSVMModel`: a one-class SVM on texture features.

    Texture is described by rotation-invariant LBP histograms at two scales, grey-level co-occurrence
    statistics, high-pass residual statistics and the per-frequency energy of the 8x8 block DCT (JPEG
    grid); the features are standardised on the real training images.

    Args:
        feature_names (`list[str]`, defaults to `["lbp_histogram", "glcm_stats", "highpass_stats",
            "jpeg_dct_stats"]`): features from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (264
            for the defaults).
        nu (`float`, defaults to 0.03): upper bound on the share of training images treated as outliers, in
            (0, 1].
        kernel (`str`, defaults to `"rbf"`): one of ``"linear"``, ``"poly"``, ``"rbf"``, ``"sigmoid"``.
        gamma (`str` or `float`, defaults to `"scale"`): kernel coefficient, ``"scale"``, ``"auto"`` or a
            positive number.
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        sklearn_version (`str`, *optional*): scikit-learn version of the fitted estimator (set by ``fit``).
        random_state (`int`, defaults to 0): unused by the SVM, kept for a uniform interface.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = TextureOCSVMConfig(nu=0.05)
        >>> config.feature_dim, config.kernel
        (264, 'rbf')
    """

    model_type = "deepfake-texture-ocsvm"

    def __init__(
        self,
        feature_names: Sequence[str] = ("lbp_histogram", "glcm_stats", "highpass_stats", "jpeg_dct_stats"),
        nu: float = 0.03,
        kernel: str = "rbf",
        gamma: Union[str, float] = "scale",
        **kwargs: Any,
    ) -> None:
        if not 0.0 < float(nu) <= 1.0:
            raise ValueError(f"nu must be in (0, 1], got {nu}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
        if isinstance(gamma, str):
            if gamma not in ("scale", "auto"):
                raise ValueError(f"gamma must be 'scale', 'auto' or a positive number, got {gamma!r}")
        elif isinstance(gamma, bool) or not float(gamma) > 0:
            raise ValueError(f"gamma must be 'scale', 'auto' or a positive number, got {gamma!r}")
        else:
            gamma = float(gamma)
        self.nu = float(nu)
        self.kernel = kernel
        self.gamma = gamma
        super().__init__(feature_names=feature_names, **kwargs)
