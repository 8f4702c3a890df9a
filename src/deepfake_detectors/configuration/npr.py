"""Configuration of the NPR detector: a small residual CNN on neighbouring-pixel relationships."""

from __future__ import annotations

from typing import Any, Sequence

from .base import CROP_AGGREGATIONS, DeepfakeDetectorConfig


class NprDetectorConfig(DeepfakeDetectorConfig):
    r"""Configuration of :class:`~deepfake_detectors.NprDetectorForImageClassification`.

    The idea is NPR (Tan et al., "Rethinking the Up-Sampling Operations in CNN-based Generative Network for
    Generalizable Deepfake Detection", CVPR 2024): every image generator ends with up-sampling layers, which tie
    the pixels of each 2 x 2 block together. The network sees the *neighbouring pixel relationships*, the
    residual between the image and its 2x nearest-neighbour down-and-up-sampled copy, instead of the image, so
    it learns those traces rather than content or style. It runs on native-resolution crops
    (:class:`~deepfake_detectors.NativeCropImageProcessor`) and averages the crops' logits.

    Args:
        hidden_sizes (`list[int]`, defaults to `[32, 64, 128, 128]`): channels of the residual stages; every
            stage but the last halves the resolution. A 3 x 3 stem at full resolution comes first, so no pixel
            pair is skipped before the first convolution.
        residual_scale (`float`, defaults to 4.0): factor applied to the NPR residual (it is small next to the
            [0, 1] image).
        crop_aggregation (`str`, defaults to `"mean_logit"`): how the crops' fake logits of one image are
            combined: ``"mean_logit"``, ``"max_logit"`` or ``"top2_mean_logit"``.
        dropout (`float`, defaults to 0.0): dropout before the final linear layer.
        num_labels (`int`, defaults to 2): must be 2 (``id2label = {0: "real", 1: "fake"}``).
        kwargs: passed to :class:`~deepfake_detectors.configuration.base.DeepfakeDetectorConfig`
            (``image_size`` is the training crop size, ``calibration``...).

    Example:
        >>> config = NprDetectorConfig(hidden_sizes=[8, 16])
        >>> config.crop_aggregation, config.id2label[1]
        ('mean_logit', 'fake')
    """

    model_type = "deepfake-npr"
    #: ``balanced`` (about 5% of real validation photos flagged): ``optimal`` (best F1 on wild validation) sits
    #: lower and flags more real photos, the costlier error for someone checking one photo.
    default_threshold_name = "balanced"
    #: Trainer's ``predictions`` are the logits only (``scores`` is the same information).
    keys_to_ignore_at_inference = ["scores"]

    def __init__(
        self,
        hidden_sizes: Sequence[int] = (32, 64, 128, 128),
        residual_scale: float = 4.0,
        crop_aggregation: str = "mean_logit",
        dropout: float = 0.0,
        num_labels: int = 2,
        image_size: int = 96,
        **kwargs: Any,
    ) -> None:
        hidden_sizes = [int(h) for h in hidden_sizes]
        if not hidden_sizes or any(h < 1 for h in hidden_sizes):
            raise ValueError(f"hidden_sizes must be a non-empty list of positive ints, got {hidden_sizes}")
        if not float(residual_scale) > 0:
            raise ValueError(f"residual_scale must be positive, got {residual_scale}")
        if crop_aggregation not in CROP_AGGREGATIONS:
            raise ValueError(f"crop_aggregation must be one of {CROP_AGGREGATIONS}, got {crop_aggregation!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if int(num_labels) != 2:
            raise ValueError(f"num_labels must be 2 (real = 0, fake = 1), got {num_labels}")
        self.hidden_sizes = hidden_sizes
        self.residual_scale = float(residual_scale)
        self.crop_aggregation = crop_aggregation
        self.dropout = float(dropout)
        kwargs["num_channels"] = 3
        super().__init__(image_size=image_size, num_labels=2, **kwargs)
