"""Configuration of the local outlier factor member."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .feature_base import SklearnDetectorConfig


class LocalOutlierFactorConfig(SklearnDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.LocalOutlierFactorModel`: local outlier factor (novelty
    mode) on multi-scale patch features.

    The features describe how contrast and fine detail are spread over 4x4 and 2x2 patch grids, the
    per-frequency energy of the 8x8 patches of the block DCT (JPEG grid), and how unevenly those 8x8 patches carry
    detail (``jpeg_block_profile``). The high-pass residual statistics are not in the defaults.

    The neighbour search runs on the first ``projection_dim`` principal components of the standardised features.
    LOF keeps every training vector, so the projection is what lets it keep all 20,000 real CIFAKE training
    images in a few MB (48 components: about 5.6 MB). The member's measured figures are in the ensemble's card.

    Args:
        feature_names (`list[str]`, defaults to `["patch_stats", "jpeg_dct_stats", "jpeg_block_profile"]`):
            features from :data:`deepfake_detectors.features.FEATURES`, concatenated.
        feature_dim (`int`, *optional*): total feature size; computed from ``feature_names`` when not given (270
            for the defaults).
        n_neighbors (`int`, defaults to 20): neighbours defining the local density (at least 1; scikit-learn
            uses ``n - 1`` when fewer training images are given).
        novelty (`bool`, defaults to `True`): must be `True`: new images are scored against the fitted real
            images (``score_samples`` only exists in novelty mode).
        max_fit_samples (`int`, *optional*, defaults to 20000): LOF keeps every training vector in
            ``estimator.skops``; at most this many real images (a random subset drawn with ``random_state``) are
            kept, in float32, so the artifact stays a few MB. `None` keeps all.
        projection_dim (`int`, *optional*, defaults to 48): principal components (of the standardised real
            training features, a ``projection`` buffer in ``model.safetensors``) the neighbours are searched on;
            `None` uses every feature; capped at ``feature_dim``. Each kept image costs ``4 * (projection_dim + n_neighbors + 2)`` bytes.
        image_size (`int`, defaults to 32): the image processor resizes every input to this side.
        sklearn_version (`str`, *optional*): scikit-learn version of the fitted estimator (set by ``fit``).
        random_state (`int`, defaults to 0): seed of the subset drawn for ``max_fit_samples``.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> config = LocalOutlierFactorConfig(n_neighbors=10)
        >>> config.feature_dim, config.novelty
        (270, True)
    """

    model_type = "deepfake-local-outlier-factor"

    def __init__(
        self,
        feature_names: Sequence[str] = ("patch_stats", "jpeg_dct_stats", "jpeg_block_profile"),
        n_neighbors: int = 20,
        novelty: bool = True,
        max_fit_samples: Optional[int] = 20000,
        projection_dim: Optional[int] = 48,
        **kwargs: Any,
    ) -> None:
        if int(n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be at least 1, got {n_neighbors}")
        if novelty is not True:
            raise ValueError("novelty must be True: the detector scores new images against the fitted real images")
        if max_fit_samples is not None and int(max_fit_samples) <= int(n_neighbors):
            raise ValueError(f"max_fit_samples must exceed n_neighbors ({n_neighbors}), got {max_fit_samples}")
        if projection_dim is not None and int(projection_dim) < 1:
            raise ValueError(f"projection_dim must be None or at least 1, got {projection_dim}")
        self.max_fit_samples = None if max_fit_samples is None else int(max_fit_samples)
        self.projection_dim = None if projection_dim is None else int(projection_dim)
        self.n_neighbors = int(n_neighbors)
        self.novelty = True
        super().__init__(feature_names=feature_names, **kwargs)
        if self.projection_dim is not None:
            self.projection_dim = min(self.projection_dim, self.feature_dim)
