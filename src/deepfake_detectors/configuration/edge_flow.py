"""Configuration of the edge-statistics normalizing flow."""

from __future__ import annotations

from typing import Any

from .base import DeepfakeDetectorConfig


class EdgeFlowConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.EdgeFlowModel`.

    The model describes each image's edges at ``num_scales`` scales, standardises them with statistics of real
    training images, optionally whitens them (a full-covariance linear flow layer fitted on real images) and
    models their density with a RealNVP normalizing flow. The score is the negative log-likelihood. Two edge
    representations are available (``edge_representation``):

    - ``"wavelet"`` (default): every detail coefficient of the orthonormal Haar wavelet transform of the luma at
      ``num_scales`` levels (horizontal, vertical and diagonal edges at each position and scale; ``image_size``
      squared minus the final low-pass image, 1008 values at 32 px). The flow sees where each edge is, so it can
      model how detail sits on the 8x8 JPEG grid.
    - ``"statistics"``: a 48-value summary of Sobel edges per scale (log histograms of the gradient magnitude and
      of the edge orientation, orientation coherence and edge energy).

    Args:
        image_size (`int`, defaults to 32): side of the images the processor makes (any side >= 8 works; with the
            wavelet edges, a multiple of ``2 ** num_scales``).
        num_channels (`int`, defaults to 3): input channels (RGB).
        num_scales (`int`, defaults to 3): pyramid levels (full, half, quarter resolution...).
        edge_representation (`str`, defaults to `"wavelet"`): `"wavelet"` or `"statistics"` (see above).
        whiten (`bool`, defaults to `True`): after standardising, apply the inverse Cholesky factor of the
            Ledoit-Wolf covariance of real training features (fitted by ``fit_initial_statistics``; its log-determinant
            is part of the likelihood), so the couplings start from a full Gaussian rather than independent
            features.
        magnitude_bins (`int`, defaults to 8): log-spaced gradient-magnitude histogram bins per scale
            (``"statistics"`` only, as are the next two).
        orientation_bins (`int`, defaults to 4): magnitude-weighted orientation histogram bins per scale (over 180
            degrees).
        magnitude_range (`list[float]`, defaults to `[1e-3, 0.5]`): the gradient magnitudes (of [0, 1] images,
            Sobel normalised by 8) covered by the histogram; values outside fall into the end bins.
        num_coupling_layers (`int`, defaults to 8): affine coupling layers (the masks alternate between layers).
        hidden_size (`int`, defaults to 128): width of the two hidden layers of each coupling network.
        max_log_scale (`float`, defaults to 1.0): bound of the tanh-limited log-scales of the couplings (keeps the
            flow from stretching directions that are degenerate on the training data without limit).
        min_feature_std (`float`, defaults to 0.05): floor of the standard deviations used to standardise features.
        soft_clip (`float`, defaults to 5.0): the standardised features ``x`` enter the flow as
            ``c * asinh(x / c)`` (identity near 0, logarithmic growth beyond ``c`` standard deviations; its
            log-determinant is part of the likelihood), so a feature that is nearly constant on real images cannot
            dominate the score with values in the millions. 0 disables it.
        calibration (`dict`, *optional*): stored real-score statistics and thresholds.

    Example:
        >>> EdgeFlowConfig().feature_dim
        1008
        >>> EdgeFlowConfig(edge_representation="statistics", num_scales=3, magnitude_bins=8).feature_dim
        48
    """

    model_type = "deepfake-edge-flow"

    #: Per-scale scalars besides the histograms: mean and std of local coherence, global coherence, log energy.
    SCALARS_PER_SCALE = 4
    EDGE_REPRESENTATIONS = ("wavelet", "statistics")

    def __init__(
        self,
        image_size: int = 32,
        num_channels: int = 3,
        num_scales: int = 3,
        edge_representation: str = "wavelet",
        whiten: bool = True,
        magnitude_bins: int = 8,
        orientation_bins: int = 4,
        magnitude_range: tuple[float, float] = (1e-3, 0.5),
        num_coupling_layers: int = 8,
        hidden_size: int = 128,
        max_log_scale: float = 1.0,
        min_feature_std: float = 0.05,
        soft_clip: float = 5.0,
        **kwargs: Any,
    ) -> None:
        if int(num_channels) != 3:
            raise ValueError(f"num_channels must be 3 (RGB input), got {num_channels}")
        if not 1 <= int(num_scales) <= 5:
            raise ValueError(f"num_scales must be between 1 and 5, got {num_scales}")
        if int(image_size) // 2 ** (int(num_scales) - 1) < 4:
            raise ValueError(f"image_size {image_size} is too small for {num_scales} scales (coarsest side < 4)")
        if edge_representation not in self.EDGE_REPRESENTATIONS:
            raise ValueError(f"edge_representation must be one of {self.EDGE_REPRESENTATIONS}, got {edge_representation!r}")
        if edge_representation == "wavelet" and int(image_size) % 2 ** int(num_scales):
            raise ValueError(f"image_size {image_size} must be divisible by 2 ** num_scales for the wavelet edges")
        if int(magnitude_bins) < 2:
            raise ValueError(f"magnitude_bins must be >= 2, got {magnitude_bins}")
        if int(orientation_bins) < 2:
            raise ValueError(f"orientation_bins must be >= 2, got {orientation_bins}")
        low, high = (float(v) for v in magnitude_range)
        if not 0 < low < high:
            raise ValueError(f"magnitude_range must be (low, high) with 0 < low < high, got {magnitude_range}")
        if int(num_coupling_layers) < 2:
            raise ValueError(
                f"num_coupling_layers must be >= 2 (so both halves get transformed), got {num_coupling_layers}"
            )
        if int(hidden_size) < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size}")
        if not float(max_log_scale) > 0:
            raise ValueError(f"max_log_scale must be > 0, got {max_log_scale}")
        if not float(min_feature_std) > 0:
            raise ValueError(f"min_feature_std must be > 0, got {min_feature_std}")
        self.num_scales = int(num_scales)
        self.edge_representation = edge_representation
        self.whiten = bool(whiten)
        self.magnitude_bins = int(magnitude_bins)
        self.orientation_bins = int(orientation_bins)
        self.magnitude_range = [low, high]
        self.num_coupling_layers = int(num_coupling_layers)
        self.hidden_size = int(hidden_size)
        self.max_log_scale = float(max_log_scale)
        self.min_feature_std = float(min_feature_std)
        if float(soft_clip) < 0:
            raise ValueError(f"soft_clip must be >= 0 (0 disables it), got {soft_clip}")
        self.soft_clip = float(soft_clip)
        super().__init__(image_size=image_size, num_channels=num_channels, **kwargs)

    @property
    def feature_dim(self) -> int:
        """Length of the edge feature vector the flow models."""
        if self.edge_representation == "wavelet":
            return self.image_size**2 - (self.image_size // 2**self.num_scales) ** 2
        return self.num_scales * (self.magnitude_bins + self.orientation_bins + self.SCALARS_PER_SCALE)
